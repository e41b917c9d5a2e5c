"""SCMP_ACT_* names <-> SECCOMP_RET_* values (the 32-bit words a filter returns)."""

from __future__ import annotations

import errno as _errno

from ocitool.errors import SeccompError

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_KILL_THREAD = 0x00000000
SECCOMP_RET_TRAP = 0x00030000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_RET_TRACE = 0x7FF00000
SECCOMP_RET_LOG = 0x7FFC0000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ACTION_FULL = 0xFFFF0000
SECCOMP_RET_DATA = 0x0000FFFF

# libseccomp's default "bad arch" action is SCMP_ACT_KILL (= KILL_THREAD); runc keeps it.
BAD_ARCH_RET = SECCOMP_RET_KILL_THREAD

_BASE: dict[str, int] = {
    "SCMP_ACT_KILL": SECCOMP_RET_KILL_THREAD,
    "SCMP_ACT_KILL_THREAD": SECCOMP_RET_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": SECCOMP_RET_KILL_PROCESS,
    "SCMP_ACT_TRAP": SECCOMP_RET_TRAP,
    "SCMP_ACT_ERRNO": SECCOMP_RET_ERRNO,
    "SCMP_ACT_TRACE": SECCOMP_RET_TRACE,
    "SCMP_ACT_ALLOW": SECCOMP_RET_ALLOW,
    "SCMP_ACT_LOG": SECCOMP_RET_LOG,
    "SCMP_ACT_NOTIFY": SECCOMP_RET_USER_NOTIF,
}
ACTION_NAMES = tuple(_BASE)
_WITH_DATA = {"SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"}
_RET_NAMES = {
    SECCOMP_RET_KILL_PROCESS: "KILL_PROCESS",
    SECCOMP_RET_KILL_THREAD: "KILL_THREAD",
    SECCOMP_RET_TRAP: "TRAP",
    SECCOMP_RET_ERRNO: "ERRNO",
    SECCOMP_RET_USER_NOTIF: "NOTIFY",
    SECCOMP_RET_TRACE: "TRACE",
    SECCOMP_RET_LOG: "LOG",
    SECCOMP_RET_ALLOW: "ALLOW",
}
DEFAULT_ERRNO = _errno.EPERM


def action_value(name: str, errno_ret: int | None = None, *, pointer: str = "") -> int:
    """The SECCOMP_RET_* word for an OCI action; ERRNO/TRACE default their data to EPERM."""
    if name not in _BASE:
        raise SeccompError(
            f"unknown seccomp action {name!r}",
            code="OCI403",
            pointer=pointer,
            expected="one of " + ", ".join(ACTION_NAMES),
        )
    if name in _WITH_DATA:
        data = DEFAULT_ERRNO if errno_ret is None else errno_ret
        if not 0 <= data <= SECCOMP_RET_DATA:
            raise SeccompError(
                f"errnoRet {data} does not fit in 16 bits",
                code="OCI404",
                pointer=pointer,
                expected="an integer 0..65535",
            )
        return _BASE[name] | data
    return _BASE[name]


def action_kind(ret: int) -> str:
    """Which action a full return word means, the way the kernel decodes it."""
    full = ret & SECCOMP_RET_ACTION_FULL
    if full in _RET_NAMES:
        return _RET_NAMES[full]
    # the kernel treats unknown actions as KILL_PROCESS
    return "KILL_PROCESS"


def action_text(ret: int) -> str:
    """``ERRNO(EPERM)``, ``TRACE(5)``, ``ALLOW`` ... for listings and explanations."""
    kind = action_kind(ret)
    data = ret & SECCOMP_RET_DATA
    if kind == "ERRNO":
        return f"ERRNO({_errno.errorcode.get(data, str(data))})"
    if kind == "TRACE":
        return f"TRACE({data})"
    if ret & SECCOMP_RET_ACTION_FULL not in _RET_NAMES:
        return f"KILL_PROCESS /* unknown {ret:#010x} */"
    return kind
