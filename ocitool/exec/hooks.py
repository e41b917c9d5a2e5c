"""Run one OCI hook: execve(path, args, env) with the state JSON on stdin, under a timeout."""

from __future__ import annotations

import os
import signal
import time

from ocitool.errors import ExecError
from ocitool.exec.sigreset import reset_dispositions
from ocitool.exec.syscalls import Syscalls, error_errno


def run_hook(
    sys: Syscalls, path: str, args: list[str], env: list[str], stdin: bytes, timeout: float | None
) -> None:
    """Run the hook to completion; ExecError on a non-zero exit, a signal or the timeout.

    Every kernel call goes through ``sys``: the pipe, fork, the child's dup2 and
    execve, the state written to the pipe, wait and kill."""
    r, w = sys.pipe2(os.O_CLOEXEC)
    pid = sys.fork()
    if pid == 0:  # the hook process
        try:
            sys.dup2(r, 0)
            reset_dispositions()
            sys.execve(path, args or [path], env)
        except BaseException:  # noqa: BLE001 - the child must never return
            os._exit(127)
    sys.close(r)
    try:
        sys.write(w, stdin)
    except Exception as exc:  # noqa: BLE001 - a hook may ignore its stdin (EPIPE)
        if error_errno(exc) is None:
            raise
    finally:
        sys.close(w)
    try:
        status = _wait(sys, pid, path, timeout)
    except BaseException:
        # interrupted (SIGTERM, Ctrl-C): the hook must not outlive the rollback
        try:
            sys.kill(pid, signal.SIGKILL)
            sys.waitpid(pid, 0)
        except Exception:  # noqa: BLE001 - already gone
            pass
        raise
    code = os.waitstatus_to_exitcode(status)
    if code == 127 and not os.path.exists(path):
        raise ExecError(message=f"hook {path}: no such file", code="OCI505")
    if code != 0:
        what = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
        raise ExecError(message=f"hook {path} {what}", code="OCI505")


def _wait(sys: Syscalls, pid: int, path: str, timeout: float | None) -> int:
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.0005
    while True:
        wpid, status = sys.waitpid(pid, 0 if deadline is None else os.WNOHANG)
        if wpid:
            return status
        assert deadline is not None
        if time.monotonic() >= deadline:
            sys.kill(pid, signal.SIGKILL)
            sys.waitpid(pid, 0)
            raise ExecError(message=f"hook {path} timed out after {timeout}s", code="OCI505")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
