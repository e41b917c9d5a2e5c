"""The systemd cgroup driver: a transient unit makes the cgroup, then the files are written.

runc's sequence (libcontainer/cgroups/systemd), in plan ops. All of it is
in ``create.spawn``, because the unit is created with the init's pid in its
``PIDs`` property (systemd moves it there), so the init must exist:

1. ``systemd_start_unit``: StartTransientUnit(unit, "replace", properties),
   waiting for the job (properties: systemd_props.py);
2. ``cgroup_mkdir`` of the container's directories: systemd made them already
   (a no-op that keeps the list of directories the later commands use); on
   v1 this also fills a new cpuset directory, as runc's join does;
3. cgroup v2: enable the controllers in the ancestors, as runc's
   CreateCgroupPath does; then every limit written to its file exactly as the
   cgroupfs driver writes it (the files cover what systemd has no property
   for), and the device program;
4. cgroup v1: the limits and device rules per hierarchy, then the init joins
   every hierarchy systemd does not manage (systemd put it in its own
   ``name=systemd`` / unified one and in the controllers it enabled; joining
   those again changes nothing);
5. ``delete``: StopUnit (systemd removes the cgroup), then the directories
   are removed if anything is left.

The init runs no op of its own before all of this is done: the runtime
applies ``create.spawn`` ops before it hands anything to the init.
"""

from __future__ import annotations

import posixpath

from ocitool import records
from ocitool.lower.cgroups import make_and_limit, paths
from ocitool.lower.cgroups.common import Writer
from ocitool.lower.cgroups.systemd_props import unit_properties
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.cgroup import (
    CgroupJoin,
    CgroupRemove,
    StartTransientUnit,
    StopUnit,
)
from ocitool.spec.model import Spec

# Hierarchies systemd itself places the unit's processes in.
SYSTEMD_OWNED = ("name=systemd",)


def lower_systemd_cgroups(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    linux = spec.linux
    source = linux.at("cgroupsPath") if linux is not None and linux.cgroups_path else None
    if not host.systemd:
        raise ctx.error(
            source or "",
            "--systemd-cgroup needs systemd as the host's init, and this host has none "
            "(no /run/systemd/system)",
            code="OCI318",
            hint="drop --systemd-cgroup to use the cgroupfs driver "
            "(podman: --cgroup-manager=cgroupfs; containerd: SystemdCgroup = false); "
            "for a dry run elsewhere: --host systemd=1",
        )
    unit = ctx.systemd_unit
    resources = linux.resources if linux is not None else None
    is_v2 = paths.driver(host) == "v2"
    start = StartTransientUnit(
        phase=Phase.CREATE_SPAWN,
        source=source,
        unit=unit.unit,
        slice=unit.slice,
        properties=unit_properties(ctx, unit, resources, is_v2),
    )
    cgroup_path = unit.cgroup_path
    w = Writer(ctx=ctx, host=host, cgroup_path=cgroup_path, driver=paths.driver(host))
    dirs = make_and_limit(w, source, resources)
    joins: list[Op] = []
    if not is_v2:
        owned = {host.v1_mountpoint(name) for name in SYSTEMD_OWNED}
        owned.add(host.unified_mount if host.cgroup == "hybrid" else None)
        joins = [
            CgroupJoin(
                phase=Phase.CREATE_SPAWN, source=source, path=posixpath.join(d, "cgroup.procs")
            )
            for d in dirs
            if not any(o and (d == o or d.startswith(o + "/")) for o in owned)
        ]
    spawn = [records.replace(op, phase=Phase.CREATE_SPAWN) for op in w.ops]
    ops: list[Op] = [start, *spawn, *joins]
    ops.append(StopUnit(phase=Phase.DELETE, source=source, unit=unit.unit))
    ops += [CgroupRemove(phase=Phase.DELETE, source=source, path=d) for d in dirs]
    return ops
