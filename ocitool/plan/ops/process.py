"""Process ops: limits, credentials, scheduling, the start handshake and execve."""

from __future__ import annotations

from ocitool.plan.ops.base import Op, flags_text, quote
from ocitool.spec.facts import RLIM_INFINITY
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import ClassVar


def _limit(value: int) -> str:
    return "RLIM_INFINITY" if value < 0 or value >= RLIM_INFINITY else str(value)


class Setrlimit(Op):
    name: ClassVar[str] = "setrlimit"

    resource: str
    soft: int
    hard: int

    def text(self) -> str:
        return (
            f"prlimit64(0, {self.resource}, "
            f"{{rlim_cur={_limit(self.soft)}, rlim_max={_limit(self.hard)}}}, NULL)"
        )


class Setresgid(Op):
    name: ClassVar[str] = "setresgid"

    rgid: int
    egid: int
    sgid: int

    def text(self) -> str:
        return f"setresgid({self.rgid}, {self.egid}, {self.sgid})"


class Setgroups(Op):
    name: ClassVar[str] = "setgroups"

    gids: tuple[int, ...]

    def text(self) -> str:
        return f"setgroups({len(self.gids)}, [{', '.join(map(str, self.gids))}])"


class Setresuid(Op):
    name: ClassVar[str] = "setresuid"

    ruid: int
    euid: int
    suid: int

    def text(self) -> str:
        return f"setresuid({self.ruid}, {self.euid}, {self.suid})"


class KeepCaps(Op):
    """prctl(PR_SET_KEEPCAPS): keep permitted caps across the uid change to non-root."""

    name: ClassVar[str] = "keep_caps"

    enable: bool

    def text(self) -> str:
        return f"prctl(PR_SET_KEEPCAPS, {int(self.enable)})"


class Umask(Op):
    name: ClassVar[str] = "umask"

    mask: int

    def text(self) -> str:
        return f"umask(0{self.mask:03o})"


class Chdir(Op):
    name: ClassVar[str] = "chdir"

    path: str

    def text(self) -> str:
        return f"chdir({quote(self.path)})"


class Personality(Op):
    name: ClassVar[str] = "personality"

    domain: str
    flags: tuple[str, ...]
    value: int

    def text(self) -> str:
        return f"personality({flags_text((self.domain, *self.flags))}) /* 0x{self.value:x} */"


class SchedSetattr(Op):
    name: ClassVar[str] = "sched_setattr"

    policy: str
    nice: int = 0
    priority: int = 0
    flags: tuple[str, ...] = ()
    runtime: int = 0
    deadline: int = 0
    period: int = 0

    def text(self) -> str:
        parts = [f"sched_policy={self.policy}", f"sched_flags={flags_text(self.flags)}"]
        parts.append(f"sched_nice={self.nice}")
        parts.append(f"sched_priority={self.priority}")
        if self.runtime or self.deadline or self.period:
            parts += [
                f"sched_runtime={self.runtime}",
                f"sched_deadline={self.deadline}",
                f"sched_period={self.period}",
            ]
        return f"sched_setattr(0, {{{', '.join(parts)}}}, 0)"


class IoprioSet(Op):
    name: ClassVar[str] = "ioprio_set"

    klass: str
    priority: int
    value: int  # IOPRIO_PRIO_VALUE(class, data)

    def text(self) -> str:
        return (
            f"ioprio_set(IOPRIO_WHO_PROCESS, 0, "
            f"IOPRIO_PRIO_VALUE({self.klass}, {self.priority})) /* {self.value} */"
        )


class SchedSetaffinity(Op):
    """Pin a process to ``cpus`` (a cpuset list such as ``0-3,7``); pid 0 is the caller."""

    name: ClassVar[str] = "sched_setaffinity"

    pid: str  # "0" (self) or "{init}"
    cpus: str

    def text(self) -> str:
        return f"sched_setaffinity({self.pid}, [{self.cpus}])"


class SetMempolicy(Op):
    """set_mempolicy(2) for the init and what it execs."""

    name: ClassVar[str] = "set_mempolicy"

    mode: str
    nodes: str | None
    flags: tuple[str, ...]

    def text(self) -> str:
        mode = flags_text((self.mode, *self.flags))
        return f"set_mempolicy({mode}, [{self.nodes or ''}])"


class Console(Op):
    """Allocate the container's terminal (/dev/ptmx inside it), make it the
    controlling tty and stdio, and hand the master to the console socket."""

    name: ClassVar[str] = "console"

    width: int | None = None
    height: int | None = None

    def text(self) -> str:
        size = f", {{ws_row={self.height}, ws_col={self.width}}}" if self.width else ""
        return f'openpty("/dev/ptmx"{size}) -> setsid(), ioctl(TIOCSCTTY), dup2(0,1,2)'


class WaitStart(Op):
    """The init has finished ``create`` and blocks until ``start`` releases it."""

    name: ClassVar[str] = "wait_start"

    def text(self) -> str:
        return 'open("exec.fifo", O_WRONLY) /* blocks until start */'


class Start(Op):
    """``start``: the runtime releases the waiting init."""

    name: ClassVar[str] = "start"

    def text(self) -> str:
        return 'read(open("exec.fifo", O_RDONLY)) /* releases the init */'


class Kill(Op):
    """``delete``: make sure no container process survives."""

    name: ClassVar[str] = "kill"

    signal: str = "SIGKILL"

    def text(self) -> str:
        return f"kill({{init}}, {self.signal}) /* if still running */"


class SignalInit(Op):
    """``kill``: send ``signal`` to the container's init through a pidfd, so it cannot reach
    a process that reused the pid; ``start_time`` (clock ticks, /proc/PID/stat field 22,
    from the container's state) is checked between pidfd_open and the signal."""

    name: ClassVar[str] = "signal_init"

    signal: str
    start_time: int | None = None

    def text(self) -> str:
        check = f" /* if it started at {self.start_time} */" if self.start_time else ""
        return f"pidfd_send_signal(pidfd_open({{init}}), {self.signal}){check}"


class Execve(Op):
    """Replace the init with the user process. When ``path`` has no ``/`` the
    executor looks it up in the PATH given in ``env`` (as runc does)."""

    name: ClassVar[str] = "execve"

    path: str
    argv: tuple[str, ...]
    env: tuple[str, ...]

    def text(self) -> str:
        argv = ", ".join(quote(a) for a in self.argv)
        env = ", ".join(quote(e) for e in self.env)
        return f"execve({quote(self.path)}, [{argv}], [{env}])"
