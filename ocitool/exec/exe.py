"""Find the user's executable and refuse to run the runtime's own interpreter.

CVE-2019-5736 class: during ``execve`` the init is still the host's Python,
so ``/proc/self/exe`` (directly, through a symlink in the image, or as a
``#!/proc/self/exe`` interpreter line) names the host interpreter. A
container that ran it could then reopen it for writing once it stops being
busy and replace the host's Python.

Mitigation chosen (no copy of the interpreter, no extra exec on the hot path):

1. the executable and every ``#!`` interpreter in its chain are opened with
   ``openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)`` in the container root,
   so a path through ``/proc/self/exe`` (a magic link) fails with ELOOP;
2. each resolved file is compared (st_dev, st_ino) with the interpreter the
   init runs, so a bind mount of it into the container is refused too;
3. the init is non-dumpable (PR_SET_DUMPABLE 0) from the moment it is
   cloned. That keeps out processes without CAP_SYS_PTRACE only; against a
   holder of it (who can open ``/proc/<init>/exe`` and ``map_files``), the
   runtime runs from a read-only copy of its files: ocitool/exec/sealed.py.

Nothing but the init runs in a fresh container before ``execve``, so the
files cannot be swapped between the check and the exec.
"""

from __future__ import annotations

import errno as _errno
import os
import stat

from ocitool.exec.syscalls import (
    RESOLVE_IN_ROOT,
    RESOLVE_NO_MAGICLINKS,
    Syscalls,
    error_errno,
    sys_error,
)

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_MAX_INTERPRETERS = 5


def self_exe_id() -> tuple[int, int] | None:
    """(st_dev, st_ino) of the interpreter running us; call before pivot_root."""
    try:
        st = os.stat("/proc/self/exe")
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _open_checked(sys: Syscalls, path: str, self_id: tuple[int, int] | None) -> int:
    full = os.path.join(os.getcwd(), path)  # resolved from "/" below, not from the cwd
    root = sys.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fd = sys.openat2(
            root,
            full.lstrip("/") or ".",
            os.O_PATH | os.O_CLOEXEC,
            0,
            RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        )
    except Exception as exc:
        code = getattr(exc, "errno", 0) or _errno.ENOENT
        if code == _errno.ELOOP:
            raise sys_error(
                "execve: refusing a path through a /proc magic link", (path,), _errno.EACCES
            ) from None
        raise sys_error("execve", (path,), code) from None
    finally:
        sys.close(root)
    st = sys.fstat(fd)
    if self_id is not None and (st.st_dev, st.st_ino) == self_id:
        sys.close(fd)
        raise sys_error(
            "execve: refusing to run the runtime's own interpreter", (path,), _errno.EACCES
        )
    return fd


def _check_chain(sys: Syscalls, path: str, self_id: tuple[int, int] | None) -> None:
    for _ in range(_MAX_INTERPRETERS):
        fd = _open_checked(sys, path, self_id)
        try:
            try:
                rfd = sys.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
            except Exception as exc:
                if error_errno(exc) is None:
                    raise
                return  # not readable by us: the kernel will not read a #! line either
            try:
                head = sys.read(rfd, 256)
            finally:
                sys.close(rfd)
        finally:
            sys.close(fd)
        if not head.startswith(b"#!"):
            return
        line = head[2:].split(b"\n", 1)[0].strip()
        if not line:
            return
        path = line.split()[0].decode("utf-8", "surrogateescape")


def resolve_executable(
    sys: Syscalls,
    name: str,
    env: tuple[str, ...] | list[str],
    self_id: tuple[int, int] | None,
    cwd: str | None = None,
) -> str:
    """argv[0] -> the path to execve (PATH lookup as runc does), checked as above.

    ``cwd``: the directory relative names are looked up from, when it is not the
    current one yet (the check at create time, before the process's chdir).
    """
    if "/" in name:
        candidates = [name]
    else:
        path_var = DEFAULT_PATH
        for item in env:
            if item.startswith("PATH="):
                path_var = item[5:]
        candidates = [os.path.join(d or ".", name) for d in path_var.split(":")]
    if cwd is not None:
        candidates = [os.path.join(cwd, c) for c in candidates]  # absolute ones stay
    last_err = _errno.ENOENT
    for cand in candidates:
        st = sys.try_stat(cand)
        if isinstance(st, int):
            last_err = -st or _errno.ENOENT
            continue
        if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o111:
            last_err = _errno.EACCES
            continue
        _check_chain(sys, cand, self_id)
        return cand
    raise sys_error("execve", (name,), last_err)
