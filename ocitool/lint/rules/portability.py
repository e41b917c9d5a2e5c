"""Portability rules: fields that many hosts or runtimes cannot honour.

These judge the config alone. Whether *this* machine can honour a field is
a host-specific question (see ``ocitool.lint.rules.host``).
"""

from __future__ import annotations

from collections.abc import Iterator

from ocitool.lint.context import LintContext, as_dict, as_list
from ocitool.lint.registry import Hit, rule


def v1_only_fields(ctx: LintContext) -> list[tuple[str, str]]:
    """(pointer, description) of every cgroup-v1-only resource field that is set."""
    out: list[tuple[str, str]] = []
    mem = as_dict(ctx.resources.get("memory"))
    for key in ("kernel", "kernelTCP"):
        if mem.get(key) not in (None, -1):  # -1 (unlimited) asks for nothing
            out.append((f"/linux/resources/memory/{key}", f"memory.{key} (kernel memory limit)"))
    if mem.get("swappiness") is not None:
        out.append(("/linux/resources/memory/swappiness", "memory.swappiness"))
    cpu = as_dict(ctx.resources.get("cpu"))
    for key in ("realtimeRuntime", "realtimePeriod"):
        if cpu.get(key) is not None:
            out.append((f"/linux/resources/cpu/{key}", f"cpu.{key} (RT scheduling budget)"))
    network = as_dict(ctx.resources.get("network"))
    if network.get("classID") is not None or as_list(network.get("priorities")):
        out.append(("/linux/resources/network", "network classID/priorities (net_cls/net_prio)"))
    blkio = as_dict(ctx.resources.get("blockIO"))
    if blkio.get("leafWeight") is not None:
        out.append(("/linux/resources/blockIO/leafWeight", "blockIO.leafWeight"))
    for i, dev in enumerate(as_list(blkio.get("weightDevice"))):
        if as_dict(dev).get("leafWeight") is not None:
            out.append((f"/linux/resources/blockIO/weightDevice/{i}/leafWeight", "leafWeight"))
    return out


@rule(
    "OCP301", "intel-rdt", "warning", fix="drop linux.intelRdt unless every target host has resctrl"
)
def intel_rdt(ctx: LintContext) -> Iterator[Hit]:
    """linux.intelRdt is set.

    Resource Director Technology needs specific Intel (or AMD) CPUs with the
    resctrl filesystem mounted; elsewhere the runtime refuses to start the
    container.
    """
    if ctx.linux.get("intelRdt") is not None:
        yield Hit("/linux/intelRdt", "intelRdt needs CPU support and a mounted resctrl filesystem")


@rule(
    "OCP302",
    "rdma-resources",
    "warning",
    fix="drop linux.resources.rdma unless every host has RDMA devices",
)
def rdma(ctx: LintContext) -> Iterator[Hit]:
    """linux.resources.rdma is set.

    The rdma controller only exists where RDMA hardware and drivers are
    present; on other hosts the limit cannot be applied.
    """
    if as_dict(ctx.resources.get("rdma")):
        yield Hit("/linux/resources/rdma", "rdma limits need RDMA hardware and the rdma controller")


@rule("OCP303", "kernel-memory-limit", "warning", fix="remove memory.kernel and memory.kernelTCP")
def kernel_memory(ctx: LintContext) -> Iterator[Hit]:
    """A kernel memory limit (memory.kernel or memory.kernelTCP) is set.

    Kernel memory limits are cgroup v1 only, deprecated by the kernel since
    5.4 and ignored or refused by current runtimes; the runtime-spec marks
    them NOT RECOMMENDED. A value of -1 (unlimited) asks for nothing and is
    not reported.
    """
    mem = as_dict(ctx.resources.get("memory"))
    for key in ("kernel", "kernelTCP"):
        if mem.get(key) not in (None, -1):  # -1 (unlimited) asks for nothing
            yield Hit(
                f"/linux/resources/memory/{key}", f"memory.{key} is cgroup v1 only and deprecated"
            )


@rule("OCP304", "memory-swappiness", "warning", fix="remove memory.swappiness")
def swappiness(ctx: LintContext) -> Iterator[Hit]:
    """memory.swappiness is set.

    Per-cgroup swappiness exists only in cgroup v1; cgroup v2 hosts cannot
    honour it.
    """
    if as_dict(ctx.resources.get("memory")).get("swappiness") is not None:
        yield Hit("/linux/resources/memory/swappiness", "memory.swappiness is cgroup v1 only")


@rule(
    "OCP305",
    "net-cls-prio",
    "warning",
    fix="classify traffic with nftables/eBPF on the cgroup path instead",
)
def net_cls_prio(ctx: LintContext) -> Iterator[Hit]:
    """linux.resources.network (classID, priorities) is set.

    net_cls and net_prio are cgroup v1 controllers with no v2 equivalent;
    cgroup v2 hosts cannot apply them.
    """
    network = as_dict(ctx.resources.get("network"))
    if network.get("classID") is not None or as_list(network.get("priorities")):
        yield Hit("/linux/resources/network", "net_cls/net_prio are cgroup v1 only")


@rule("OCP306", "realtime-cpu", "warning", fix="remove cpu.realtimeRuntime and cpu.realtimePeriod")
def realtime_cpu(ctx: LintContext) -> Iterator[Hit]:
    """cpu.realtimeRuntime or cpu.realtimePeriod is set.

    The RT group scheduling budget is a cgroup v1 feature and needs a kernel
    built with CONFIG_RT_GROUP_SCHED, which most distributions disable.
    """
    cpu = as_dict(ctx.resources.get("cpu"))
    for key in ("realtimeRuntime", "realtimePeriod"):
        if cpu.get(key) is not None:
            yield Hit(
                f"/linux/resources/cpu/{key}", f"cpu.{key} needs cgroup v1 RT group scheduling"
            )


@rule("OCP307", "blkio-leaf-weight", "warning", fix="remove leafWeight; use weight")
def blkio_leaf_weight(ctx: LintContext) -> Iterator[Hit]:
    """blockIO.leafWeight (or a per-device leafWeight) is set.

    Leaf weights belong to the cgroup v1 CFQ blkio controller, gone from
    cgroup v2 and from kernels without CFQ.
    """
    for pointer, _ in v1_only_fields(ctx):
        if pointer.endswith("leafWeight"):
            yield Hit(pointer, "leafWeight is cgroup v1 (CFQ) only")


@rule("OCP308", "unified-cgroup-v2-only", "info", fix="make sure every target host uses cgroup v2")
def unified(ctx: LintContext) -> Iterator[Hit]:
    """linux.resources.unified is set.

    unified writes cgroup v2 files directly; a runtime on a cgroup v1 host
    must reject it.
    """
    if as_dict(ctx.resources.get("unified")):
        yield Hit("/linux/resources/unified", "unified needs a cgroup v2 host")


@rule(
    "OCP310",
    "time-namespace",
    "info",
    fix="make sure every target host runs Linux 5.6+ and a runtime that supports time namespaces",
)
def time_namespace(ctx: LintContext) -> Iterator[Hit]:
    """A time namespace (or timeOffsets) is requested.

    Time namespaces need Linux 5.6 and a runtime implementing runtime-spec
    1.2; older ones reject the config.
    """
    if "time" in ctx.namespaces:
        yield Hit(
            f"/linux/namespaces/{ctx.namespaces['time'][0]}", "time namespace needs Linux 5.6+"
        )
    elif ctx.linux.get("timeOffsets") is not None:
        yield Hit("/linux/timeOffsets", "timeOffsets need a time namespace (Linux 5.6+)")


@rule(
    "OCP312",
    "newer-process-fields",
    "info",
    fix="check that every target runtime implements runtime-spec 1.2",
)
def newer_process_fields(ctx: LintContext) -> Iterator[Hit]:
    """process.scheduler, ioPriority or execCPUAffinity is set.

    These fields arrived in runtime-spec 1.2; older runtimes ignore them
    silently, so the process runs without the requested policy.
    """
    for key in ("scheduler", "ioPriority", "execCPUAffinity"):
        if ctx.process.get(key) is not None:
            yield Hit(f"/process/{key}", f"process.{key} needs a runtime-spec 1.2 runtime")
