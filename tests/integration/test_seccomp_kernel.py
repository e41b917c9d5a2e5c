"""The emulator against the real kernel: load our filter in a forked child (no_new_privs +
seccomp(SECCOMP_SET_MODE_FILTER)), make real syscalls, compare errno / signal with what the
emulator predicts. Loading a filter needs no root (no_new_privs is enough)."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ocitool.seccomp.arch import host_arch
from ocitool.seccomp.compiler import CompiledFilter, compile_seccomp
from ocitool.seccomp.emulator import emulate
from ocitool.seccomp.tables import syscall_number

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "seccomp"
ARCH = host_arch()
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
M64 = 0xFFFFFFFFFFFFFFFF


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def nr(name: str) -> int:
    n = syscall_number(ARCH, name)
    assert n is not None, name
    return n


def _load_and_call(
    f: CompiledFilter, calls: Sequence[tuple[int, tuple[int, ...]]], wfd: int
) -> None:
    """Child side: install the filter, make each call, write one JSON line per result."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.restype = ctypes.c_int
    raw = f.raw()
    buf = ctypes.create_string_buffer(raw, len(raw))
    prog = SockFprog(len(f.instructions), ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        os._exit(90)
    rc = libc.syscall(
        ctypes.c_long(nr("seccomp")),
        ctypes.c_long(SECCOMP_SET_MODE_FILTER),
        ctypes.c_long(0),
        ctypes.byref(prog),
    )
    if rc != 0:
        os.write(wfd, f"load failed {ctypes.get_errno()}\n".encode())
        os._exit(91)
    out = []
    for n, args in calls:
        ctypes.set_errno(0)
        r = libc.syscall(ctypes.c_long(n), *[ctypes.c_ulong(a & M64) for a in args])
        out.append([r, ctypes.get_errno() if r == -1 else 0])
    os.write(wfd, (json.dumps(out) + "\n").encode())
    os._exit(0)


def run_in_child(
    f: CompiledFilter, calls: Sequence[tuple[int, tuple[int, ...]]]
) -> tuple[Any, int]:
    """(list of [ret, errno] or None, wait status)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        try:
            _load_and_call(f, calls, w)
        finally:
            os._exit(92)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    line = data.decode().strip()
    return (json.loads(line) if line.startswith("[") else line or None), status


def expect(f: CompiledFilter, n: int, args: tuple[int, ...]) -> tuple[str, int]:
    em = emulate(f, ARCH, n, args + (0,) * (6 - len(args)))
    if em.action == "ERRNO":
        return "errno", em.errno or 0
    if em.action in ("TRACE", "NOTIFY"):
        return "errno", errno.ENOSYS  # no tracer / no listener: the kernel answers ENOSYS
    if em.action in ("KILL_THREAD", "KILL_PROCESS", "TRAP"):
        return "signal", signal.SIGSYS
    return "ran", 0


def _check(f: CompiledFilter, calls: list[tuple[int, tuple[int, ...]]]) -> int:
    """Run non-fatal calls together, fatal ones one child each; return calls checked."""
    batch = [(n, a) for n, a in calls if expect(f, n, a)[0] != "signal"]
    results, status = run_in_child(f, batch)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (results, status)
    for (n, a), (ret, err) in zip(batch, results, strict=True):
        kind, value = expect(f, n, a)
        if kind == "errno":
            assert (ret, err) == (-1, value), (n, a, ret, err)
        else:  # allowed: whatever the syscall itself says, but not a filter errno
            assert ret >= 0 or err not in (77, 78, 79), (n, a, ret, err)
    for n, a in calls:
        if expect(f, n, a)[0] == "signal":
            _, status = run_in_child(f, [(n, a)])
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS, (n, a, status)
    return len(calls)


@pytest.fixture(autouse=True)
def _linux_only() -> None:
    if not hasattr(os, "fork") or not Path("/proc/self/status").exists():
        pytest.skip("needs Linux")
    if "Seccomp:" not in Path("/proc/self/status").read_text():
        pytest.skip("kernel without seccomp")


def test_custom_profile_every_action_and_64_bit_args() -> None:
    # default ALLOW so the Python runtime keeps working after the filter is loaded
    prof = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77},
            {
                "names": ["getpriority"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": 78,
                "args": [{"index": 1, "value": 1 << 32, "op": "SCMP_CMP_GE"}],
            },
            {
                "names": ["getpriority"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": 79,
                "args": [{"index": 0, "value": 0xF0, "valueTwo": 0x30, "op": "SCMP_CMP_MASKED_EQ"}],
            },
            {"names": ["sched_yield"], "action": "SCMP_ACT_TRACE"},
            {
                "names": ["getpgid"],
                "action": "SCMP_ACT_KILL_PROCESS",
                "args": [{"index": 0, "value": 0xDEAD, "op": "SCMP_CMP_EQ"}],
            },
            {
                "names": ["getsid"],
                "action": "SCMP_ACT_TRAP",
                "args": [{"index": 0, "value": 0xBEEF, "op": "SCMP_CMP_EQ"}],
            },
            {"names": ["umask"], "action": "SCMP_ACT_LOG"},
            {"names": ["getuid"], "action": "SCMP_ACT_KILL"},
        ],
    }
    f = compile_seccomp(prof, ARCH)
    calls = [
        (nr("getpid"), ()),
        (nr("getppid"), ()),
        (nr("getppid"), (M64, M64)),
        (nr("getpriority"), (0, 0)),
        (nr("getpriority"), (0, (1 << 32) - 1)),
        (nr("getpriority"), (0, 1 << 32)),
        (nr("getpriority"), (0, M64)),
        (nr("getpriority"), (0x30, 0)),
        (nr("getpriority"), (0x1_0000_0135, 0)),
        (nr("sched_yield"), ()),
        (nr("umask"), (0o22,)),
        (nr("getpgid"), (0,)),
        (nr("getpgid"), (0xDEAD,)),
        (nr("getpgid"), ((1 << 32) | 0xDEAD,)),
        (nr("getsid"), (0xBEEF,)),
        (nr("getuid"), ()),
    ]
    assert _check(f, calls) == len(calls)


def test_docker_default_profile_in_the_kernel() -> None:
    from ocitool.seccomp.docker import DOCKER_DEFAULT_CAPS, docker_to_oci

    oci = docker_to_oci(
        json.loads((DATA / "moby-default.json").read_text()), list(DOCKER_DEFAULT_CAPS), ARCH
    )
    f = compile_seccomp(oci, ARCH)
    calls: list[tuple[int, tuple[int, ...]]] = [
        (nr("getpid"), ()),
        (nr("personality"), (0xFFFFFFFF,)),
        (nr("personality"), (0x1234,)),
        (nr("mount"), (0, 0, 0, 0, 0)),
        (nr("umount2"), (0, 0)),
        (nr("socket"), (40, 1, 0)),  # AF_VSOCK: refused by the profile
        (nr("socket"), (1, 1, 0)),  # AF_UNIX: allowed
        (nr("unshare"), (0x10000000,)),  # CLONE_NEWUSER without CAP_SYS_ADMIN
        (nr("keyctl"), (0, 0)),
        (nr("sched_yield"), ()),
        (nr("reboot"), (0, 0, 0, 0)),
    ]
    assert _check(f, calls) == len(calls)


def test_x32_bit_from_a_64_bit_task() -> None:
    """A 64-bit task can set bit 30 to reach x32 entry points; with only x86_64 in the
    filter that is the bad-arch action (SIGSYS), with x32 listed the x32 rule applies."""
    if ARCH != "x86_64":
        pytest.skip("x32 exists only next to x86_64")
    x32_getpid = syscall_number("x32", "getpid")
    assert x32_getpid is not None and x32_getpid & 0x40000000
    base = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77}]}  # fmt: skip
    only64 = compile_seccomp(base, ARCH)
    assert expect(only64, x32_getpid, ()) == ("signal", signal.SIGSYS)
    assert _check(only64, [(x32_getpid, ()), (nr("getpid"), ())]) == 2
    with_x32 = compile_seccomp(
        {
            **base,
            "architectures": ["SCMP_ARCH_X32"],
            "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 78}],
        },
        ARCH,
    )
    assert expect(with_x32, x32_getpid, ()) == ("errno", 78)
    assert expect(with_x32, nr("getpid"), ()) == ("errno", 78)
    assert _check(with_x32, [(x32_getpid, ()), (nr("getpid"), ()), (nr("getppid"), ())]) == 3
