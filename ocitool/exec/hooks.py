"""Run one OCI hook: execve(path, args, env) with the state JSON on stdin, under a timeout."""

from __future__ import annotations

import os
import signal
import time

from ocitool.errors import ExecError
from ocitool.exec.sigreset import reset_dispositions
from ocitool.exec.syscalls import Syscalls


def run_hook(
    sys: Syscalls, path: str, args: list[str], env: list[str], stdin: bytes, timeout: float | None
) -> None:
    """Run the hook to completion; ExecError on a non-zero exit, a signal or the timeout.

    fork, wait and kill go through ``sys``; the child's own dup2/execve do not (it is
    the hook now, not an op of ours)."""
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = sys.fork()
    if pid == 0:  # the hook process
        try:
            os.dup2(r, 0)
            reset_dispositions()
            os.execve(path, args or [path], dict(e.split("=", 1) for e in env if "=" in e))
        except BaseException:  # noqa: BLE001 - the child must never return
            os._exit(127)
    os.close(r)
    try:
        os.write(w, stdin)
    except OSError:
        pass  # a hook may ignore its stdin
    finally:
        os.close(w)
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
