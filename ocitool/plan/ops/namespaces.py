"""Namespace ops: spawning the init, joining and creating namespaces, hostname."""

from __future__ import annotations

from ocitool.plan.ops.base import Op, flags_text, quote
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import ClassVar


class Clone(Op):
    """The runtime starts the init process with the namespaces in ``flags`` (CLONE_* names).

    Lowering emits a plain clone and lets the init enter namespaces itself
    (``setns`` then ``unshare``), as runc's nsexec does; the spawn pass
    (:mod:`ocitool.lower.spawn`) then moves the leading ``unshare`` flags
    here, so the printed call is the one that runs.

    ``cgroup``: a cgroup2 directory the init starts in (clone3 with
    CLONE_INTO_CGROUP, Linux 5.7+), instead of a later write to its
    ``cgroup.procs``. Where clone3 itself is refused (ENOSYS/EPERM from a
    seccomp filter around the runtime), the executor clones and writes the
    init's pid to that directory's ``cgroup.procs``: the same end state.
    """

    name: ClassVar[str] = "clone"

    flags: tuple[str, ...] = ()
    cgroup: str = ""

    def text(self) -> str:
        flags = [*self.flags, "SIGCHLD"]
        if self.cgroup:
            return (
                f"clone3({{flags={flags_text([*self.flags, 'CLONE_INTO_CGROUP'])}, "
                f"cgroup=open({quote(self.cgroup)}), exit_signal=SIGCHLD}}) = {{init}}"
            )
        return f"clone({flags_text(flags)}) = {{init}}"


class Unshare(Op):
    """Create new namespaces for the calling process (pid/time: for its children)."""

    name: ClassVar[str] = "unshare"

    flags: tuple[str, ...]

    def text(self) -> str:
        return f"unshare({flags_text(self.flags)})"


class Setns(Op):
    """Join the namespace at ``path`` (``nstype``: the CLONE_NEW* name of its type)."""

    name: ClassVar[str] = "setns"

    path: str
    nstype: str

    def text(self) -> str:
        return f"setns(open({quote(self.path)}, O_RDONLY), {self.nstype})"


class Fork(Op):
    """The calling process forks; the child goes on with the next op, the parent
    waits for it and exits with its status. Needed because a new pid or time
    namespace only applies to children of the process that created/joined it.

    The parent reports the child's host pid to the runtime and exits; the
    runtime (a subreaper) adopts the child as the container's pid. When the
    spawn pass could fold CLONE_NEWPID into the ``clone`` the fork is dropped
    from the plan: the clone already made the init pid 1.
    """

    name: ClassVar[str] = "fork"

    reason: str

    def text(self) -> str:
        return f"fork() /* {self.reason} */"


class Sethostname(Op):
    name: ClassVar[str] = "sethostname"
    json_names: ClassVar[dict[str, str]] = {"hostname": "name"}

    hostname: str

    def text(self) -> str:
        return f"sethostname({quote(self.hostname)})"


class Setdomainname(Op):
    name: ClassVar[str] = "setdomainname"
    json_names: ClassVar[dict[str, str]] = {"domainname": "name"}

    domainname: str

    def text(self) -> str:
        return f"setdomainname({quote(self.domainname)})"


class NetDeviceMove(Op):
    """Move a host network interface into the container's network namespace (netlink
    RTM_NEWLINK with IFLA_NET_NS_FD), renaming it to ``new_name``."""

    name: ClassVar[str] = "netdev_move"

    device: str
    new_name: str
    netns: str

    def text(self) -> str:
        rename = f" name {self.new_name}" if self.new_name != self.device else ""
        return f"ip link set {self.device} netns {self.netns}{rename}"
