"""cgroup v2: one directory, the unified interface files, v1-shaped values converted.

Conversions (see convert.py for formulas and reasons): ``cpu.shares`` ->
``cpu.weight``, ``blkio.weight`` -> ``io.weight``, memory+swap ->
``memory.swap.max``, ``-1`` -> ``max``. Fields with no v2 counterpart are
reported: real-time CPU budgets are an error (a real-time workload would
misbehave), the rest (swappiness, OOM-killer switch, kernel memory, leaf
weights, net_cls/net_prio) are warnings, as runc ignores them.
``linux.resources.unified`` is written verbatim, last, so it can override.
"""

from __future__ import annotations

import posixpath

from ocitool.lower.cgroups import paths
from ocitool.lower.cgroups.common import Writer
from ocitool.lower.cgroups.convert import (
    SWAP_HINT,
    SwapError,
    blkio_weight_to_io_weight,
    memory_swap_to_v2,
    shares_to_weight,
    shares_to_weight_linear,
    v2_limit,
)
from ocitool.lower.cgroups.device_rules import device_state
from ocitool.lower.cgroups.ebpf import compile_state
from ocitool.lower.cgroups.v1 import check_burst, cpuset_writes, rdma_line
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.cgroup import CgroupDeviceProgram, CgroupWrite
from ocitool.spec.model import CPU, BlockIO, Memory, Resources

DEFAULT_CFS_PERIOD = 100000  # kernel default, documented in cgroup-v2.rst


def write_limits(w: Writer, res: Resources) -> None:
    if res.memory is not None:
        _memory(w, res.memory)
    if res.cpu is not None:
        _cpu(w, res.cpu)
    if res.pids is not None and res.pids.limit is not None and res.pids.limit != 0:
        w.write("pids", "pids.max", v2_limit(res.pids.limit), res.pids.at("limit"))
    if res.block_io is not None:
        _io(w, res.block_io)
    for hp in res.hugepage_limits:
        w.write("hugetlb", f"hugetlb.{hp.page_size}.max", str(hp.limit), hp.at("limit"))
        if w.host.kernel_at_least(5, 7):  # reservation accounting (runtime-spec prefers it)
            rsvd = f"hugetlb.{hp.page_size}.rsvd.max"
            w.write("hugetlb", rsvd, str(hp.limit), hp.at("limit"))
    if res.network is not None and (res.network.class_id is not None or res.network.priorities):
        w.ctx.warn(
            res.network.pointer,
            "linux.resources.network is ignored: net_cls/net_prio exist only in cgroup v1 "
            "(on v2, classify traffic by cgroup path with nftables or eBPF instead)",
            code="OCI352",
        )
    for rdma in res.rdma:
        line = rdma_line(rdma.device, rdma.hca_handles, rdma.hca_objects)
        w.write("rdma", "rdma.max", line, rdma.pointer)
    for key in sorted(res.unified):
        _unified(w, res, key)


def _memory(w: Writer, mem: Memory) -> None:
    try:
        swap = memory_swap_to_v2(mem.swap, mem.limit)
    except SwapError as err:
        raise w.ctx.error(mem.at("swap"), str(err), code="OCI323", hint=SWAP_HINT) from None
    if swap is not None:
        # Same order as runc: swap first (v2 checks no relation between the two).
        w.write("memory", "memory.swap.max", v2_limit(swap), mem.at("swap"))
    if mem.limit is not None and mem.limit != 0:
        w.write("memory", "memory.max", v2_limit(mem.limit), mem.at("limit"))
    if mem.reservation is not None and mem.reservation != 0:
        w.write("memory", "memory.low", v2_limit(mem.reservation), mem.at("reservation"))
    ignored = {
        "swappiness": "v2 has no per-cgroup swappiness",
        "disableOOMKiller": "v2 has no switch to disable the OOM killer (see memory.oom.group)",
        "kernel": "kernel memory is accounted in memory.max on v2",
        "kernelTCP": "kernel TCP memory is accounted in memory.max on v2",
    }
    values = {
        "swappiness": mem.swappiness if mem.swappiness != -1 else None,
        "disableOOMKiller": mem.disable_oom_killer or None,
        "kernel": mem.kernel,
        "kernelTCP": mem.kernel_tcp,
    }
    for name, why in ignored.items():
        if values[name] is not None:
            w.ctx.warn(mem.at(name), f"memory.{name} is ignored on cgroup v2: {why}", code="OCI352")
    if mem.use_hierarchy is False:
        w.ctx.warn(
            mem.at("useHierarchy"),
            "memory.useHierarchy=false is ignored: cgroup v2 is always hierarchical",
            code="OCI352",
        )


def _cpu(w: Writer, cpu: CPU) -> None:
    if cpu.realtime_runtime or cpu.realtime_period:
        field = "realtimeRuntime" if cpu.realtime_runtime else "realtimePeriod"
        raise w.ctx.error(
            cpu.at(field),
            "real-time CPU budgets (cpu.rt_*) exist only in cgroup v1; "
            "the cgroup v2 cpu controller cannot honour them",
            code="OCI320",
            hint="remove realtimeRuntime/realtimePeriod, or run on a cgroup v1 host",
        )
    if cpu.idle is not None:
        w.needs_kernel(5, 15, cpu.at("idle"), "cpu.idle")
        w.write("cpu", "cpu.idle", str(cpu.idle), cpu.at("idle"))
    if cpu.shares and cpu.idle == 1:
        w.ctx.warn(
            cpu.at("shares"),
            "cpu.shares is ignored: a cgroup with cpu.idle=1 has the minimum weight",
            code="OCI352",
        )
    elif cpu.shares is not None and cpu.shares != 0:
        weight = shares_to_weight(cpu.shares)
        old = shares_to_weight_linear(cpu.shares)
        if old != weight:
            w.ctx.info(
                cpu.at("shares"),
                f"cpu.shares {cpu.shares} -> cpu.weight {weight} (runc < 1.3.2 wrote {old}; "
                "see docs/mounts-and-cgroups.md)",
                code="OCI354",
            )
        w.write("cpu", "cpu.weight", str(weight), cpu.at("shares"))
    quota, period = cpu.quota, cpu.period
    if (quota is not None and quota != 0) or (period is not None and period != 0):
        q = str(quota) if quota is not None and quota > 0 else "max"
        p = period if period else DEFAULT_CFS_PERIOD
        pointer = cpu.at("quota") if quota is not None else cpu.at("period")
        w.write("cpu", "cpu.max", f"{q} {p}", pointer)
    if cpu.burst is not None:
        check_burst(w, cpu)
        w.needs_kernel(5, 14, cpu.at("burst"), "cpu.max.burst")
        w.write("cpu", "cpu.max.burst", str(cpu.burst), cpu.at("burst"))
    cpuset_writes(w, cpu)


def _io(w: Writer, bio: BlockIO) -> None:
    if bio.weight is not None and bio.weight != 0:
        w.write("io", "io.weight", str(blkio_weight_to_io_weight(bio.weight)), bio.at("weight"))
    if bio.leaf_weight is not None:
        w.ctx.warn(
            bio.at("leafWeight"),
            "blockIO.leafWeight is ignored: cgroup v2 has no leaf weights",
            code="OCI352",
        )
    for wd in bio.weight_device:
        if wd.weight is not None:
            line = f"{wd.major}:{wd.minor} {blkio_weight_to_io_weight(wd.weight)}"
            w.write("io", "io.weight", line, wd.pointer)
        if wd.leaf_weight is not None:
            w.ctx.warn(
                wd.at("leafWeight"),
                "leafWeight is ignored: cgroup v2 has no leaf weights",
                code="OCI352",
            )
    for attr, key in (
        ("throttle_read_bps_device", "rbps"),
        ("throttle_write_bps_device", "wbps"),
        ("throttle_read_iops_device", "riops"),
        ("throttle_write_iops_device", "wiops"),
    ):
        for td in getattr(bio, attr):
            w.write("io", "io.max", f"{td.major}:{td.minor} {key}={td.rate}", td.pointer)


def _unified(w: Writer, res: Resources, key: str) -> None:
    pointer = res.at("unified", key)
    if "/" in key or key in (".", "..") or not key:
        raise w.ctx.error(
            pointer,
            f"unified key {key!r} is not a cgroup file name",
            code="OCI322",
            expected="a file name such as memory.high",
        )
    controller = key.split(".", 1)[0]
    w.write(controller, key, res.unified[key], pointer)


def device_program(w: Writer, res: Resources | None) -> list[Op]:
    """The device rules as one cgroup_device_program op (always emitted on v2, as runc does)."""
    state = device_state(res)
    program = compile_state(state)
    raw = program.encode(w.host.arch)
    rules = tuple(
        e.cgroup_string() + (" deny" if state.default_allow else " allow")
        for e in program.exceptions
    )
    source = state.reset_source or (res.at("devices") if res is not None and res.devices else None)
    return [
        CgroupDeviceProgram(
            phase=Phase.CREATE_RUNTIME,
            source=source,
            path=paths.v2_dir(w.host, w.cgroup_path),
            default="allow" if state.default_allow else "deny",
            rules=rules,
            instructions=len(program.insns),
            bytecode=raw.hex(),
            license=program.license,
            listing=tuple(program.listing()),
        )
    ]


def subtree_writes(w: Writer) -> None:
    """Enable every offered controller in each ancestor, so the leaf gets its files."""
    controllers = list(w.host.unified_controllers)
    if not controllers:
        return
    value = " ".join(f"+{c}" for c in controllers)
    ancestors = paths.v2_ancestors(w.host, w.cgroup_path)
    if w.host.rootless and w.host.cgroup_delegated:
        # only the delegated cgroup and below belong to the user
        floor = paths.v2_dir(w.host, w.host.cgroup_delegated)
        ancestors = [a for a in ancestors if a == floor or a.startswith(floor + "/")]
    for ancestor in ancestors:
        w.ops.append(
            CgroupWrite(
                phase=Phase.CREATE_RUNTIME,
                source=None,
                path=posixpath.join(ancestor, "cgroup.subtree_control"),
                value=value,
            )
        )
