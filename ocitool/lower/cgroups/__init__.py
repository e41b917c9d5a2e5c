"""Lower ``linux.cgroupsPath`` and ``linux.resources`` to cgroup ops for this host.

The sequence (phases from ocitool.plan.ops.base):

1. ``create.runtime``: make the directories; on v2 enable the controllers in
   every ancestor's ``cgroup.subtree_control``; write every limit; install
   the device policy (v1: ``devices.deny``/``devices.allow`` lines; v2: an
   eBPF program). All before the init exists, so no process ever runs
   unconfined in the cgroup.
2. ``create.spawn``: write the init's pid to ``cgroup.procs`` (every v1
   hierarchy, or the v2 directory).
3. ``delete``: remove the directories.

Which files, in which order, and what the host cannot honour are in v1.py
and v2.py; the cgroup path rule is LowerContext.cgroup_path.

With the systemd driver (``--systemd-cgroup``, systemd.py) systemd makes the
cgroup once the init exists, so everything moves to ``create.spawn``.
"""

from __future__ import annotations

import posixpath

from ocitool.lower.cgroups import paths, v1, v2
from ocitool.lower.cgroups.common import Writer
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.cgroup import CgroupJoin, CgroupMkdir, CgroupRemove
from ocitool.spec.model import Resources, Spec

CPUSET_INHERIT = ("cpuset.cpus", "cpuset.mems")


def lower_cgroups(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    if host.rootless:
        from ocitool.lower import rootless

        if ctx.systemd_cgroup:
            raise rootless.refuse_systemd(spec, ctx)
        if ctx.cgroups_skipped:
            return rootless.skipped_cgroup_ops(spec, ctx)
        rootless.note_no_device_policy(spec, ctx)
    if ctx.systemd_cgroup:
        from ocitool.lower.cgroups.systemd import lower_systemd_cgroups

        return lower_systemd_cgroups(spec, host, ctx)
    cgroup_path = ctx.cgroup_path
    linux = spec.linux
    source = linux.at("cgroupsPath") if linux is not None and linux.cgroups_path else None
    resources = linux.resources if linux is not None else None
    w = Writer(ctx=ctx, host=host, cgroup_path=cgroup_path, driver=paths.driver(host))
    dirs = make_and_limit(w, source, resources)
    procs = [posixpath.join(d, "cgroup.procs") for d in dirs]
    ops = list(w.ops)
    ops += [CgroupJoin(phase=Phase.CREATE_SPAWN, source=source, path=p) for p in procs]
    ops += [CgroupRemove(phase=Phase.DELETE, source=source, path=d) for d in dirs]
    return ops


def make_and_limit(w: Writer, source: str | None, resources: Resources | None) -> list[str]:
    """Append the directories, limits and device policy to ``w``; returns the directories.

    Shared by both drivers (with systemd, the unit has made the directories
    already and the ops move to ``create.spawn``).
    """
    host, cgroup_path = w.host, w.cgroup_path
    if w.driver == "v1":
        dirs = container_dirs(host, cgroup_path)
        cpuset_dir = paths.v1_dir(host, "cpuset", cgroup_path)
        for d in dirs:
            inherit = CPUSET_INHERIT if d == cpuset_dir else ()
            w.ops.append(
                CgroupMkdir(
                    phase=Phase.CREATE_RUNTIME, source=source, path=d, copy_from_parent=inherit
                )
            )
        if resources is not None:
            v1.write_limits(w, resources)
        if not host.rootless:  # rootless: no device policy (lower/rootless.py)
            v1.write_devices(w, resources)
        return dirs
    leaf = paths.v2_dir(host, cgroup_path)
    w.ops.append(CgroupMkdir(phase=Phase.CREATE_RUNTIME, source=source, path=leaf))
    v2.subtree_writes(w)
    if resources is not None:
        v2.write_limits(w, resources)
    if not host.rootless:
        w.ops.extend(v2.device_program(w, resources))
    return [leaf]


def container_dirs(host: HostInfo, cgroup_path: str) -> list[str]:
    """The container's cgroup directories on this host (one per v1 hierarchy, or one on v2)."""
    if paths.driver(host) == "v1":
        unified = paths.hybrid_unified_dir(host, cgroup_path)
        return paths.v1_dirs(host, cgroup_path) + ([unified] if unified else [])
    return [paths.v2_dir(host, cgroup_path)]


def join_ops(host: HostInfo, cgroup_path: str, phase: Phase, pid: str) -> list[Op]:
    """Move ``pid`` into an existing container's cgroup (e.g. for ``ocitool-runc exec``)."""
    return [
        CgroupJoin(phase=phase, source=None, path=posixpath.join(d, "cgroup.procs"), pid=pid)
        for d in container_dirs(host, cgroup_path)
    ]


def remove_ops(host: HostInfo, cgroup_path: str, phase: Phase = Phase.DELETE) -> list[Op]:
    """Remove an existing container's cgroup directories (``delete`` of a stored container)."""
    return [
        CgroupRemove(phase=phase, source=None, path=d) for d in container_dirs(host, cgroup_path)
    ]


__all__ = ["container_dirs", "join_ops", "lower_cgroups", "remove_ops"]
