"""default.policy, compiled by ocitool and loaded into the real kernel, gives the errnos
the policy text promises. A forked child sets no_new_privs (no root needed), loads the
filter with seccomp(2), makes the calls, and reports the results through a pipe."""

from __future__ import annotations

import ctypes
import json
import os
import platform
from typing import Any

import pytest

from ocitool.resources import resource_path
from ocitool.seccomp.compiler import compile_seccomp
from ocitool.seccomp.constants import AF, CLONE, ERRNO, PERSONALITY, SOCK
from ocitool.seccomp.policy import load_policy
from ocitool.seccomp.tables import syscall_number

pytestmark = pytest.mark.skipif(
    platform.machine() != "x86_64", reason="default.policy covers the x86 family only"
)

PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1

# (label, syscall, args, expected errno or None for success)
CALLS: list[tuple[str, str, tuple[int, ...], int | None]] = [
    ("getpid", "getpid", (), None),
    ("personality query", "personality", (PERSONALITY["PER_QUERY"],), None),
    ("personality ADDR_NO_RANDOMIZE", "personality", (PERSONALITY["ADDR_NO_RANDOMIZE"],), 1),
    ("clone3", "clone3", (0, 0), ERRNO["ENOSYS"]),
    # if the filter let it through, the kernel would say EINVAL (NEWNS with FS is invalid)
    ("clone NEWNS|FS", "clone", (CLONE["CLONE_NEWNS"] | CLONE["CLONE_FS"], 0, 0, 0, 0), 1),
    ("unshare", "unshare", (CLONE["CLONE_NEWUSER"],), 1),
    ("umount2", "umount2", (0, 0), 1),  # unfiltered: EFAULT
    ("socket AF_VSOCK", "socket", (AF["AF_VSOCK"], SOCK["SOCK_STREAM"], 0), 1),
    ("socket AF_ALG", "socket", (AF["AF_ALG"], SOCK["SOCK_SEQPACKET"], 0), 1),
    ("socket AF_UNIX", "socket", (AF["AF_UNIX"], SOCK["SOCK_STREAM"], 0), None),
]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _child(raw: bytes, write_fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    out: dict[str, Any] = {}
    buf = ctypes.create_string_buffer(raw, len(raw))
    prog = _SockFprog(len(raw) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        out["load"] = f"prctl errno {ctypes.get_errno()}"
    elif (
        libc.syscall(
            syscall_number("x86_64", "seccomp"), SECCOMP_SET_MODE_FILTER, 0, ctypes.byref(prog)
        )
        != 0
    ):
        out["load"] = f"seccomp errno {ctypes.get_errno()}"
    else:
        out["load"] = "ok"
        for label, name, args, _ in CALLS:
            ctypes.set_errno(0)
            ret = libc.syscall(syscall_number("x86_64", name), *(ctypes.c_ulong(a) for a in args))
            out[label] = None if ret >= 0 else ctypes.get_errno()
    os.write(write_fd, json.dumps(out).encode())
    os._exit(0)


def test_default_policy_in_the_kernel() -> None:
    policy = load_policy(resource_path("profiles", "seccomp/default.policy"))
    raw = compile_seccomp(policy, "x86_64").raw()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read_fd)
            _child(raw, write_fd)
        finally:
            os._exit(1)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    results = json.loads(b"".join(chunks))
    if results["load"].startswith("prctl errno 22") or results["load"] == "seccomp errno 22":
        pytest.skip("this kernel has no seccomp filter support")
    assert results.pop("load") == "ok"
    expected = {label: errno for label, _, _, errno in CALLS}
    assert results == expected
