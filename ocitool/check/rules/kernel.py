"""Kernel features and privileges the plan needs: capabilities, id-mapped mounts, memory
policies, seccomp actions and flags, cgroup controllers and files. (Namespace types the
kernel lacks are refused when the plan is made, from HostInfo: OCI330.)

Each of these fails at run time with EPERM, EINVAL or ENOENT from a call
deep in the create, where the message cannot say "this kernel does not
have it". The minimum kernel versions are those of the kernel's own
history (Documentation, the commits that added each feature).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ocitool.check.context import CheckContext
from ocitool.check.registry import Finding, check
from ocitool.plan.ops.cgroup import CgroupWrite
from ocitool.plan.ops.fs import IdmappedBindMount
from ocitool.plan.ops.process import SetMempolicy
from ocitool.plan.ops.rootless import IdMapHelper
from ocitool.plan.ops.security import SeccompLoad, SetCapabilities

_CAP_SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")

_MPOL_SINCE = {"MPOL_PREFERRED_MANY": (5, 15), "MPOL_WEIGHTED_INTERLEAVE": (6, 9)}
_MPOL_FLAG_SINCE = {"MPOL_F_NUMA_BALANCING": (5, 12)}

# filesystems whose id-mapped mounts the kernel supports, with the version that added it
_IDMAP_FS_SINCE = {
    "ext4": (5, 12),
    "xfs": (5, 12),
    "vfat": (5, 12),
    "msdos": (5, 12),
    "btrfs": (5, 15),
    "ntfs3": (5, 15),
    "f2fs": (5, 18),
    "fat": (5, 12),
    "erofs": (5, 17),
    "overlay": (5, 19),
    "squashfs": (6, 2),
    "tmpfs": (6, 3),
    "ceph": (6, 7),
    "bcachefs": (6, 7),
    "hugetlbfs": (6, 10),
}

_SECCOMP_ACTIONS = {
    "SCMP_ACT_KILL": "kill_thread",
    "SCMP_ACT_KILL_THREAD": "kill_thread",
    "SCMP_ACT_KILL_PROCESS": "kill_process",
    "SCMP_ACT_TRAP": "trap",
    "SCMP_ACT_ERRNO": "errno",
    "SCMP_ACT_TRACE": "trace",
    "SCMP_ACT_LOG": "log",
    "SCMP_ACT_ALLOW": "allow",
    "SCMP_ACT_NOTIFY": "user_notif",
}
_SECCOMP_FLAG_SINCE = {
    "SECCOMP_FILTER_FLAG_TSYNC": (3, 17),
    "SECCOMP_FILTER_FLAG_LOG": (4, 14),
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": (4, 17),
    "SECCOMP_FILTER_FLAG_NEW_LISTENER": (5, 0),
    "SECCOMP_FILTER_FLAG_TSYNC_ESRCH": (5, 7),
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": (5, 19),
}


def _kernel(ctx: CheckContext) -> str:
    return ".".join(map(str, ctx.host.kernel))


@check(
    "OCH301",
    "capability-not-held",
    "error",
    fix="drop the capability from process.capabilities, or run the runtime with it in its "
    "bounding set",
)
def capability_not_held(ctx: CheckContext) -> Iterator[Finding]:
    """The config gives the container a capability the runtime itself does not hold.

    A process can only keep capabilities in its own bounding set; capset
    refuses a permitted set that grows (EPERM). A runtime started in a
    restricted environment (a container, a CI runner, a systemd unit with
    CapabilityBoundingSet) cannot hand out what it lacks.
    """
    held = ctx.facts.bounding_caps
    caps = ctx.spec.process.capabilities if ctx.spec.process else None
    if held is None or caps is None:
        return
    index = next((i for i, _ in ctx.each(SetCapabilities)), None)
    for name in _CAP_SETS:
        for k, cap in enumerate(getattr(caps, name) or ()):
            norm = cap.upper() if cap.upper().startswith("CAP_") else "CAP_" + cap.upper()
            if norm not in held and name != "bounding":
                yield Finding(
                    f"/process/capabilities/{name}/{k}",
                    f"{norm} is not in the runtime's bounding set (it cannot give what it lacks)",
                    index,
                )


def _fstype(path: str) -> str | None:
    """The filesystem type of the mount holding ``path`` (longest mountpoint prefix)."""
    best, fstype = "", None
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    real = os.path.realpath(path)
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mnt = parts[1].replace("\\040", " ")
        if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, fstype = mnt, parts[2]
    return fstype


@check(
    "OCH303",
    "idmapped-mount-unsupported",
    "error",
    fix="drop idmap/ridmap (chown the source to the mapped ids instead), or move the source "
    "to a filesystem that supports id-mapped mounts",
)
def idmapped_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    """An id-mapped mount where the kernel or the source's filesystem cannot id-map.

    Id-mapped mounts need Linux 5.12, and each filesystem its own version
    (ext4/xfs 5.12, btrfs 5.15, overlayfs 5.19, tmpfs 6.3, ...). mount_setattr(MOUNT_ATTR_IDMAP) fails with EINVAL, which names neither
    the filesystem nor the kernel.
    """
    for i, op in ctx.each(IdmappedBindMount):
        where = op.source or "/mounts"
        if not ctx.host.kernel_at_least(5, 12):
            yield Finding(where, f"this kernel ({_kernel(ctx)}) has no id-mapped mounts (5.12+)", i)
            continue
        if op.src is None or not os.path.exists(op.src):
            continue  # OCH102 says so
        fstype = _fstype(op.src)
        since = _IDMAP_FS_SINCE.get(fstype or "")
        if fstype is not None and (since is None or not ctx.host.kernel_at_least(*since)):
            yield Finding(
                where,
                f"{op.src} is on {fstype}, which cannot be id-mapped on this kernel "
                f"({_kernel(ctx)})",
                i,
            )


@check(
    "OCH304",
    "memory-policy-unsupported",
    "error",
    fix="use a mode and flags this kernel has, and nodes from /sys/devices/system/node/online",
)
def memory_policy(ctx: CheckContext) -> Iterator[Finding]:
    """linux.memoryPolicy names a mode or flag this kernel lacks, or NUMA nodes it does not have.

    set_mempolicy fails with EINVAL either way.
    """
    for i, op in ctx.each(SetMempolicy):
        since = _MPOL_SINCE.get(op.mode)
        if since and not ctx.host.kernel_at_least(*since):
            yield Finding(
                "/linux/memoryPolicy/mode",
                f"{op.mode} needs Linux {since[0]}.{since[1]} (this kernel: {_kernel(ctx)})",
                i,
            )
        for k, flag in enumerate(op.flags):
            fsince = _MPOL_FLAG_SINCE.get(flag)
            if fsince and not ctx.host.kernel_at_least(*fsince):
                yield Finding(
                    f"/linux/memoryPolicy/flags/{k}",
                    f"{flag} needs Linux {fsince[0]}.{fsince[1]} (this kernel: {_kernel(ctx)})",
                    i,
                )
        online = ctx.facts.numa_nodes
        if op.nodes and online is not None:
            from ocitool.check.facts import parse_list

            try:
                wanted = parse_list(op.nodes)
            except ValueError:
                continue
            missing = sorted(wanted - online)
            if missing:
                yield Finding(
                    "/linux/memoryPolicy/nodes",
                    f"NUMA node(s) {','.join(map(str, missing))} are not online "
                    f"(online: {','.join(map(str, sorted(online)))})",
                    i,
                )


@check(
    "OCH305",
    "seccomp-feature-unsupported",
    "error",
    fix="use actions from /proc/sys/kernel/seccomp/actions_avail and flags this kernel has",
)
def seccomp_feature(ctx: CheckContext) -> Iterator[Finding]:
    """The seccomp profile uses an action or a filter flag this kernel does not offer.

    The filter load fails with EINVAL (an unknown flag) or the kernel treats
    an unknown action as kill: the container dies at its first matching call.
    """
    seccomp = ctx.spec.linux.seccomp if ctx.spec.linux else None
    load = next(iter(ctx.each(SeccompLoad)), None)
    if seccomp is None or load is None:
        return
    index = load[0]
    avail = ctx.facts.seccomp_actions
    if avail is not None:
        uses = [("/linux/seccomp/defaultAction", seccomp.default_action)]
        uses += [
            (f"/linux/seccomp/syscalls/{k}/action", s.action)
            for k, s in enumerate(seccomp.syscalls)
        ]
        reported: set[str] = set()
        for pointer, action in uses:
            need = _SECCOMP_ACTIONS.get(action)
            if need is not None and need not in avail and action not in reported:
                reported.add(action)
                yield Finding(
                    pointer,
                    f"{action} is not supported by this kernel ({need} is not in actions_avail)",
                    index,
                )
    for k, flag in enumerate(seccomp.flags):
        since = _SECCOMP_FLAG_SINCE.get(flag)
        if since and not ctx.host.kernel_at_least(*since):
            yield Finding(
                f"/linux/seccomp/flags/{k}",
                f"{flag} needs Linux {since[0]}.{since[1]} (this kernel: {_kernel(ctx)})",
                index,
            )


# v1 files that exist only with a kernel option (swap accounting, kmem, RT group
# scheduling, CFS bandwidth, a hugepage size, blkio throttling); the root cgroup
# has them when the kernel does
_FEATURE_FILES = (
    "memory.memsw.",
    "memory.kmem.",
    "cpu.rt_",
    "cpu.cfs_",
    "hugetlb.",
    "blkio.throttle.",
)


def _hierarchy(ctx: CheckContext, path: str) -> str | None:
    mounts = [m for m in ctx.host.cgroup_mounts.values()]
    if ctx.host.unified_mount:
        mounts.append(ctx.host.unified_mount)
    best = None
    for m in mounts:
        if path.startswith(m.rstrip("/") + "/") and (best is None or len(m) > len(best)):
            best = m
    return best


@check(
    "OCH306",
    "cgroup-file-missing",
    "error",
    fix="drop the limit, or enable the controller/feature on the host (kernel config, boot "
    "option such as swapaccount=1, cgroup.subtree_control)",
)
def cgroup_file_missing(ctx: CheckContext) -> Iterator[Finding]:
    """A resource limit needs a cgroup controller or file this host does not have.

    The write to a missing file fails with ENOENT or EACCES and the runtime
    reports the file, not the missing controller or kernel option (swap
    accounting, real-time group scheduling, a hugepage size).
    """
    controllers: frozenset[str] | None = None
    for i, op in ctx.each(CgroupWrite):
        if op.phase.value != "create.runtime":
            continue
        name = os.path.basename(op.path)
        if name.startswith("cgroup."):
            continue
        top = _hierarchy(ctx, op.path)
        where = op.source or "/linux/resources"
        if top is None:
            yield Finding(where, f"no cgroup hierarchy is mounted for {op.path}", i)
            continue
        controller = name.split(".", 1)[0]
        if top == ctx.host.unified_mount:
            if controllers is None:
                text = ctx.facts.cgroup_file(os.path.join(top, "cgroup.controllers"))
                controllers = frozenset((text or "").split())
            if controller not in controllers:
                yield Finding(
                    where, f"the cgroup v2 controller {controller!r} is not available at {top}", i
                )
        elif name.startswith(_FEATURE_FILES) and not os.path.exists(os.path.join(top, name)):
            yield Finding(
                where, f"{name} does not exist in {top} (the kernel lacks the feature)", i
            )


def _granted(start: int, count: int, ranges: list[tuple[int, int]]) -> bool:
    """Whether ``start .. start+count-1`` lies inside one granted (start, count) range."""
    return any(lo <= start and start + count <= lo + n for lo, n in ranges)


@check(
    "OCH307",
    "idmap-helper-unusable",
    "error",
    fix="install the uidmap package, grant the ranges (usermod --add-subuids/--add-subgids), "
    "or map only your own uid/gid with size 1",
)
def idmap_helper_unusable(ctx: CheckContext) -> Iterator[Finding]:
    """A rootless id map needs newuidmap/newgidmap, which are missing or will refuse it.

    An unprivileged runtime writes only a one-id map of its own uid/gid
    itself; any other range goes through the setuid helpers, which grant
    only what /etc/subuid and /etc/subgid list for the user. Either failure
    otherwise shows only once the container is being created (OCI540,
    OCI541).
    """
    for i, op in ctx.each(IdMapHelper):
        kind = "uid" if op.helper == "newuidmap" else "gid"
        where = op.source or "/linux"
        if op.helper not in ctx.facts.idmap_helpers:
            yield Finding(where, f"{op.helper} is not installed (the uidmap package)", i)
            continue
        own = ctx.host.euid if kind == "uid" else ctx.host.egid
        granted = ctx.facts.subordinate_ids[kind]
        for k, (_inside, outside, count) in enumerate(op.mappings):
            if (count == 1 and outside == own) or _granted(outside, count, granted):
                continue
            yield Finding(
                f"{where}/{k}",
                f"host {kind}s {outside}-{outside + count - 1} are not granted to this user in "
                f"/etc/sub{kind}",
                i,
            )
