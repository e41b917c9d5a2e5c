"""The two-process model: the runtime clones the init and they take turns applying ops.

Both processes walk the same op list. Each op names the process that
performs it (``op.phase.process``); when the next op belongs to the other
process, control passes over a pair of close-on-exec pipes, as typed
messages (:mod:`ocitool.exec.handover`):

* runtime -> init: ``Go(i)`` (go on from op i), ``Start`` (go on to exec),
  ``Detach`` (detached create: the state is saved, stop depending on me);
* init -> runtime: ``Done(i)`` (done up to op i, your turn), ``Ready(i)``
  (created: ``wait_start`` reached, waiting for start), ``Cleared`` (after
  ``Detach``: the parent death signal is cleared), ``Forked(pid)`` (the init
  forked for a pid namespace; this is the container's pid), ``Failed(i,
  errno, text)`` (op i failed), and end-of-file (``Closed``) once ``execve``
  succeeded (the report pipe is close-on-exec).

The init runs with PR_SET_PDEATHSIG(SIGKILL) from its first instruction, so
a runtime that dies part-way takes the half-built container with it (and a
runtime that died even before that is seen as end-of-file on the control
pipe at the init's first read). A detached create must outlive its runtime:
only after the runtime has saved the state does it send ``Detach``; the init
then clears the signal and answers ``Cleared``, and the runtime exits only
after that. A runtime killed before ``Detach`` still kills the init; one
killed between ``Detach`` and ``Cleared`` leaves a saved container that is either dead (shown as stopped) or
safely waiting on its exec fifo -- never a process nobody knows about.

So the init waits for its id maps, the runtime runs createRuntime hooks
between the init's namespace setup and its pivot_root, and a failure in
either process names the op. The runtime is a child subreaper and only ever
waits for pids it created (or that the kernel reparented to it).

The engine runs the ops exactly as printed: folding namespaces into the
clone, skipping a fork and joining cgroups cheaply are decided by lowering's
spawn pass (:mod:`ocitool.lower.spawn`), which the plan shows.
"""

from __future__ import annotations

import _signal as signal  # the C module: "signal" imports enum, a cost on every start
import errno as _errno
import os

from ocitool.exec import sealed
from ocitool.exec.apply import prepare_init, resolve_exec_early
from ocitool.exec.apply.base import apply_op
from ocitool.exec.context import ExecContext
from ocitool.exec.exe import self_exe_id
from ocitool.exec.flags import clone_flags
from ocitool.exec.handover import (
    Channel,
    Cleared,
    Closed,
    Detach,
    Done,
    Failed,
    Forked,
    Garbled,
    Go,
    Message,
    Ready,
    Start,
)
from ocitool.exec.syscalls import (
    PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE,
    PR_SET_PDEATHSIG,
    TYPE_CHECKING,
    error_errno,
    exec_error,
    is_exec_error,
    op_error,
    sys_error,
)
from ocitool.jsonlite import dumps

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from ocitool.exec.syscalls import Syscalls

    Applier = Callable[[Any, ExecContext], None]


FORWARDED_SIGNALS = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
    signal.SIGCONT,
)
_CONTROL_OPS = ("clone", "fork", "wait_start", "start")


def _host_pid() -> int:
    """Our pid as the runtime sees it: /proc is still the host's until pivot_root."""
    try:
        return int(os.readlink("/proc/self"))
    except (OSError, ValueError):
        return os.getpid()


class Engine:
    """Applies one container's plan; owns the init process it clones."""

    def __init__(self, ops: Sequence[Any], ctx: ExecContext, appliers: dict[str, Applier]) -> None:
        self.ops = list(ops)
        self.ctx = ctx
        self.appliers = appliers
        self.pid = 0
        self.ready_index = len(self.ops)
        self._ctl_w = self._rep_r = -1
        self._reports: Channel | None = None
        self._ctl: Channel | None = None  # in the init: messages from the runtime
        self.userns = any(
            op.name in ("clone", "unshare") and "CLONE_NEWUSER" in op.flags for op in self.ops
        )
        self._runtime_pid = os.getpid()
        self.exec_index = max(
            (i for i, op in enumerate(self.ops) if op.name == "execve"), default=len(self.ops)
        )

    def runs_in_init(self, index: int) -> bool:
        return bool(self.ops[index].phase.process == "init")

    # ------------------------------------------------------------------ shared
    def apply(self, index: int, op: Any) -> None:
        apply_op(self.appliers.get(op.name), index, op, self.ctx)

    # ------------------------------------------------------------------ runtime
    def create(self) -> None:
        """Apply every create-phase op (both processes); the init then waits for start."""
        ops = self.ops
        n = len(ops)
        self.ctx.sys.prctl(PR_SET_CHILD_SUBREAPER, 1)
        i = 0
        while i < n and ops[i].phase.command == "create":
            op = ops[i]
            if not self.runs_in_init(i):
                if op.name == "clone":
                    self.spawn(i, op)
                else:
                    self.apply(i, op)
                i += 1
                continue
            if not self.pid:
                raise op_error(i, op, "an init-side op comes before the init was cloned")
            msg = self._handover(i)
            i = msg.index
            if isinstance(msg, Ready):
                break
        else:
            if not self.pid:
                raise exec_error("the plan has no clone op: nothing to run", "OCI503")
            i = self._handover(i).index
        self.ready_index = i

    def _tell(self, msg: Message) -> None:
        Channel(self._ctl_w).send(msg)

    def _handover(self, index: int) -> Done | Ready:
        """Let the init run from op ``index``; its answer says which op is next."""
        self._tell(Go(index))
        return self._report()

    def _next_report(self) -> Message:
        """The init's next message; ``Forked`` (a fork for the pid namespace) is handled here."""
        if self._reports is None:
            self._reports = Channel(self._rep_r)
        while True:
            msg = self._reports.recv()
            if not isinstance(msg, Forked):
                return msg
            self._adopt(msg.pid)

    def _report(self) -> Done | Ready:
        msg = self._next_report()
        if isinstance(msg, Closed):
            raise exec_error("the container init exited unexpectedly", "OCI504")
        if isinstance(msg, Failed):
            self._raise_report(msg)
        if not isinstance(msg, Done | Ready):
            raise _unexpected(msg)
        return msg

    def detach(self) -> None:
        """Detached create, once the state is saved: the init stops depending on us.

        It clears its parent death signal and confirms; only then may this
        process exit without taking the container with it.
        """
        try:
            self._tell(Detach())
            msg = self._next_report()
            if isinstance(msg, Failed):
                self._raise_report(msg)
            if isinstance(msg, Closed):
                raise exec_error("the container init exited before it was detached", "OCI504")
            if not isinstance(msg, Cleared):
                raise _unexpected(msg)
        finally:
            self.close_pipes()

    def _adopt(self, pid: int) -> None:
        """The init forked for its pid namespace and exited; its child is the container."""
        self.ctx.sys.waitpid(self.pid, 0)
        self.ctx.rollback.steps = [
            s for s in self.ctx.rollback.steps if not (s[0] == "kill_wait" and s[1] == [self.pid])
        ]
        self.pid = self.ctx.pid = pid
        self.ctx.rollback.push("kill_wait", [pid], f"kill init {pid}")

    def _raise_report(self, msg: Failed) -> None:
        k = msg.index
        if 0 <= k < len(self.ops):
            raise op_error(k, self.ops[k], msg.text, msg.errno or None)
        raise exec_error(f"container init failed: {msg.text}", "OCI504")

    def spawn(self, index: int, op: Any) -> None:
        """Clone the init with the (folded) namespace flags; the child never returns."""
        ctl_r, ctl_w = os.pipe2(os.O_CLOEXEC)
        rep_r, rep_w = os.pipe2(os.O_CLOEXEC)
        fifo_fd = -1
        if self.ctx.exec_fifo:
            fifo_fd = os.open(self.ctx.exec_fifo, os.O_PATH | os.O_CLOEXEC)
        sys = self.ctx.sys
        try:
            sys.begin_op(index, op)
            sys.prctl(PR_SET_CHILD_SUBREAPER, 1)  # an op fault lands here, before the clone
            prepare_init(self.ops, self.ctx)
            sealed.verify()  # the init is a clone of us: nothing it maps may be writable
            pid = self._clone(op)
        except Exception as exc:
            for fd in (ctl_r, ctl_w, rep_r, rep_w, fifo_fd):
                if fd >= 0:
                    os.close(fd)
            self._close_listeners()
            raise op_error(
                index, op, getattr(exc, "message", str(exc)), getattr(exc, "errno", None)
            ) from None
        if pid == 0:  # the init
            status = 1
            try:
                os.close(ctl_w)
                os.close(rep_r)
                status = self._init_main(ctl_r, rep_w, fifo_fd)
            finally:
                os._exit(status)
        os.close(ctl_r)
        os.close(rep_w)
        if fifo_fd >= 0:
            os.close(fifo_fd)
        self._close_listeners()  # the init holds its own copies
        self._ctl_w, self._rep_r = ctl_w, rep_r
        self.pid = self.ctx.pid = pid
        self._hook_state_pid(pid)
        self.ctx.rollback.push("kill_wait", [pid], f"kill init {pid}")
        sys.end_op(index, op)

    def _close_listeners(self) -> None:
        for sock in self.ctx.listeners.values():
            sock.close()
        self.ctx.listeners = {}

    def _hook_state_pid(self, pid: int) -> None:
        """From the clone on, hooks (prestart, createRuntime, createContainer) get the
        state with the init's pid, as runc gives them (the saved state has it only once
        the container is created), and status ``created``: runtime-spec's runtime.md
        says ``created`` from "after step 2" (the environment is made), and these
        hooks are steps 3-5 (runc says ``creating``; crun and runtime-tools agree
        with the spec; docs/conformance.md)."""
        st = self.ctx.state
        if st is None or not pid:
            return
        data = st.to_json()
        data["pid"] = pid
        data["status"] = "created"
        self.ctx.state_json = dumps(data)

    def _clone(self, op: Any) -> int:
        """clone, or clone3 straight into the op's cgroup2 directory (see :class:`Clone`)."""
        sys = self.ctx.sys
        flags = clone_flags(op.flags)
        if not op.cgroup:
            return sys.clone(flags)
        fd = sys.open(op.cgroup, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return sys.clone(flags, fd)
        except Exception as exc:
            if error_errno(exc) not in (_errno.ENOSYS, _errno.EPERM):
                raise
        finally:
            if os.getpid() == self._runtime_pid:
                sys.close(fd)
        pid = sys.clone(flags)  # clone3 refused (a filter around us): clone, then join
        if pid:
            try:
                sys.write_file(os.path.join(op.cgroup, "cgroup.procs"), b"%d" % pid)
            except BaseException:
                sys.kill(pid, signal.SIGKILL)
                sys.waitpid(pid, 0)
                raise
        return pid

    def start(self) -> None:
        """Foreground start: release the init, return once the user process was exec'd."""
        ops = self.ops
        for k in range(self.ready_index, len(ops)):
            op = ops[k]
            if op.phase.command != "start" or self.runs_in_init(k):
                continue
            if op.name == "start":
                try:
                    self.ctx.sys.begin_op(k, op)
                    self._tell(Start())
                    self.ctx.sys.end_op(k, op)
                except Exception as exc:
                    raise op_error(
                        k, op, getattr(exc, "message", str(exc)), getattr(exc, "errno", None)
                    ) from None
                self._wait_exec()
            else:
                self.apply(k, op)
        if self._ctl_w >= 0:  # a plan without a start op
            self._tell(Start())
            self._wait_exec()

    def _wait_exec(self) -> None:
        try:
            msg = self._next_report()
            if isinstance(msg, Closed):
                return  # the report pipe closed on execve
            if isinstance(msg, Failed):
                self._raise_report(msg)
            raise _unexpected(msg)
        finally:
            self.close_pipes()

    def close_pipes(self) -> None:
        for fd in (self._ctl_w, self._rep_r):
            if fd >= 0:
                try:  # noqa: SIM105 - contextlib costs an import on the hot path
                    os.close(fd)
                except OSError:
                    pass
        self._ctl_w = self._rep_r = -1
        self._reports = None

    def wait(self, forward_signals: bool = True) -> int:
        """Wait for the init (our own child); its exit status, 128+N for signal N."""
        pid = self.pid
        sys = self.ctx.sys
        old: dict[int, Any] = {}
        if forward_signals:

            def forward(signum: int, _frame: object) -> None:
                try:  # noqa: SIM105 - contextlib costs an import on the hot path
                    sys.kill(pid, signum)
                except Exception:  # noqa: BLE001 - gone already: nothing to forward to
                    pass

            for sig in FORWARDED_SIGNALS:
                old[sig] = signal.signal(sig, forward)
        try:
            try:
                _, status = sys.waitpid(pid, 0)
            except ChildProcessError:
                status = 0
        finally:
            for signum, handler in old.items():
                signal.signal(signum, handler)
        self.reap_orphans(sys)
        self.ctx.pid = 0  # reaped: never signal that pid again
        code = os.waitstatus_to_exitcode(status)
        # the init is reaped: its undo step (kill + wait) must not touch a reused pid
        self.ctx.rollback.steps = [
            s for s in self.ctx.rollback.steps if not (s[0] == "kill_wait" and s[1] == [pid])
        ]
        return 128 - code if code < 0 else code

    @staticmethod
    def reap_orphans(sys: Syscalls) -> None:
        """As a subreaper we inherit the container's orphans; they are ours to reap."""
        while True:
            try:
                wpid, _ = sys.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if wpid == 0:
                return

    def abort(self) -> list[str]:
        """Undo everything applied so far (kill the init, remove cgroups, ...)."""
        self.close_pipes()
        return self.ctx.rollback.run()

    def delete(self) -> list[str]:
        """Run the delete-phase ops (kill, cgroup removal, poststop hooks) and the undo log.

        Returns the messages of steps that failed (the caller reports them).
        """
        problems: list[str] = []
        for k, op in enumerate(self.ops):
            if op.phase.command != "delete" or op.name == "cgroup_remove":
                continue
            try:
                self.apply(k, op)
            except Exception as exc:
                problems.append(getattr(exc, "message", str(exc)))
        problems += self.ctx.rollback.run()
        for k, op in enumerate(self.ops):
            if op.phase.command == "delete" and op.name == "cgroup_remove":
                try:
                    self.apply(k, op)
                except Exception as exc:
                    problems.append(getattr(exc, "message", str(exc)))
        return problems

    # ------------------------------------------------------------------ init
    def _init_main(self, ctl_r: int, rep_w: int, fifo_fd: int) -> int:
        ctx = self.ctx
        rep = Channel(rep_w)
        ctx.in_init = True
        ctx.pid = 0
        ctx.rollback.steps = []  # the runtime owns every undo
        ops = self.ops
        n = len(ops)
        i = -1
        started = False
        try:
            # Die with the runtime while we are set up; nobody else may look at
            # our memory, fds or /proc/<pid>/exe (the host interpreter).
            ctx.sys.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            # (In a user namespace a non-dumpable init could not write its own
            # /proc/self files -- they would belong to host root -- so there the
            # namespace's own uid mapping is the barrier instead.)
            if not self.userns:
                ctx.sys.prctl(PR_SET_DUMPABLE, 0)
            ctx.userns = self.userns
            # Files and device nodes get exactly the modes the plan says; the
            # process's own umask is set by the exec-phase umask op.
            os.umask(0)
            ctx.self_exe = self_exe_id()
            ctx.host_pid = _host_pid()
            self._hook_state_pid(ctx.host_pid)
            self._ctl = Channel(ctl_r)
            i = self._recv_go()
            while i < n:
                op = ops[i]
                if not self.runs_in_init(i) or (not started and op.phase.command != "create"):
                    if started:
                        i += 1
                        continue
                    if op.phase.command != "create":  # a plan without wait_start
                        self._wait_start(rep, i, fifo_fd)
                        started = True
                        continue
                    rep.send(Done(i))
                    i = self._recv_go()
                    continue
                if op.name == "wait_start":
                    self._check_exec()  # bracketed as the execve op's work
                    ctx.sys.begin_op(i, op)
                    self._check_capabilities()
                    ctx.sys.end_op(i, op)
                    self._wait_start(rep, i + 1, fifo_fd)
                    started = True
                elif op.name == "seccomp_load" and i < self.exec_index:
                    self._resolve_exec(None)  # the filter may deny the lookup's openat2
                    self.apply(i, op)
                elif op.name == "fork":
                    ctx.sys.begin_op(i, op)
                    self._fork(rep)
                    ctx.sys.end_op(i, op)
                else:
                    self.apply(i, op)
                i += 1
            return 0
        except BaseException as exc:  # noqa: BLE001 - report every failure, never a traceback
            code = getattr(exc, "errno", None) or 0
            mine = is_exec_error(exc)
            text = exc.message if mine else f"{type(exc).__name__}: {exc}"  # type: ignore[attr-defined]
            if mine and getattr(exc, "op_index", None) is not None:
                i = exc.op_index  # type: ignore[attr-defined]
                text = exc.cause  # type: ignore[attr-defined]
            try:  # noqa: SIM105 - contextlib costs an import on the hot path
                rep.send(Failed(i, code, text))
            except OSError:
                pass
            if started and fifo_fd >= 0:
                # Detached and started: no runtime reads the report pipe any more, so
                # the failure goes where the engine collects the container's output.
                what = op_error(i, ops[i], text).message if 0 <= i < n else text
                try:  # noqa: SIM105
                    os.write(2, f"ocitool: container {ctx.container_id}: {what}\n".encode())
                except OSError:
                    pass
            return 127 if 0 <= i < n and ops[i].name == "execve" else 1

    def _resolve_exec(self, cwd: str | None) -> str:
        """Look up and check the process's executable (exe.py), as an error of the execve
        op; the result is what the execve op runs. Its calls are bracketed as the execve
        op's (begin_op/end_op): the lookup is that op's work, done early."""
        op = self.ops[self.exec_index]
        try:
            self.ctx.sys.begin_op(self.exec_index, op)
            path = resolve_exec_early(op, self.ctx, cwd)
            self.ctx.sys.end_op(self.exec_index, op)
            return path
        except Exception as exc:
            if not is_exec_error(exc):
                raise
            cause = exc.message  # type: ignore[attr-defined]
            raise op_error(self.exec_index, op, cause, getattr(exc, "errno", None)) from None

    def _check_exec(self) -> None:
        """At create, before reporting "created": does the executable exist? As runc's
        create, fail now with a message rather than after start with none. Skipped when
        startContainer hooks (which run after start) might still provide it. The lookup
        at exec time is still the one that counts."""
        if self.exec_index >= len(self.ops):
            return
        if any(
            op.name == "hook" and getattr(op, "kind", "") == "startContainer" for op in self.ops
        ):
            return
        cwd = "/"
        for k in range(self.exec_index):
            op = self.ops[k]
            if op.name == "chdir" and op.phase.command == "start":
                cwd = op.path
        self._resolve_exec(cwd)
        self.ctx.exec_path = None

    def _check_capabilities(self) -> None:
        """At create, as runc's create would fail: the capabilities op after start can
        only keep what the init holds now (capset(2) refuses a permitted set that grows),
        so a config asking for more (e.g. a cap the runtime's own bounding set lacks)
        fails create, naming the capabilities op, instead of the container after start."""
        for k in range(self.exec_index):
            op = self.ops[k]
            if op.name != "capabilities" or op.phase.command != "start":
                continue
            _, permitted, _ = self.ctx.sys.capget()
            missing = op.permitted & ~permitted
            if missing:
                from ocitool.capabilities import mask_to_names

                names = ", ".join(mask_to_names(missing))
                cause = f"unable to apply caps: the runtime does not hold {names} (EPERM)"
                raise op_error(k, op, cause, _errno.EPERM)

    def _fork(self, rep: Channel) -> None:
        """Fork for a joined/new pid namespace: the parent reports the child and exits.

        The child waits until that report is out (the parent then writes the
        child's host pid on a private pipe; end-of-file if it died), so the
        runtime always learns the new pid before any message of the child. A fork clears the parent death
        signal; the child re-arms it once it has been re-parented to the
        runtime (the subreaper).
        """
        hold_r, hold_w = os.pipe2(os.O_CLOEXEC)
        pid = self.ctx.sys.fork()
        if pid:
            rep.send(Forked(pid))
            os.write(hold_w, b"%d" % pid)  # after a root switch the child has no host /proc
            os._exit(0)
        os.close(hold_w)
        told = os.read(hold_r, 32)
        os.close(hold_r)
        self.ctx.host_pid = int(told) if told.isdigit() else _host_pid()
        self._rearm_pdeathsig()

    def _rearm_pdeathsig(self) -> None:
        """PR_SET_PDEATHSIG again, once our parent (host view) is the runtime."""
        runtime = self._runtime_pid
        for _ in range(2000):
            ppid = _host_ppid()
            if ppid == runtime:
                break
            if ppid <= 0:
                return  # no host /proc to check: end-of-file on the pipes still stops us
            os.sched_yield()
        else:
            return
        self.ctx.sys.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if _host_ppid() != runtime:  # the runtime died before the signal was armed
            os._exit(1)

    def _recv(self) -> Message:
        return self._ctl.recv() if self._ctl is not None else Closed()

    def _recv_go(self) -> int:
        msg = self._recv()
        if not isinstance(msg, Go):
            os._exit(1)  # the runtime went away
        return msg.index

    def _wait_start(self, rep: Channel, ready: int, fifo_fd: int) -> None:
        """Report "created" (ready to run op ``ready``), then block until start.

        Foreground: ``Start`` on the control pipe. Detached (an exec fifo): the
        fifo is first probed for writing -- the open's permission check comes
        before the "no reader yet" ENXIO -- so a fifo the init cannot open
        fails create, not the later start. After ``Ready`` the init waits for
        the runtime's ``Detach`` (state saved), clears its parent death signal,
        answers ``Cleared``, and only then blocks opening the fifo until
        ``start`` reads it. The fifo stays open for writing until execve (see below).
        """
        if fifo_fd < 0:
            rep.send(Ready(ready))
            if not isinstance(self._recv(), Start):
                os._exit(1)
            return
        path = f"/proc/self/fd/{fifo_fd}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC))
        except OSError as exc:
            if exc.errno != _errno.ENXIO:
                raise sys_error("open", (path, "O_WRONLY|O_NONBLOCK"), exc.errno or 0) from None
        rep.send(Ready(ready))
        if not isinstance(self._recv(), Detach):
            os._exit(1)  # the runtime went away before it saved the state
        self.ctx.sys.prctl(PR_SET_PDEATHSIG, 0)
        rep.send(Cleared())
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        os.write(fd, b"0")
        # The write end stays open until execve closes it (O_CLOEXEC) or the init
        # dies: start reads to EOF, so poststart hooks run after the process is
        # executed, as runtime-spec orders them (not merely after the release).
        self.ctx.exec_fifo_writer = fd
        os.close(fifo_fd)


def _unexpected(msg: Message) -> Exception:
    what = repr(msg.raw) if isinstance(msg, Garbled) else type(msg).__name__
    return exec_error(f"unexpected message from init: {what}", "OCI504")


def _host_ppid() -> int:
    """Our parent's pid in the host's /proc (getppid() is 0 across a pid namespace)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return -1
