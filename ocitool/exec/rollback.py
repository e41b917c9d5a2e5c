"""Undo log: every host-changing op registers how to undo itself.

Undo steps are data -- ``(kind, args, label)`` -- not closures, so the log
can be saved in the container's state and replayed by a later ``delete``
process as well as by a failed ``create``. If op k fails, the steps of ops
k-1 .. 1 run newest first. A failing step is recorded and the rest still
run, so one stuck cgroup does not leave processes behind.
"""

from __future__ import annotations

import errno as _errno
import os
import time

from ocitool.exec.syscalls import TYPE_CHECKING, Syscalls, error_errno

if TYPE_CHECKING:
    from typing import Any

    Step = tuple[str, list[Any], str]  # (kind, args, label)

SIGKILL = 9


def _rmdir_cgroup(sys: Syscalls, path: str) -> None:
    """rmdir a cgroup directory; retry briefly while the kernel still counts exiting tasks."""
    for attempt in range(100):
        try:
            sys.rmdir(path)
            return
        except Exception as exc:
            code = error_errno(exc)
            if code == _errno.ENOENT:
                return
            if code != _errno.EBUSY or attempt == 99:
                raise
            _kill_cgroup_tasks(sys, path)
            time.sleep(0.002)


def remove_cgroup_tree(sys: Syscalls, path: str) -> None:
    """Remove a cgroup directory and the child cgroups the container made in it (deepest
    first); a directory that is already gone is fine (the undo log removes what create made)."""
    if not os.path.isdir(path):
        return
    for dirpath in _dirs_bottom_up(sys, path):
        _rmdir_cgroup(sys, dirpath)


def _dirs_bottom_up(sys: Syscalls, top: str) -> list[str]:
    """``top`` and the directories below it, deepest first (os.walk's bottom-up order)."""
    out: list[str] = []
    try:
        subdirs = sys.subdirs(top)
    except Exception:  # noqa: BLE001 - gone or unreadable: rmdir will say
        subdirs = []
    for sub in subdirs:
        out += _dirs_bottom_up(sys, sub)
    out.append(top)
    return out


def _kill_cgroup_tasks(sys: Syscalls, path: str) -> None:
    for name in ("cgroup.procs", "tasks"):
        try:
            pids = [int(x) for x in sys.read_file(os.path.join(path, name)).split()]
        except Exception:  # noqa: BLE001 - no such file in this hierarchy
            continue
        for pid in pids:
            try:  # noqa: SIM105 - contextlib is an import on the hot path
                sys.kill(pid, SIGKILL)
            except Exception:  # noqa: BLE001 - exited meanwhile
                pass
        return


def _kill_wait(sys: Syscalls, pid: int) -> None:
    """SIGKILL our own child and reap it (it is ours: we cloned it)."""
    try:
        sys.kill(pid, SIGKILL)
    except Exception as exc:
        if error_errno(exc) != _errno.ESRCH:
            raise
    try:  # noqa: SIM105
        sys.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _run(sys: Syscalls, kind: str, args: list[Any]) -> None:
    if kind == "rmdir_cgroup":
        _rmdir_cgroup(sys, args[0])
    elif kind == "kill_wait":
        _kill_wait(sys, int(args[0]))
    elif kind == "kill":
        try:
            sys.kill(int(args[0]), SIGKILL)
        except Exception as exc:
            if error_errno(exc) != _errno.ESRCH:
                raise
    elif kind == "umount":
        try:
            sys.umount2(args[0], 2)  # MNT_DETACH
        except Exception as exc:
            if error_errno(exc) not in (_errno.EINVAL, _errno.ENOENT):
                raise
    elif kind in ("unlink", "rmdir"):
        try:
            (sys.unlink if kind == "unlink" else sys.rmdir)(args[0])
        except Exception as exc:
            if error_errno(exc) != _errno.ENOENT:
                raise
    elif kind == "stop_unit":  # the systemd driver's transient unit (gone already is fine)
        sys.systemd_stop_unit(args[0], "replace")
    elif kind == "close":
        try:  # noqa: SIM105
            sys.close(int(args[0]))
        except Exception:  # noqa: BLE001 - already closed is fine
            pass
    else:
        raise ValueError(f"unknown undo step {kind!r}")


class Rollback:
    """A stack of undo steps, applied newest first."""

    def __init__(self, sys: Syscalls, steps: list[Step] | None = None) -> None:
        self.sys = sys
        self.steps: list[Step] = steps if steps is not None else []
        self.failures: list[str] = []

    def push(self, kind: str, args: list[Any], label: str = "") -> None:
        self.steps.append((kind, list(args), label or f"{kind} {args}"))

    def __len__(self) -> int:
        return len(self.steps)

    def run(self) -> list[str]:
        """Undo everything; returns messages for the steps that failed."""
        while self.steps:
            kind, args, label = self.steps.pop()
            try:
                _run(self.sys, kind, args)
            except Exception as exc:  # noqa: BLE001 - keep undoing the rest
                self.failures.append(f"{label}: {exc}")
        return self.failures

    def to_json(self) -> list[list[Any]]:
        return [[k, a, lbl] for k, a, lbl in self.steps]

    @classmethod
    def from_json(cls, sys: Syscalls, data: list[list[Any]]) -> Rollback:
        return cls(sys, [(str(k), list(a), str(lbl)) for k, a, lbl in data])
