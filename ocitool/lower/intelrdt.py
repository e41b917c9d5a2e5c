"""linux.intelRdt: a resctrl control group (cache / memory-bandwidth allocation) for the container.

resctrl (Documentation/arch/x86/resctrl.rst) is a cgroup-like filesystem: a
directory per class of service (CLOS) with a ``schemata`` file and a ``tasks``
file, and ``mon_groups/<name>`` for monitoring. So the plan uses the same
mkdir / write / join / remove ops as cgroups, with resctrl paths. The CLOS is
``closID`` or, when unset, the container id (as runc does). The schemata lines
are ``l3CacheSchema``, ``memBwSchema`` and ``schemata`` in that order, written
in one write(2). A host without resctrl cannot honour any of it: error.
"""

from __future__ import annotations

import posixpath

from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.cgroup import CgroupJoin, CgroupMkdir, CgroupRemove, CgroupWrite
from ocitool.spec.model import Spec


def lower_intel_rdt(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    rdt = spec.linux.intel_rdt if spec.linux is not None else None
    if rdt is None:
        return []
    if host.resctrl is None:
        raise ctx.error(
            rdt.pointer,
            "linux.intelRdt needs the resctrl filesystem, which this host does not have",
            code="OCI343",
            hint="mount -t resctrl resctrl /sys/fs/resctrl on a CPU with RDT, or drop intelRdt "
            "(plan for such a host with --host resctrl=1)",
        )
    clos = rdt.clos_id or ctx.container_id
    if "/" in clos or clos in (".", "..", "info", "mon_groups", "mon_data"):
        raise ctx.error(
            rdt.at("closID"), f"closID {clos!r} is not a usable resctrl group name", code="OCI344"
        )
    group = posixpath.join(host.resctrl, clos)
    lines: list[tuple[str, str]] = []
    for pointer, text in (
        (rdt.at("l3CacheSchema"), rdt.l3_cache_schema),
        (rdt.at("memBwSchema"), rdt.mem_bw_schema),
        *((rdt.at("schemata", i), line) for i, line in enumerate(rdt.schemata)),
    ):
        for line in (text or "").splitlines():
            if line.strip():
                lines.append((pointer, line.strip()))
    for pointer, line in lines:
        resource, sep, domains = line.partition(":")
        if not sep or not resource.strip() or not domains.strip():
            raise ctx.error(
                pointer,
                f"schemata line {line!r} is not RESOURCE:ID=VALUE;...",
                code="OCI344",
                expected="e.g. L3:0=ffff0;1=3ff or MB:0=20;1=70",
            )
    ops: list[Op] = [CgroupMkdir(phase=Phase.CREATE_RUNTIME, source=rdt.pointer, path=group)]
    if lines:
        ops.append(
            CgroupWrite(
                phase=Phase.CREATE_RUNTIME,
                source=lines[0][0] if len({p for p, _ in lines}) == 1 else rdt.pointer,
                path=posixpath.join(group, "schemata"),
                value="\n".join(line for _, line in lines) + "\n",
            )
        )
    ops.append(
        CgroupJoin(
            phase=Phase.CREATE_SPAWN, source=rdt.pointer, path=posixpath.join(group, "tasks")
        )
    )
    monitoring = rdt.enable_monitoring or rdt.enable_cmt or rdt.enable_mbm
    mon = posixpath.join(group, "mon_groups", ctx.container_id)
    if monitoring:
        source = rdt.at(
            "enableMonitoring"
            if rdt.enable_monitoring
            else "enableCMT"
            if rdt.enable_cmt
            else "enableMBM"
        )
        ops.insert(-1, CgroupMkdir(phase=Phase.CREATE_RUNTIME, source=source, path=mon))
        ops.append(
            CgroupJoin(phase=Phase.CREATE_SPAWN, source=source, path=posixpath.join(mon, "tasks"))
        )
        ops.append(CgroupRemove(phase=Phase.DELETE, source=source, path=mon))
    if rdt.clos_id is None:
        # Only a group the runtime named itself is the container's to remove; a shared
        # closID group may hold other containers.
        ops.append(CgroupRemove(phase=Phase.DELETE, source=rdt.pointer, path=group))
    return ops
