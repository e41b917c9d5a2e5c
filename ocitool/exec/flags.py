"""Names in plan ops -> the kernel's numbers (Linux UAPI values)."""

from __future__ import annotations

from ocitool.exec.syscalls import TYPE_CHECKING, exec_error
from ocitool.kernel import constants as K
from ocitool.spec.facts import MPOL_MODES, RLIM_INFINITY

if TYPE_CHECKING:
    from collections.abc import Iterable

# The kernel's numbers, generated from its headers (tools/gen_kernel_constants.py).
CLONE = K.CLONE
MOUNT = K.MS
UMOUNT = K.UMOUNT
MOUNT_ATTR = K.MOUNT_ATTR
RLIMITS = K.RLIMIT
MS_RDONLY, MS_BIND, MS_REC, MS_REMOUNT = K.MS_RDONLY, K.MS_BIND, K.MS_REC, K.MS_REMOUNT
AT_RECURSIVE = K.AT_RECURSIVE
# statvfs f_flag bits (ST_*) -> the MS_* flag a bind remount must keep
_LOCKED = ((2, 2), (4, 4), (8, 8), (1024, 1024), (2048, 2048), (4096, 1 << 21))

SCHED_FLAGS = K.SCHED_FLAG
MEMPOLICY_MODES = MPOL_MODES
MEMPOLICY_FLAGS = K.MPOL_F
SECCOMP_FLAGS = K.SECCOMP_FILTER_FLAG


def _combine(table: dict[str, int], names: Iterable[str], what: str) -> int:
    value = 0
    for name in names:
        try:
            value |= table[name]
        except KeyError:
            raise exec_error(f"unknown {what} {name!r} in plan") from None
    return value


def clone_flags(names: Iterable[str]) -> int:
    return _combine(CLONE, names, "namespace flag")


def mount_flags(names: Iterable[str]) -> int:
    return _combine(MOUNT, names, "mount flag")


def umount_flags(names: Iterable[str]) -> int:
    return _combine(UMOUNT, names, "umount flag")


def mount_attrs(names: Iterable[str]) -> int:
    return _combine(MOUNT_ATTR, names, "mount attribute")


def sched_flags(names: Iterable[str]) -> int:
    return _combine(SCHED_FLAGS, names, "sched flag")


def mempolicy_flags(names: Iterable[str]) -> int:
    return _combine(MEMPOLICY_FLAGS, names, "mempolicy flag")


def seccomp_flags(names: Iterable[str]) -> int:
    return _combine(SECCOMP_FLAGS, names, "seccomp flag")


def locked_flags(st_flag: int) -> int:
    """The MS_* flags a bind remount must repeat so the kernel does not refuse it."""
    return sum(ms for st, ms in _LOCKED if st_flag & st)


def rlimit(name: str) -> int:
    try:
        return RLIMITS[name]
    except KeyError:
        raise exec_error(f"unknown rlimit {name!r} in plan") from None


def rlim(value: int) -> int:
    return RLIM_INFINITY if value < 0 or value >= RLIM_INFINITY else value


def cpu_list(text: str) -> list[int]:
    """``0-3,7`` -> [0, 1, 2, 3, 7]."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def signal_number(name: str | int) -> int:
    import _signal as signal

    if isinstance(name, int) or str(name).isdigit():
        return int(name)
    text = str(name).upper()
    if not text.startswith("SIG"):
        text = "SIG" + text
    return int(getattr(signal, text))


_LAST_CAP: list[int] = []


def cap_last_cap() -> int:
    """The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap)."""
    if not _LAST_CAP:
        try:
            with open("/proc/sys/kernel/cap_last_cap") as f:
                _LAST_CAP.append(int(f.read()))
        except OSError:
            _LAST_CAP.append(40)
    return _LAST_CAP[0]
