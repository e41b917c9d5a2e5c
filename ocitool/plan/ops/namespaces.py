"""Namespace ops: spawning the init, joining and creating namespaces, hostname."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ocitool.plan.ops.base import JSON, Op, flags_text, quote


@dataclass(frozen=True, kw_only=True)
class Clone(Op):
    """The runtime starts the init process (``flags``: CLONE_* names, usually none).

    Namespaces are entered by the init itself (``setns``/``unshare``), so that
    joined namespaces are entered before new ones are created, as runc's nsexec does.
    """

    name: ClassVar[str] = "clone"

    flags: tuple[str, ...] = ()

    def text(self) -> str:
        flags = [*self.flags, "SIGCHLD"]
        return f"clone({flags_text(flags)}) = {{init}}"


@dataclass(frozen=True, kw_only=True)
class Unshare(Op):
    """Create new namespaces for the calling process (pid/time: for its children)."""

    name: ClassVar[str] = "unshare"

    flags: tuple[str, ...]

    def text(self) -> str:
        return f"unshare({flags_text(self.flags)})"


@dataclass(frozen=True, kw_only=True)
class Setns(Op):
    """Join the namespace at ``path`` (``nstype``: the CLONE_NEW* name of its type)."""

    name: ClassVar[str] = "setns"

    path: str
    nstype: str

    def text(self) -> str:
        return f"setns(open({quote(self.path)}, O_RDONLY), {self.nstype})"


@dataclass(frozen=True, kw_only=True)
class Fork(Op):
    """The calling process forks; the child goes on with the next op, the parent
    waits for it and exits with its status. Needed because a new pid or time
    namespace only applies to children of the process that created/joined it.

    The parent must not exit before the child: if it is already pid 1 of a pid
    namespace (an executor that folded CLONE_NEWPID into the clone), its exit
    would kill the child, so it stays as that namespace's reaper. The runtime
    reports the child's host pid as the container's pid.
    """

    name: ClassVar[str] = "fork"

    reason: str

    def text(self) -> str:
        return f"fork() /* {self.reason} */"


@dataclass(frozen=True, kw_only=True)
class Sethostname(Op):
    name: ClassVar[str] = "sethostname"

    hostname: str

    def text(self) -> str:
        return f"sethostname({quote(self.hostname)})"

    def to_json(self) -> dict[str, JSON]:
        data = super().to_json()
        data["name"] = data.pop("hostname")
        return data


@dataclass(frozen=True, kw_only=True)
class Setdomainname(Op):
    name: ClassVar[str] = "setdomainname"

    domainname: str

    def text(self) -> str:
        return f"setdomainname({quote(self.domainname)})"

    def to_json(self) -> dict[str, JSON]:
        data = super().to_json()
        data["name"] = data.pop("domainname")
        return data


@dataclass(frozen=True, kw_only=True)
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
