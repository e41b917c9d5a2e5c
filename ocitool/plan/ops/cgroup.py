"""cgroup ops: create the container's cgroup, write its limits, join it, remove it.

Every path is an absolute host path (``/sys/fs/cgroup/memory/ocitool/web/
memory.limit_in_bytes`` on v1, ``/sys/fs/cgroup/ocitool/web/memory.max`` on
v2) so that the plan shows exactly which file gets which value.
"""

from __future__ import annotations

from ocitool.plan.ops.base import Op, quote
from ocitool.plan.ops.common import INIT_PID
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import ClassVar


class CgroupMkdir(Op):
    """Create the cgroup directory and any missing parents (mode 0755).

    ``copy_from_parent`` names files that start empty in a new v1 cgroup and
    must be filled before a task can join (``cpuset.cpus``, ``cpuset.mems``):
    for every directory created, the executor copies each from its parent
    when it reads back empty.
    """

    name: ClassVar[str] = "cgroup_mkdir"

    path: str
    copy_from_parent: tuple[str, ...] = ()

    def text(self) -> str:
        call = f"mkdir({quote(self.path)}, 0755)"
        if self.copy_from_parent:
            call += f"  /* then copy {', '.join(self.copy_from_parent)} from the parent */"
        return call


class CgroupWrite(Op):
    """Write ``value`` to the cgroup file ``path`` (one write(2), as the kernel parses it)."""

    name: ClassVar[str] = "cgroup_write"

    path: str
    value: str

    def text(self) -> str:
        return f"write({quote(self.path)}, {quote(self.value)})"


class CgroupJoin(Op):
    """Move the init into the cgroup: write its host pid to ``path`` (``.../cgroup.procs``)."""

    name: ClassVar[str] = "cgroup_join"

    path: str
    pid: str = INIT_PID

    def text(self) -> str:
        return f"write({quote(self.path)}, {quote(self.pid)})"


class CgroupDeviceProgram(Op):
    """Load a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it to the cgroup ``path``.

    ``bytecode`` is the hex of the ``struct bpf_insn`` array in the target's
    byte order, ready for ``bpf(BPF_PROG_LOAD)``; ``listing`` is its
    disassembly and ``rules`` the policy it encodes (``default`` plus
    exceptions in ``devices.allow`` syntax). Attached with BPF_F_ALLOW_MULTI,
    as runc does, after the cgroup exists and before the init joins it.
    """

    name: ClassVar[str] = "cgroup_device_program"

    path: str
    default: str  # "allow" or "deny"
    rules: tuple[str, ...] = ()
    instructions: int = 0
    bytecode: str = ""
    license: str = "Apache"
    attach_flags: tuple[str, ...] = ("BPF_F_ALLOW_MULTI",)
    listing: tuple[str, ...] = ()

    def text(self) -> str:
        return (
            "bpf(BPF_PROG_LOAD, {prog_type=BPF_PROG_TYPE_CGROUP_DEVICE, "
            f"insn_cnt={self.instructions}, license={quote(self.license)}}}); "
            f"bpf(BPF_PROG_ATTACH, {{target_fd=open({quote(self.path)}), "
            f"attach_type=BPF_CGROUP_DEVICE, attach_flags={'|'.join(self.attach_flags)}}})"
        )

    def detail_lines(self) -> list[str]:
        """The program listing, for printers that show more than one line per op."""
        return list(self.listing)


class CgroupRemove(Op):
    """Remove the cgroup directory (and any child cgroups the container made) at delete."""

    name: ClassVar[str] = "cgroup_remove"

    path: str

    def text(self) -> str:
        return f"rmdir({quote(self.path)})"


# A systemd unit property: (name, D-Bus signature, value, JSON pointer of its source or None).
# Plain tuples (not a dataclass) so the plan cache can store them as they are.
UnitProperty = tuple[str, str, object, str | None]


def _dbus_value(signature: str, value: object) -> str:
    """A property value as ``systemctl show`` style text for the strace-like line."""
    if signature == "b":
        return "yes" if value else "no"
    if signature == "s":
        return quote(str(value))
    if signature == "ay" and isinstance(value, tuple | list):
        return "[" + " ".join(f"0x{b:02x}" for b in value) + "]"
    if signature.startswith("a(") and isinstance(value, tuple | list):  # a(ss): DeviceAllow
        return "[" + ", ".join("(" + " ".join(map(str, item)) + ")" for item in value) + "]"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_dbus_value(signature[1:], v) for v in value) + "]"
    return str(value)


class StartTransientUnit(Op):
    """Ask systemd (D-Bus, org.freedesktop.systemd1.Manager.StartTransientUnit) to create the
    container's unit with ``properties`` and wait for its start job to finish (``done``).

    The systemd cgroup driver (``--systemd-cgroup``): systemd makes the cgroup
    (``unit`` in ``slice``) and moves the pids of the ``PIDs`` property into it;
    the limits systemd knows are properties, so a ``daemon-reload`` keeps them.
    Each property carries the JSON pointer of the config value it came from.
    """

    name: ClassVar[str] = "systemd_start_unit"

    unit: str
    slice: str
    mode: str = "replace"
    properties: tuple[UnitProperty, ...] = ()

    def text(self) -> str:
        props = ", ".join(f"{n}={_dbus_value(sig, v)}" for n, sig, v, _ in self.properties)
        return f"StartTransientUnit({quote(self.unit)}, {quote(self.mode)}, [{props}])"

    def detail_lines(self) -> list[str]:
        """One property a line, with its D-Bus type and where it came from."""
        return [
            f"{n} ({sig}) = {_dbus_value(sig, v)}" + (f"   <- {src}" if src else "")
            for n, sig, v, src in self.properties
        ]


class SetUnitProperties(Op):
    """Change a running unit's resource properties (D-Bus SetUnitProperties, runtime=true):
    ``update`` with the systemd driver sends the limits to systemd before writing the files,
    so a ``daemon-reload`` keeps them (runc's order)."""

    name: ClassVar[str] = "systemd_set_unit_properties"

    unit: str
    properties: tuple[UnitProperty, ...] = ()

    def text(self) -> str:
        props = ", ".join(f"{n}={_dbus_value(sig, v)}" for n, sig, v, _ in self.properties)
        return f"SetUnitProperties({quote(self.unit)}, true, [{props}])"


class StopUnit(Op):
    """Ask systemd to stop the container's unit (its cgroup goes with it) and wait for the job.

    A unit that is already gone is fine: ``delete`` may run after a crash or twice.
    """

    name: ClassVar[str] = "systemd_stop_unit"

    unit: str
    mode: str = "replace"

    def text(self) -> str:
        return f"StopUnit({quote(self.unit)}, {quote(self.mode)})"


class CgroupFreeze(Op):
    """Freeze or thaw every process of the cgroup ``path`` (``pause``/``resume``).

    Freezing is asynchronous in the kernel, so the op waits (up to
    ``timeout_ms``) for the final state, as runc does: v1 writes FROZEN/THAWED
    to ``freezer.state`` until it reads back so (it says FREEZING meanwhile);
    v2 writes ``cgroup.freeze`` and waits for ``frozen 1``/``frozen 0`` in
    ``cgroup.events``. A freeze that times out is thawed back before the op
    fails: a container is never left half frozen.
    """

    name: ClassVar[str] = "cgroup_freeze"

    path: str
    version: str  # "v1" (the freezer controller) or "v2" (cgroup.freeze)
    frozen: bool
    timeout_ms: int = 10_000

    def text(self) -> str:
        if self.version == "v1":
            want = "FROZEN" if self.frozen else "THAWED"
            file = f"{self.path}/freezer.state"
            return f"write({quote(file)}, {quote(want)}) /* until it reads {want} */"
        bit = "1" if self.frozen else "0"
        file = f"{self.path}/cgroup.freeze"
        return f"write({quote(file)}, {quote(bit)}) /* until cgroup.events says frozen {bit} */"


class CgroupSignal(Op):
    """Send ``signal`` to every process listed in ``path`` (a ``cgroup.procs`` file):
    ``kill --all``, and the kill before a paused container is deleted."""

    name: ClassVar[str] = "cgroup_signal"

    path: str
    signal: str

    def text(self) -> str:
        return f"kill(<each pid in {quote(self.path)}>, {self.signal})"
