"""The systemd unit properties for a container: placement, accounting, limits, annotations.

systemd owns the unit's own cgroup attributes: on ``daemon-reload`` it writes
back what its properties say. So the limits systemd knows are sent as
properties (as runc does, libcontainer/cgroups/systemd), and the cgroup files
are written afterwards as with the cgroupfs driver, which also covers what
systemd has no property for. Per cgroup version:

========================  ==========================  =========================
spec resource             v2 property                 v1 property
========================  ==========================  =========================
memory.limit              MemoryMax                   MemoryLimit
memory.reservation        MemoryLow                   --
memory.swap               MemorySwapMax (swap only)   --
cpu.shares                CPUWeight (converted)       CPUShares
cpu.quota / cpu.period    CPUQuotaPerSecUSec, CPUQuotaPeriodUSec (both)
cpu.cpus / cpu.mems       AllowedCPUs / AllowedMemoryNodes (bitmasks, both)
pids.limit                TasksMax (both)
blockIO.weight            IOWeight (converted)        BlockIOWeight
devices                   DevicePolicy, DeviceAllow (both)
========================  ==========================  =========================

IOWeight is ours: runc leaves io.weight to the file write only, which a
``daemon-reload`` would reset. ``-1`` (unlimited) becomes 2^64-1, systemd's
"infinity". Every property carries the JSON pointer it came from.
"""

from __future__ import annotations

from ocitool.lower.cgroups import gvariant
from ocitool.lower.cgroups.convert import (
    SwapError,
    blkio_weight_to_io_weight,
    memory_swap_to_v2,
    shares_to_weight,
)
from ocitool.lower.cgroups.device_rules import WILD, device_state
from ocitool.lower.cgroups.ebpf import access_letters
from ocitool.lower.cgroups.systemd_names import SystemdUnit
from ocitool.lower.context import LowerContext
from ocitool.plan.ops.cgroup import UnitProperty
from ocitool.plan.ops.common import INIT_PID
from ocitool.spec.model import CPU, Resources

INFINITY = 2**64 - 1
DEFAULT_CFS_PERIOD = 100000
ANNOTATION_PREFIX = "org.systemd.property."
# Majors whose /proc/devices name is fixed by the kernel (devices.txt), for a "c M:*" rule:
# systemd takes a device group by name ("char-pts"), never by number.
CHAR_MAJOR_NAMES = {136: "pts"}


def unit_properties(
    ctx: LowerContext, unit: SystemdUnit, res: Resources | None, v2: bool
) -> tuple[UnitProperty, ...]:
    """Every property of the transient unit, in runc's order (later ones win in systemd)."""
    props: list[UnitProperty] = [
        ("Description", "s", f"ocitool container {ctx.container_id}", None),
    ]
    if unit.is_slice:
        props.append(("Wants", "as", (unit.slice,), None))
    else:
        props.append(("Slice", "s", unit.slice, None))
        props.append(("Delegate", "b", True, None))
    props.append(("PIDs", "au", (INIT_PID,), None))
    for name in ("MemoryAccounting", "CPUAccounting"):
        props.append((name, "b", True, None))
    props.append(("IOAccounting" if v2 else "BlockIOAccounting", "b", True, None))
    props.append(("TasksAccounting", "b", True, None))
    props.append(("DefaultDependencies", "b", False, None))
    props += annotation_properties(ctx)
    if res is not None:
        props += resource_properties(ctx, res, v2)
    props += device_properties(ctx, res)
    return tuple(props)


def _limit(value: int) -> int:
    return INFINITY if value < 0 else value


def resource_properties(ctx: LowerContext, res: Resources, v2: bool) -> list[UnitProperty]:
    props: list[UnitProperty] = []
    mem = res.memory
    if mem is not None:
        if mem.limit:
            name = "MemoryMax" if v2 else "MemoryLimit"
            props.append((name, "t", _limit(mem.limit), mem.at("limit")))
        if v2 and mem.reservation:
            props.append(("MemoryLow", "t", _limit(mem.reservation), mem.at("reservation")))
        if v2:
            try:
                swap = memory_swap_to_v2(mem.swap, mem.limit)
            except SwapError as err:
                raise ctx.error(mem.at("swap"), str(err), code="OCI323") from None
            if swap is not None:
                props.append(("MemorySwapMax", "t", _limit(swap), mem.at("swap")))
    cpu = res.cpu
    if cpu is not None:
        if cpu.shares:
            if v2:
                props.append(("CPUWeight", "t", shares_to_weight(cpu.shares), cpu.at("shares")))
            else:
                props.append(("CPUShares", "t", cpu.shares, cpu.at("shares")))
        props += cpu_quota(cpu)
        props += cpuset_properties(ctx, cpu)
    pids = res.pids
    if pids is not None and pids.limit is not None and (pids.limit > 0 or pids.limit == -1):
        props.append(("TasksMax", "t", _limit(pids.limit), pids.at("limit")))
    bio = res.block_io
    if bio is not None and bio.weight:
        if v2:
            weight = blkio_weight_to_io_weight(bio.weight)
            props.append(("IOWeight", "t", weight, bio.at("weight")))
        else:
            props.append(("BlockIOWeight", "t", bio.weight, bio.at("weight")))
    return props


def cpu_quota(cpu: CPU) -> list[UnitProperty]:
    """runc's addCpuQuota: quota per second of wall time, rounded up to systemd's 10 ms steps."""
    quota, period = cpu.quota or 0, cpu.period or 0
    props: list[UnitProperty] = []
    if period:
        props.append(("CPUQuotaPeriodUSec", "t", period, cpu.at("period")))
    if quota or period:
        per_sec = INFINITY
        if quota > 0:
            per_sec = quota * 1_000_000 // (period or DEFAULT_CFS_PERIOD)
            if per_sec % 10000:
                per_sec = (per_sec // 10000 + 1) * 10000
        pointer = cpu.at("quota") if cpu.quota is not None else cpu.at("period")
        props.append(("CPUQuotaPerSecUSec", "t", per_sec, pointer))
    return props


def cpuset_properties(ctx: LowerContext, cpu: CPU) -> list[UnitProperty]:
    props: list[UnitProperty] = []
    for field, name in (("cpus", "AllowedCPUs"), ("mems", "AllowedMemoryNodes")):
        text = getattr(cpu, field)
        if text:
            try:
                mask = range_to_bits(text)
            except ValueError as err:
                raise ctx.error(
                    cpu.at(field), f"cpu.{field} {text!r}: {err}", code="OCI323"
                ) from None
            props.append((name, "ay", mask, cpu.at(field)))
    return props


def range_to_bits(text: str) -> tuple[int, ...]:
    """A cpuset list (``0-3,8``) as the little-endian byte mask systemd takes (bit n = cpu n)."""
    bits = 0
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low_text, dash, high_text = part.partition("-")
        if not low_text.isdigit() or (dash and not high_text.isdigit()):
            raise ValueError(f"{part!r} is not a number or a range")
        low = int(low_text)
        high = int(high_text) if dash else low
        if high < low:
            raise ValueError(f"range {part!r} ends before it starts")
        if high >= 65536:
            raise ValueError(f"{high} is beyond any CPU or memory node")
        for n in range(low, high + 1):
            bits |= 1 << n
    if not bits:
        raise ValueError("the list is empty")
    return tuple(bits.to_bytes((bits.bit_length() + 7) // 8, "little"))


def device_properties(ctx: LowerContext, res: Resources | None) -> list[UnitProperty]:
    """DevicePolicy/DeviceAllow for the same rules the cgroupfs driver installs.

    systemd takes an allow-list only, by node (``/dev/char/1:3``) or by group
    name (``char-*``, ``char-pts``). A default-allow policy (its exceptions are
    denials) cannot be said that way: the unit gets ``auto`` (no systemd device
    program) and the policy stays ours alone, as with runc. A rule for a whole
    major other than the kernel's fixed ones has no name we can know without
    reading the host: the unit then gets ``auto`` too, said by an info line.
    """
    state = device_state(res)
    source = res.at("devices") if res is not None and res.devices else None
    if state.default_allow:
        return [("DevicePolicy", "s", "auto", source), ("DeviceAllow", "a(ss)", (), source)]
    allow: list[tuple[str, str]] = []
    for (dtype, major, minor), bits in state.exceptions.items():
        access = access_letters(bits)
        for kind in ("char", "block") if dtype == "a" else ("char" if dtype == "c" else "block",):
            if major == WILD:
                allow.append((f"{kind}-*", access))
            elif minor != WILD:
                allow.append((f"/dev/{kind}/{major}:{minor}", access))
            elif kind == "char" and major in CHAR_MAJOR_NAMES:
                allow.append((f"char-{CHAR_MAJOR_NAMES[major]}", access))
            else:
                ctx.info(
                    state.sources.get((dtype, major, minor)) or source or "",
                    f"device rule {kind} {major}:* has no systemd name: the unit gets "
                    "DevicePolicy=auto and the runtime's own device policy alone applies",
                    code="OCI355",
                )
                return [
                    ("DevicePolicy", "s", "auto", source),
                    ("DeviceAllow", "a(ss)", (), source),
                ]
    return [("DevicePolicy", "s", "strict", source), ("DeviceAllow", "a(ss)", tuple(allow), source)]


def annotation_properties(ctx: LowerContext) -> list[UnitProperty]:
    """``org.systemd.property.NAME`` annotations as properties, read as runc reads them.

    NAME: at least 3 ASCII letters. The value: GVariant text (see gvariant.py).
    A NAME ending in a lowercase letter + ``Sec`` (``TimeoutStopSec``) takes
    seconds and is sent as NAMEUSec in microseconds, as runc converts it.
    """
    props: list[UnitProperty] = []
    annotations = ctx.spec.annotations or {}
    for key in sorted(annotations):
        if not key.startswith(ANNOTATION_PREFIX):
            continue
        pointer = "/annotations/" + key.replace("~", "~0").replace("/", "~1")
        name = key[len(ANNOTATION_PREFIX) :]
        if len(name) < 3 or not (name.isascii() and name.isalpha()):
            raise ctx.error(
                pointer,
                f"annotation {key}: the property name must be at least 3 ASCII letters",
                code="OCI317",
            )
        try:
            sig, value = gvariant.parse(annotations[key])
        except gvariant.GVariantError as err:
            raise ctx.error(
                pointer,
                f"annotation {key}: value parse error: {err}",
                code="OCI317",
                expected="GVariant text, e.g. uint64 123 or 'inactive-or-failed'",
            ) from None
        if name.endswith("Sec") and "a" <= name[-4] <= "z":
            if sig not in ("y", "n", "q", "i", "u", "x", "t", "d"):
                raise ctx.error(pointer, f"annotation {key}: not a number", code="OCI317")
            if value < 0:
                raise ctx.error(pointer, f"annotation {key}: negative seconds", code="OCI317")
            name, sig, value = name[:-3] + "USec", "t", int(value * 1_000_000)
        props.append((name, sig, tuple(value) if isinstance(value, list) else value, pointer))
    return props
