"""Namespaces and id maps: the order in which the init enters and creates them.

The sequence is runc's nsexec, made explicit:

1. the runtime clones a plain child (the init) — ``create.spawn``; the cgroup
   join follows, so a new cgroup namespace is rooted at the container's cgroup;
2. the init joins the namespaces given by ``path`` (user first, because the
   others are checked against it; mount last, because it changes what later
   paths resolve to), then unshares every new namespace in one call
   (with CLONE_NEWUSER the kernel creates the user namespace first and makes it
   the owner of the others) — ``create.namespaces``;
3. while the init waits, the runtime writes ``setgroups`` (``deny`` when it is
   unprivileged: the kernel requires it before an unprivileged gid_map write),
   ``uid_map`` and ``gid_map`` — ``create.idmap``;
4. the init becomes root of its user namespace, writes time offsets (only
   possible before any process lives in the new time namespace), unshares the
   cgroup namespace (after the join) and forks when a pid namespace (new or
   joined) or a new time namespace must apply: those only affect the caller's
   children (setns into a time namespace switches the caller itself).
"""

from __future__ import annotations

from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.common import INIT_PID, WriteFile
from ocitool.plan.ops.namespaces import Clone, Fork, NetDeviceMove, Setns, Unshare
from ocitool.plan.ops.process import Setresgid, Setresuid
from ocitool.spec.facts import NAMESPACE_FLAGS
from ocitool.spec.model import IDMapping, Linux, Namespace, Spec

# Join order: user first, mount last (see module docstring).
JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount")
# Unshare flag order in the printed call: user first, for the reader.
UNSHARE_ORDER = ("user", "mount", "uts", "ipc", "network", "pid", "time")
# Kernel version that introduced each namespace type (namespaces(7)).
MIN_KERNEL = {"cgroup": (4, 6), "time": (5, 6)}


def idmap_text(mappings: tuple[IDMapping, ...]) -> str:
    """The uid_map/gid_map file content: one ``inside outside count`` line per range."""
    return "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in mappings)


def maps_id(mappings: tuple[IDMapping, ...], container_id: int) -> bool:
    return any(m.container_id <= container_id < m.container_id + m.size for m in mappings)


def _check(spec: Spec, host: HostInfo, ctx: LowerContext) -> dict[str, Namespace]:
    assert spec.linux is not None
    seen: dict[str, Namespace] = {}
    for ns in spec.linux.namespaces:
        if ns.type not in NAMESPACE_FLAGS:
            raise ctx.error(
                ns.at("type"),
                f"unknown namespace type {ns.type!r}",
                code="OCI362",
                expected=", ".join(NAMESPACE_FLAGS),
            )
        if ns.type in seen:
            raise ctx.error(
                ns.pointer,
                f"namespace type {ns.type!r} is listed twice (first at {seen[ns.type].pointer})",
                code="OCI362",
                hint="list each namespace type once",
            )
        if not host.has_namespace(ns.type):
            raise ctx.error(
                ns.pointer,
                f"this host does not support {ns.type} namespaces",
                code="OCI330",
                hint=f"host namespaces: {', '.join(host.namespaces)}",
            )
        need = MIN_KERNEL.get(ns.type)
        if need and not host.kernel_at_least(*need):
            kernel = ".".join(map(str, host.kernel))
            raise ctx.error(
                ns.pointer,
                f"{ns.type} namespaces need Linux {need[0]}.{need[1]}+, host kernel is {kernel}",
                code="OCI330",
            )
        seen[ns.type] = ns
    return seen


def _check_userns(spec: Spec, host: HostInfo, ctx: LowerContext, user: Namespace | None) -> None:
    linux = spec.linux
    assert linux is not None
    has_maps = bool(linux.uid_mappings or linux.gid_mappings)
    if user is None and has_maps:
        raise ctx.error(
            linux.at("uidMappings" if linux.uid_mappings else "gidMappings"),
            "uid/gid mappings are set but the container has no user namespace",
            code="OCI363",
            hint='add {"type": "user"} to linux.namespaces, or remove the mappings',
        )
    if user is not None and user.path is not None and has_maps:
        raise ctx.error(
            linux.at("uidMappings" if linux.uid_mappings else "gidMappings"),
            "uid/gid mappings cannot be set when joining an existing user namespace",
            code="OCI363",
            hint="the joined namespace already has its maps; remove these",
        )
    if user is not None and user.path is None:
        for key, maps in (("uidMappings", linux.uid_mappings), ("gidMappings", linux.gid_mappings)):
            if not maps:
                raise ctx.error(
                    linux.at(key),
                    f"a new user namespace needs linux.{key}",
                    code="OCI363",
                    hint="without a map every id is the overflow id (65534) and nothing works",
                )
            if len(maps) > 340:
                raise ctx.error(
                    linux.at(key), f"{len(maps)} {key} ranges; the kernel allows 340", code="OCI363"
                )


def lower_namespaces(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    ops: list[Op] = [Clone(phase=Phase.CREATE_SPAWN, source=None, flags=())]
    linux = spec.linux
    if linux is None:
        return ops
    seen = _check(spec, host, ctx)
    user = seen.get("user")
    _check_userns(spec, host, ctx, user)
    if user is None and host.euid != 0:
        raise ctx.error(
            linux.at("namespaces"),
            f"a rootless runtime (uid {host.euid}) needs a user namespace: without one it "
            "cannot create the other namespaces, mount or change ids",
            code="OCI384",
            hint='add {"type": "user"} and uid/gid mappings (ocitool spec --rootless does)',
        )

    # 2. joins, then one unshare of the new namespaces (cgroup excepted: see 4.)
    for ns_type in JOIN_ORDER:
        ns = seen.get(ns_type)
        if ns is not None and ns.path is not None:
            ops.append(
                Setns(
                    phase=Phase.CREATE_NAMESPACES,
                    source=ns.at("path"),
                    path=ns.path,
                    nstype=NAMESPACE_FLAGS[ns_type],
                )
            )
    new = [t for t in UNSHARE_ORDER if t in seen and seen[t].path is None]
    if new:
        ops.append(
            Unshare(
                phase=Phase.CREATE_NAMESPACES,
                source=linux.at("namespaces"),
                flags=tuple(NAMESPACE_FLAGS[t] for t in new),
            )
        )

    # 3. id maps and net devices, from the runtime side
    if user is not None and user.path is None:
        from ocitool.lower import rootless

        if (
            rootless.setgroups_denied(spec, host)
            and spec.process is not None
            and spec.process.user.additional_gids
        ):
            raise ctx.error(
                spec.process.user.at("additionalGids"),
                "additionalGids cannot be applied when a rootless runtime writes the gid map "
                "itself: setgroups(2) must be denied in the user namespace first",
                code="OCI364",
                hint="map more gids (newgidmap, from /etc/subgid), remove additionalGids, "
                "or run the runtime as root",
            )
        if host.euid != 0:
            ops.extend(rootless.idmap_ops(spec, host))
        else:
            ops.extend(_root_idmap_ops(linux))
    ops.extend(_net_devices(spec, ctx, seen))

    # 4. inside: become root of the new user ns, time offsets, cgroup ns, fork
    root_mapped = maps_id(linux.gid_mappings, 0) and maps_id(linux.uid_mappings, 0)
    if user is not None and user.path is None and root_mapped:
        ops.append(
            Setresgid(
                phase=Phase.CREATE_INIT, source=linux.at("gidMappings"), rgid=0, egid=0, sgid=0
            )
        )
        ops.append(
            Setresuid(
                phase=Phase.CREATE_INIT, source=linux.at("uidMappings"), ruid=0, euid=0, suid=0
            )
        )
    ops.extend(_time_offsets(spec, ctx, seen))
    cgroup = seen.get("cgroup")
    if cgroup is not None and cgroup.path is None:
        ops.append(
            Unshare(phase=Phase.CREATE_INIT, source=cgroup.pointer, flags=("CLONE_NEWCGROUP",))
        )
    # setns(2) into a time namespace switches the caller too; a new one (unshare) and
    # any pid namespace apply to children only.
    reasons = [t for t in ("pid", "time") if t in seen and (t == "pid" or seen[t].path is None)]
    if reasons:
        first = seen[reasons[0]]
        why = " and ".join(
            f"a {'new' if seen[t].path is None else 'joined'} {t} namespace" for t in reasons
        )
        ops.append(
            Fork(
                phase=Phase.CREATE_INIT,
                source=first.pointer,
                reason=f"{why} only applies to children",
            )
        )
    return ops


def _root_idmap_ops(linux: Linux) -> list[Op]:
    """A privileged runtime writes every map itself, and leaves setgroups allowed."""
    return [
        WriteFile(
            phase=Phase.CREATE_IDMAP,
            source=linux.at("gidMappings"),
            path=f"/proc/{INIT_PID}/setgroups",
            value="allow",
        ),
        WriteFile(
            phase=Phase.CREATE_IDMAP,
            source=linux.at("uidMappings"),
            path=f"/proc/{INIT_PID}/uid_map",
            value=idmap_text(linux.uid_mappings),
        ),
        WriteFile(
            phase=Phase.CREATE_IDMAP,
            source=linux.at("gidMappings"),
            path=f"/proc/{INIT_PID}/gid_map",
            value=idmap_text(linux.gid_mappings),
        ),
    ]


def _time_offsets(spec: Spec, ctx: LowerContext, seen: dict[str, Namespace]) -> list[Op]:
    linux = spec.linux
    assert linux is not None
    if not linux.time_offsets:
        return []
    time_ns = seen.get("time")
    if time_ns is None or time_ns.path is not None:
        raise ctx.error(
            linux.at("timeOffsets"),
            "timeOffsets need a new time namespace"
            + (" (offsets of a joined one cannot be changed)" if time_ns is not None else ""),
            code="OCI365",
            hint='add {"type": "time"} to linux.namespaces' if time_ns is None else None,
        )
    lines = "".join(f"{o.clock} {o.secs} {o.nanosecs}\n" for o in linux.time_offsets)
    for off in linux.time_offsets:
        if off.clock not in ("monotonic", "boottime"):
            raise ctx.error(
                off.pointer,
                f"unknown clock {off.clock!r} in timeOffsets",
                code="OCI365",
                expected="monotonic or boottime",
            )
    return [
        WriteFile(
            phase=Phase.CREATE_INIT,
            source=linux.at("timeOffsets"),
            path="/proc/self/timens_offsets",
            value=lines,
        )
    ]


def _net_devices(spec: Spec, ctx: LowerContext, seen: dict[str, Namespace]) -> list[Op]:
    linux = spec.linux
    assert linux is not None
    if not linux.net_devices:
        return []
    net = seen.get("network")
    if net is None:
        raise ctx.error(
            linux.at("netDevices"),
            "netDevices need a network namespace to move the devices into",
            code="OCI366",
            hint='add {"type": "network"} to linux.namespaces',
        )
    return [
        NetDeviceMove(
            phase=Phase.CREATE_IDMAP,
            source=dev.pointer,
            device=dev.host_name,
            new_name=dev.name or dev.host_name,
            netns=f"/proc/{INIT_PID}/ns/net",
        )
        for dev in linux.net_devices
    ]
