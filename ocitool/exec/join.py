"""Run a new process inside a running container (``ocitool-runc exec``, ``podman exec``).

The process gets what the container's init got, taken from the container's
own plan lowered for the new ``process``: its cgroup, its namespaces, then
the exec-phase ops (cwd, user and groups, capabilities, umask,
no_new_privs, seccomp, execve) and its rlimits.

Process model (runtime -> helper -> process):

1. the runtime opens the init's namespace files (``/proc/PID/ns/*``) while
   the pid is verified by its start time, so a reused pid cannot be joined;
2. it checks that everything it maps comes from the read-only copy of its
   files (ocitool/exec/sealed.py: a CAP_SYS_PTRACE holder in the container
   can open ``/proc/<pid>/exe`` and ``map_files`` of the process), then
   forks a helper, which makes itself non-dumpable (no other process of the
   container may open its memory), moves itself into the container's
   cgroup (writes 0 to each ``cgroup.procs``), and ``setns``-es into each
   namespace that differs from ours, the user namespace first and the mount
   namespace last (it changes "/" and the cwd to the container's root);
3. the helper forks once more -- ``setns(CLONE_NEWPID)`` only applies to
   children -- reports the child's pid and exits; the child applies the ops
   and execs. The runtime is a child subreaper, so the process is re-parented
   to it and it can wait for it (foreground) or leave it to its own
   subreaper, conmon or the shim (``--detach``).

Errors travel back over a close-on-exec pipe: ``P<pid>``, ``E<text>``, and
end-of-file once ``execve`` succeeded.
"""

from __future__ import annotations

import _signal as signal  # the C module: "signal" imports enum
import contextlib
import os

# Everything the joined process runs is imported here, in the runtime: after
# setns into the container's mount namespace no host module can be imported.
from ocitool.exec import console as _console
from ocitool.exec import sealed
from ocitool.exec import tty as _tty
from ocitool.exec.apply import APPLIERS, resolve_exec_early
from ocitool.exec.context import ExecContext
from ocitool.exec.handover import Channel, Closed, Failed, Forked, Message
from ocitool.exec.process import FORWARDED_SIGNALS
from ocitool.exec.state import proc_start_time, state_error
from ocitool.exec.syscalls import (
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWTIME,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE,
    Syscalls,
    exec_error,
    is_exec_error,
    op_error,
)
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

# join order: user first (it grants the rights for the rest), mount last
NAMESPACES: tuple[tuple[str, int], ...] = (
    ("user", CLONE_NEWUSER),
    ("ipc", CLONE_NEWIPC),
    ("uts", CLONE_NEWUTS),
    ("net", CLONE_NEWNET),
    ("pid", CLONE_NEWPID),
    ("time", CLONE_NEWTIME),
    ("cgroup", CLONE_NEWCGROUP),
    ("mnt", CLONE_NEWNS),
)


class JoinRequest:
    """Everything the runtime knows about where and what to run."""

    def __init__(
        self,
        pid: int,
        pid_start: int | None,
        ops: Sequence[Any],  # exec-phase ops (and rlimits) of the container's plan
        cgroup_procs: list[str] | None = None,
        console: Any = None,  # a connected console socket (ocitool.exec.console.connect)
        terminal: bool = False,
        console_size: tuple[int | None, int | None] = (None, None),
        preserve_fds: int = 0,
        state_json: str = "",
        pty_slave: int = -1,
    ) -> None:
        self.pid = pid
        self.pid_start = pid_start
        self.ops = ops
        self.cgroup_procs = cgroup_procs or []
        self.console = console
        self.terminal = terminal
        self.console_size = console_size
        self.preserve_fds = preserve_fds
        self.state_json = state_json
        self.pty_slave = pty_slave  # foreground --tty: the runtime's HostPty socket


def open_namespaces(sys: Syscalls, pid: int, pid_start: int | None) -> list[tuple[str, int, int]]:
    """(name, fd, nstype) of each of the init's namespaces that is not already ours."""
    out: list[tuple[str, int, int]] = []
    try:
        for name, nstype in NAMESPACES:
            path = f"/proc/{pid}/ns/{name}"
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                if not os.path.exists(f"/proc/{pid}"):
                    raise
                continue  # the kernel lacks this namespace type
            theirs = sys.fstat(fd)
            try:
                ours = sys.stat(f"/proc/self/ns/{name}")
                same = (ours.st_dev, ours.st_ino) == (theirs.st_dev, theirs.st_ino)
            except Exception:  # noqa: BLE001 - no such namespace here: not the same
                same = False
            if same:
                os.close(fd)
                continue
            out.append((name, fd, nstype))
        if pid_start is not None and proc_start_time(pid) != pid_start:
            raise ProcessLookupError(pid)
    except (ProcessLookupError, FileNotFoundError):
        for _, fd, _ in out:
            os.close(fd)
        raise state_error(message="container not running", code="OCI606") from None
    return out


def spawn(req: JoinRequest, ctx: ExecContext) -> int:
    """Start the process in the container; returns its host pid once it has exec'd."""
    sealed.verify()  # the process is a fork of us: nothing it maps may be writable
    namespaces = open_namespaces(ctx.sys, req.pid, req.pid_start)
    rep_r, rep_w = os.pipe2(os.O_CLOEXEC)
    ctx.sys.prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        helper = ctx.sys.fork()
    except Exception:
        for fd in (rep_r, rep_w, *(fd for _, fd, _ in namespaces)):
            os.close(fd)
        raise
    if helper == 0:
        code = 1
        try:
            os.close(rep_r)
            code = _helper(req, ctx, namespaces, rep_w)
        except BaseException as exc:  # noqa: BLE001 - report, never a traceback
            _report(rep_w, Failed(-1, 0, _text(exc)))
        finally:
            os._exit(code)
    os.close(rep_w)
    for _, fd, _ in namespaces:
        os.close(fd)
    pid = 0
    error = ""
    try:
        reports = Channel(rep_r)
        while not isinstance(msg := reports.recv(), Closed):  # until the process exec'd
            if isinstance(msg, Forked):
                pid = msg.pid
            elif isinstance(msg, Failed):
                error = msg.text
    finally:
        os.close(rep_r)
        with contextlib.suppress(ChildProcessError):
            ctx.sys.waitpid(helper, 0)
    if error:
        if pid:
            kill_and_reap(ctx.sys, pid)
        raise exec_error(error, "OCI520")
    if not pid:
        raise exec_error("exec: the process was not started", "OCI520")
    return pid


def _report(fd: int, msg: Message) -> None:
    with contextlib.suppress(OSError):
        Channel(fd).send(msg)


def _text(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        return " ".join(message.split())
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc)
    return f"{type(exc).__name__}: {exc}"


def _helper(
    req: JoinRequest, ctx: ExecContext, namespaces: list[tuple[str, int, int]], rep_w: int
) -> int:
    """In the helper: cgroup, namespaces, fork; the child applies the ops."""
    ctx.sys.prctl(PR_SET_DUMPABLE, 0)
    from ocitool.exec.exe import self_exe_id

    ctx.self_exe = self_exe_id()
    for path in req.cgroup_procs:
        try:
            ctx.sys.write_file(path, b"0")
        except Exception as exc:
            if not is_exec_error(exc):
                raise
            raise exec_error(f"join cgroup {path}: {_text(exc)}", "OCI520") from None
    for name, fd, nstype in namespaces:
        try:
            ctx.sys.setns(fd, nstype)
        except Exception as exc:
            if not is_exec_error(exc):
                raise
            raise exec_error(f"join {name} namespace: {_text(exc)}", "OCI520") from None
        os.close(fd)
    child = ctx.sys.fork()
    if child:
        _report(rep_w, Forked(child))
        return 0
    try:
        _process(req, ctx)
    except BaseException as exc:  # noqa: BLE001
        _report(rep_w, Failed(-1, 0, _text(exc)))
        os._exit(127 if "execve" in _text(exc) else 1)
    os._exit(1)  # execve returned without an error: cannot happen


def _process(req: JoinRequest, ctx: ExecContext) -> None:
    """In the container: terminal, then the plan's exec-phase ops (the last one is execve)."""
    ctx.in_init = True
    ctx.preserve_fds = req.preserve_fds
    ctx.state_json = req.state_json
    os.umask(0o022)
    if req.terminal and req.console is not None:
        _console.attach_console(ctx.sys, req.console, *req.console_size)
    elif req.terminal and req.pty_slave >= 0:
        # the runtime's HostPty: a pty from the container's devpts, master sent back
        _tty.take_terminal(ctx.sys, req.pty_slave, *req.console_size)
    elif not req.terminal:
        # runc: a process without a terminal gets its own process group, not a session
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
    ops = req.ops
    exec_at = max((i for i, op in enumerate(ops) if op.name == "execve"), default=-1)
    for index, op in enumerate(ops):
        if op.name == "seccomp_load" and index < exec_at:
            # the profile may deny the executable lookup's syscalls (openat2)
            _apply_one(exec_at, ops[exec_at], resolve_exec_early, ctx)
        fn = APPLIERS.get(op.name)
        if fn is None:
            raise op_error(index, op, "the executor has no applier for this op")
        _apply_one(index, op, fn, ctx)


def _apply_one(
    index: int, op: Any, fn: Callable[[Any, ExecContext], object], ctx: ExecContext
) -> None:
    """Run ``fn`` for op ``index``; every failure becomes that op's error."""
    try:
        fn(op, ctx)
    except OSError as exc:
        raise op_error(index, op, f"{exc.strerror}", exc.errno) from None
    except Exception as exc:
        if not is_exec_error(exc):
            raise
        raise op_error(index, op, _text(exc), getattr(exc, "errno", None)) from None


def kill_and_reap(sys: Syscalls, pid: int) -> None:
    """Undo a started process (a later step failed): SIGKILL, then reap it (we are its
    subreaper), so a failed command leaves nothing running and no zombie."""
    with contextlib.suppress(Exception):  # already gone, or not ours to reap
        sys.kill(pid, signal.SIGKILL)
        sys.waitpid(pid, 0)


def wait(sys: Syscalls, pid: int, forward: bool = True) -> int:
    """Wait for the exec'd process (re-parented to us); 128+N for a death by signal N."""
    old: dict[int, Any] = {}
    if forward:

        def relay(signum: int, _frame: object) -> None:
            with contextlib.suppress(Exception):  # gone already
                sys.kill(pid, signum)

        for sig in FORWARDED_SIGNALS:
            old[sig] = signal.signal(sig, relay)
    try:
        while True:
            try:
                _, status = sys.waitpid(pid, 0)
                break
            except ChildProcessError:
                status = 0
                break
            except InterruptedError:
                continue
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code
