"""Appliers for :mod:`ocitool.plan.ops.process`: limits, credentials, scheduling, the
terminal, execve (``wait_start``/``start`` are the engine's: :mod:`ocitool.exec.process`)."""

from __future__ import annotations

import errno as _errno
import os

from ocitool.exec import flags as F
from ocitool.exec.apply.base import applies, pid_text
from ocitool.exec.context import ExecContext
from ocitool.exec.exe import resolve_executable
from ocitool.exec.sigreset import reset_dispositions
from ocitool.exec.syscalls import (
    CLOSE_RANGE_CLOEXEC,
    PR_SET_DUMPABLE,
    PR_SET_KEEPCAPS,
    TYPE_CHECKING,
    error_errno,
    sys_error,
)
from ocitool.plan.ops.process import (
    Chdir,
    Console,
    Execve,
    IoprioSet,
    KeepCaps,
    Kill,
    Personality,
    SchedSetaffinity,
    SchedSetattr,
    Setgroups,
    SetMempolicy,
    Setresgid,
    Setresuid,
    Setrlimit,
    SignalInit,
    Umask,
)
from ocitool.spec.facts import SCHED_POLICIES

if TYPE_CHECKING:
    from ocitool.exec.syscalls import Syscalls


# ---------------------------------------------------------------- process attributes
@applies(Setrlimit)
def setrlimit(op: Setrlimit, ctx: ExecContext) -> None:
    ctx.sys.prlimit(0, F.rlimit(op.resource), F.rlim(op.soft), F.rlim(op.hard))


@applies(Setresgid)
def setresgid(op: Setresgid, ctx: ExecContext) -> None:
    ctx.sys.setresgid(op.rgid, op.egid, op.sgid)


@applies(Setgroups)
def setgroups(op: Setgroups, ctx: ExecContext) -> None:
    ctx.sys.setgroups(list(op.gids))


@applies(Setresuid)
def setresuid(op: Setresuid, ctx: ExecContext) -> None:
    ctx.sys.setresuid(op.ruid, op.euid, op.suid)
    if ctx.userns:
        # the uid change made us non-dumpable, and /proc/self would then belong
        # to host root: the init could not write its own oom_score_adj etc.
        ctx.sys.prctl(PR_SET_DUMPABLE, 1)


@applies(KeepCaps)
def keep_caps(op: KeepCaps, ctx: ExecContext) -> None:
    ctx.sys.prctl(PR_SET_KEEPCAPS, int(op.enable))


@applies(Umask)
def umask(op: Umask, ctx: ExecContext) -> None:
    ctx.sys.umask(op.mask)


@applies(Chdir)
def chdir(op: Chdir, ctx: ExecContext) -> None:
    """chdir, then prove the cwd is inside the container's root (CVE-2024-21626 class).

    A cwd reached through a leaked host fd (``/proc/self/fd/N``) lies outside
    the process root; getcwd(2) then reports "(unreachable)" and glibc fails
    with ENOENT. We refuse to exec in that case.
    """
    ctx.sys.chdir(op.path)
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = ""
    if not cwd.startswith("/"):
        raise sys_error("chdir: cwd is outside the container root", (op.path,), _errno.EPERM)


@applies(Personality)
def personality(op: Personality, ctx: ExecContext) -> None:
    ctx.sys.personality(op.value)


@applies(SchedSetattr)
def sched_setattr(op: SchedSetattr, ctx: ExecContext) -> None:
    ctx.sys.sched_setattr(
        0,
        SCHED_POLICIES[op.policy],
        F.sched_flags(op.flags),
        op.nice,
        op.priority,
        op.runtime,
        op.deadline,
        op.period,
    )


@applies(IoprioSet)
def ioprio_set(op: IoprioSet, ctx: ExecContext) -> None:
    ctx.sys.ioprio_set(1, 0, op.value)  # IOPRIO_WHO_PROCESS, self


@applies(SchedSetaffinity)
def sched_setaffinity(op: SchedSetaffinity, ctx: ExecContext) -> None:
    pid = int(pid_text(ctx, op.pid))
    ctx.sys.sched_setaffinity(pid, F.cpu_list(op.cpus))


@applies(SetMempolicy)
def set_mempolicy(op: SetMempolicy, ctx: ExecContext) -> None:
    mode = F.MEMPOLICY_MODES[op.mode] | F.mempolicy_flags(op.flags)
    ctx.sys.set_mempolicy(mode, F.cpu_list(op.nodes or ""))


@applies(Kill)
def kill(op: Kill, ctx: ExecContext) -> None:
    if not ctx.pid:
        return
    try:
        ctx.sys.kill(ctx.pid, F.signal_number(op.signal))
    except Exception as exc:
        if error_errno(exc) != _errno.ESRCH:
            raise


@applies(SignalInit)
def signal_init(op: SignalInit, ctx: ExecContext) -> None:
    """Signal the init through a pidfd; a gone or replaced init is "container not running"."""
    from ocitool.exec.state import proc_start_time, state_error

    try:
        fd = ctx.sys.pidfd_open(ctx.pid)
    except Exception as exc:
        if error_errno(exc) == _errno.ESRCH:
            raise state_error(message="container not running", code="OCI606") from None
        raise
    try:
        if op.start_time is not None and proc_start_time(ctx.pid) != op.start_time:
            raise state_error(message="container not running", code="OCI606")
        ctx.sys.pidfd_send_signal(fd, F.signal_number(op.signal))
    finally:
        ctx.sys.close(fd)


# ---------------------------------------------------------------- terminal
@applies(Console)
def console(op: Console, ctx: ExecContext) -> None:
    from ocitool.exec.tty import setup_console

    setup_console(ctx, op.width, op.height)


# ---------------------------------------------------------------- execve
def resolve_exec_early(op: Execve, ctx: ExecContext, cwd: str | None = None) -> str:
    """Look up and check the execve op's executable now, for the execve op to run.

    Called just before ``seccomp_load``: a profile may deny the lookup's syscalls
    (openat2 is newer than many profiles), and nothing else runs in between.
    ``cwd``: where relative names are looked up from, if it is not the current one.
    """
    path = resolve_executable(ctx.sys, op.path, op.env, ctx.self_exe, cwd)
    ctx.exec_path = path
    return path


@applies(Execve)
def execve(op: Execve, ctx: ExecContext) -> None:
    """Become the user process: resolve argv[0] safely, sweep fds, reset signals, execve."""
    sys = ctx.sys
    # looked up (and checked) before the seccomp filter, which may deny openat2
    path, ctx.exec_path = ctx.exec_path, None
    path = path or resolve_executable(ctx.sys, op.path, op.env, ctx.self_exe)
    # No host fd may survive into the container (CVE-2024-21626 class): everything
    # from fd 3 on, except the preserved fds, is close-on-exec.
    try:
        sys.close_range(3 + ctx.preserve_fds, 0xFFFFFFFF, CLOSE_RANGE_CLOEXEC)
    except Exception as exc:
        # A seccomp profile older than close_range (5.9) refuses it (EPERM, ENOSYS):
        # mark each open fd instead, as runc does when close_range is unavailable.
        if error_errno(exc) not in (_errno.EPERM, _errno.ENOSYS, _errno.EINVAL):
            raise
        _cloexec_from(ctx.sys, 3 + ctx.preserve_fds)
    # ignored signals survive execve: none may stay ignored (as under runc)
    reset_dispositions()
    env = list(op.env)
    if not any(e.startswith("HOME=") for e in env):
        env.append("HOME=" + _home_of(os.getuid()))
    sys.execve(path, list(op.argv), env)


def _cloexec_from(sys: Syscalls, first: int) -> None:
    """Set close-on-exec on every open fd >= ``first`` (the listing's own fd included)."""
    for name in sys.listdir("/proc/self/fd"):
        fd = int(name)
        if fd >= first:
            try:
                os.set_inheritable(fd, False)
            except OSError as exc:
                if exc.errno != _errno.EBADF:  # the listing's fd, closed by now
                    raise sys_error(
                        "fcntl", (fd, "F_SETFD", "FD_CLOEXEC"), exc.errno or 0
                    ) from None


def _home_of(uid: int) -> str:
    """HOME for a process whose env has none, as runc sets it: the user's entry in the
    container's /etc/passwd, else "/". (It depends on the image, so it is decided here,
    not in the pure lowering.)"""
    try:
        with open("/etc/passwd", "rb") as f:
            for raw in f:
                fields = raw.decode("utf-8", "replace").rstrip("\n").split(":")
                if len(fields) >= 6 and fields[2] == str(uid) and fields[5]:
                    return fields[5]
    except OSError:
        pass
    return "/"
