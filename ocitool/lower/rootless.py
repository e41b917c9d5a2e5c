"""Rootless lowering: what changes when the runtime is unprivileged (``HostInfo.rootless``).

runc and crun make the same choices; each one is an op or a diagnostic, so
``ocitool plan --host rootless=1`` shows it:

* **id maps** (euid != 0 only: root of a user namespace, e.g. podman's, holds
  CAP_SETUID/CAP_SETGID there and writes any map of the ids it has, as runc
  does). The kernel lets an unprivileged process write a child's
  ``uid_map``/``gid_map`` only for one range of size 1 holding its own euid
  (egid), and a gid map only once ``setgroups`` is ``deny``. Such a map is
  written directly (``write_file``, after ``setgroups`` = ``deny`` for the gid
  map); any other map is written by ``newuidmap``/``newgidmap``
  (:class:`~ocitool.plan.ops.rootless.IdMapHelper`), which check the ranges
  against ``/etc/subuid``/``/etc/subgid`` and leave ``setgroups`` allowed, so
  ``additionalGids`` work (runc: ``requiresRootOrMappingTool``).
* **cgroups.** Used only where a cgroup is delegated to the user
  (``HostInfo.cgroup_delegated``): the container's cgroup is then made below
  it (a relative ``cgroupsPath`` and the default ``ocitool/<id>`` are taken
  relative to it; an absolute one must lie inside it). Otherwise there is no
  cgroup at all: a :class:`~ocitool.plan.ops.rootless.CgroupsSkipped` op, and
  a warning (OCI381) at every limit that is therefore not applied.
* **device policy.** Never installed rootless: v1 ``devices.allow`` is
  refused (EPERM) and a v2 device program needs CAP_SYS_ADMIN in the initial
  user namespace. The user namespace limits devices instead (no ``mknod``;
  nodes are bind-mounted from the host with the host's permissions, see
  ``lower/devices.py``); info OCI382 says so.
* the systemd cgroup driver is refused (OCI383): it would need the user's
  systemd instance, which ocitool does not talk to;
* a runtime with euid != 0 needs a user namespace in the config (OCI384), as
  runc's validator says;
* mounts (lower/mounts.py, lower/devices.py): device nodes are bind-mounted
  from the host, and sysfs, mqueue and proc are bound from the host where the
  user namespace does not own a new network, IPC or pid namespace (info OCI357);
  an id-mapped mount is refused (OCI385): the kernel wants CAP_SYS_ADMIN in the
  user namespace owning the source's filesystem.
"""

from __future__ import annotations

import posixpath

from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.common import INIT_PID, WriteFile
from ocitool.plan.ops.rootless import CgroupsSkipped, IdMapHelper
from ocitool.spec.model import IDMapping, Spec

SKIPPED = "OCI381"
NO_DEVICE_POLICY = "OCI382"
NO_SYSTEMD = "OCI383"
NO_USERNS = "OCI384"
NO_IDMAP = "OCI385"


# --------------------------------------------------------------------------- id maps


def direct_map(mappings: tuple[IDMapping, ...], own_id: int) -> bool:
    """A map an unprivileged process may write itself: one range, size 1, its own id."""
    return len(mappings) == 1 and mappings[0].size == 1 and mappings[0].host_id == own_id


def setgroups_denied(spec: Spec, host: HostInfo) -> bool:
    """The plan writes ``deny`` to setgroups: a rootless runtime writing the gid map itself."""
    linux = spec.linux
    user = linux.namespace("user") if linux is not None else None
    if linux is None or user is None or user.path is not None or host.euid == 0:
        return False  # euid 0, even in a user namespace, may write any map of its own ids
    return direct_map(linux.gid_mappings, host.egid)


def idmap_ops(spec: Spec, host: HostInfo) -> list[Op]:
    """The create.idmap ops of a new user namespace made by a rootless runtime."""
    linux = spec.linux
    assert linux is not None
    ops: list[Op] = []
    if setgroups_denied(spec, host):
        ops.append(
            WriteFile(
                phase=Phase.CREATE_IDMAP,
                source=linux.at("gidMappings"),
                path=f"/proc/{INIT_PID}/setgroups",
                value="deny",
            )
        )
    for key, maps, own, helper, name in (
        ("uidMappings", linux.uid_mappings, host.euid, "newuidmap", "uid_map"),
        ("gidMappings", linux.gid_mappings, host.egid, "newgidmap", "gid_map"),
    ):
        if direct_map(maps, own):
            ops.append(
                WriteFile(
                    phase=Phase.CREATE_IDMAP,
                    source=linux.at(key),
                    path=f"/proc/{INIT_PID}/{name}",
                    value=f"{maps[0].container_id} {maps[0].host_id} 1\n",
                )
            )
        else:
            ops.append(
                IdMapHelper(
                    phase=Phase.CREATE_IDMAP,
                    source=linux.at(key),
                    helper=helper,
                    mappings=tuple((m.container_id, m.host_id, m.size) for m in maps),
                )
            )
    return ops


# --------------------------------------------------------------------------- cgroups


def cgroup_path(ctx: LowerContext) -> str | None:
    """The container's cgroup path below the delegated cgroup, or None (no cgroup)."""
    delegated = ctx.host.cgroup_delegated
    if delegated is None:
        return None
    linux = ctx.spec.linux
    raw = linux.cgroups_path if linux is not None else None
    if not raw:
        return posixpath.join(delegated, "ocitool", ctx.container_id)
    if not raw.startswith("/"):
        return posixpath.normpath(posixpath.join(delegated, raw))
    path = posixpath.normpath(raw)
    inside = path == delegated or path.startswith(delegated.rstrip("/") + "/")
    return path if inside else None


def skip_reason(ctx: LowerContext) -> str:
    host = ctx.host
    if host.cgroup_delegated is None:
        return f"rootless (uid {host.euid}) and no cgroup is delegated to this user"
    return (
        f"rootless (uid {host.euid}): linux.cgroupsPath is outside the cgroup delegated "
        f"to this user ({host.cgroup_delegated})"
    )


def skipped_cgroup_ops(spec: Spec, ctx: LowerContext) -> list[Op]:
    """No cgroup: one :class:`CgroupsSkipped` op and a warning per limit not applied."""
    from ocitool.lower.verify import resource_leaves

    linux = spec.linux
    resources = linux.resources if linux is not None else None
    reason = skip_reason(ctx)
    limits = tuple(leaf for leaf, _ in resource_leaves(resources)) if resources else ()
    for leaf in limits:
        ctx.warn(
            leaf,
            f"this limit is not applied: {reason}",
            code=SKIPPED,
            hint="run as root, or delegate a cgroup to this user (cgroup v2: a systemd user "
            "session's user@UID.service, or a directory chowned to the user)",
        )
    source = linux.at("cgroupsPath") if linux is not None and linux.cgroups_path else None
    return [CgroupsSkipped(phase=Phase.CREATE_RUNTIME, source=source, reason=reason, limits=limits)]


def note_no_device_policy(spec: Spec, ctx: LowerContext) -> None:
    """Info OCI382 at ``linux.resources.devices`` (or ``linux``): no device cgroup rootless."""
    linux = spec.linux
    resources = linux.resources if linux is not None else None
    if resources is not None and resources.devices:
        pointer = resources.at("devices")
    else:
        pointer = linux.pointer if linux is not None else ""
    ctx.info(
        pointer,
        "no device cgroup policy: a rootless runtime cannot install one (v1 devices.allow "
        "is refused, a v2 device program needs CAP_SYS_ADMIN); the user namespace limits "
        "devices instead (no mknod; host nodes are bind-mounted with their permissions)",
        code=NO_DEVICE_POLICY,
    )


def refuse_systemd(spec: Spec, ctx: LowerContext) -> Exception:
    linux = spec.linux
    return ctx.error(
        linux.at("cgroupsPath") if linux is not None else "",
        "the systemd cgroup driver is not supported in rootless mode",
        code=NO_SYSTEMD,
        hint="run without --systemd-cgroup (cgroups are then used where delegated)",
    )


def own_cgroup(host: HostInfo, mountpoint: str) -> str:
    """The runtime's own cgroup in the hierarchy at ``mountpoint`` ("/" when unknown)."""
    return host.own_cgroups.get(mountpoint, "/")
