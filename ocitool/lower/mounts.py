"""Lower ``root``, ``mounts``, ``linux.devices``, masked/readonly paths to filesystem ops.

The sequence a correct runtime performs (runc libcontainer/rootfs_linux.go,
crun src/libcrun/linux.c), in the init, inside its new mount namespace:

``create.init`` (before pivot_root)
  1. ``rootfsPropagation`` (default ``rprivate``) on ``/``, recursively, so
     nothing we mount leaks back to the host.
  2. bind the rootfs onto itself (``MS_BIND|MS_REC``): pivot_root needs
     the new root to be a mount point.
  3. a default /dev (tmpfs, devpts, shm, mqueue) when the config mounts
     nothing on /dev (runc's ``runc spec`` config always does; a hand
     written config may not).
  4. every ``mounts[]`` entry, in order: mkdir of the target, the mount,
     a bind remount for flags a bind ignores, ``mount_setattr`` for
     recursive options, one call per propagation option.
  5. unless /dev is a bind mount: device nodes, the /dev symlinks,
     /dev/ptmx -> pts/ptmx (then /dev is remounted read-only if asked).

``create.pivot``
  6. ``chdir(rootfs)``, ``pivot_root(".", ".")``, make the old root a
     slave (so the detach does not propagate), ``umount2(".", MNT_DETACH)``,
     ``chdir("/")``; then a ``shared`` or ``unbindable`` rootfsPropagation
     again, now on the container's own ``/`` (see :func:`pivot_ops`).
  7. readonlyPaths, then maskedPaths (runc's order), then ``root.readonly``
     (remount ``/`` read-only, last).

Targets are container paths with ``root`` = rootfs; the executor resolves
them inside the rootfs (see ocitool/plan/ops/fs.py).
"""

from __future__ import annotations

import posixpath
from dataclasses import replace

from ocitool import records
from ocitool.lower.cgroups import paths as cgpaths
from ocitool.lower.context import LowerContext
from ocitool.lower.devices import device_ops, symlink_ops
from ocitool.lower.host import HostInfo
from ocitool.lower.mount_options import (
    PROPAGATION_OPTIONS,
    MountOptions,
    bind_remount_flags,
    parse_mount_options,
)
from ocitool.lower.rootless import own_cgroup as rootless_own_cgroup
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.fs import (
    BindMount,
    Chroot,
    CopyUpMount,
    IdmappedBindMount,
    IdmappedTree,
    MakePropagation,
    MaskPath,
    Mkdir,
    Mount,
    MountSetattr,
    PivotRoot,
    PrivatizeParentMount,
    ReadonlyPath,
    Remount,
    Symlink,
    Umount,
)
from ocitool.plan.ops.process import Chdir
from ocitool.spec.model import IDMapping, Spec
from ocitool.spec.model import Mount as SpecMount

INIT = Phase.CREATE_INIT
PIVOT = Phase.CREATE_PIVOT
DEFAULT_ROOTFS_PROPAGATION = "rprivate"
# Flags runc gives the tmpfs it puts under a v1 cgroup mount.
CGROUP_TMPFS_FLAGS = ("MS_NOSUID", "MS_NODEV", "MS_NOEXEC")


def lower_mounts(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    """Every filesystem op of the container, in order (create.init, then create.pivot)."""
    if not spec.has_namespace("mount"):
        return _no_mount_namespace(spec, ctx)
    ops = rootfs_ops(spec, host, ctx) + pivot_ops(spec, ctx) + hardening_ops(spec, ctx)
    return _with_mount_label(spec, host, ctx, ops)


def _with_mount_label(spec: Spec, host: HostInfo, ctx: LowerContext, ops: list[Op]) -> list[Op]:
    """``linux.mountLabel``: the SELinux context of every tmpfs the container gets
    (``context="LABEL"`` in the mount data, as runc's label.FormatMountLabel does).

    runc and crun drop the label silently where SELinux is off; a label asked for
    and not applied is an error here (fail closed).
    """
    label = spec.linux.mount_label if spec.linux is not None else None
    if not label:
        return ops
    assert spec.linux is not None
    if not host.has_lsm("selinux"):
        raise ctx.error(
            spec.linux.at("mountLabel"),
            f"SELinux is not enabled on this host; mountLabel {label!r} cannot be applied",
            code="OCI374",
            hint="remove linux.mountLabel, or run on a host with SELinux",
        )
    context = f'context="{label}"'
    return [
        records.replace(op, data=f"{op.data},{context}" if op.data else context)
        if isinstance(op, Mount) and op.fstype == "tmpfs"
        else op
        for op in ops
    ]


def _no_mount_namespace(spec: Spec, ctx: LowerContext) -> list[Op]:
    linux = spec.linux
    wants = [
        (spec.mounts and spec.at("mounts"), "mounts"),
        (linux is not None and linux.masked_paths and linux.at("maskedPaths"), "maskedPaths"),
        (linux is not None and linux.readonly_paths and linux.at("readonlyPaths"), "readonlyPaths"),
        (
            spec.root is not None and spec.root.readonly and spec.root.at("readonly"),
            "root.readonly",
        ),
    ]
    for pointer, what in wants:
        if pointer:
            raise ctx.error(
                str(pointer),
                f"{what} needs a mount namespace, and linux.namespaces has none",
                code="OCI313",
                hint='add {"type": "mount"} to linux.namespaces',
            )
    ctx.warn(
        spec.at("linux", "namespaces") if linux is not None else spec.at("linux"),
        "no mount namespace: the container sees the host's mounts; "
        "only chroot into the rootfs is done",
        code="OCI355",
    )
    return [
        Chroot(phase=PIVOT, source=None, path=ctx.rootfs),
        Chdir(phase=PIVOT, source=None, path="/"),
    ]


# --------------------------------------------------------------------------- create.init


def _rootfs_propagation(spec: Spec, ctx: LowerContext) -> tuple[tuple[str, ...], str | None]:
    """(mount flags, config pointer) of linux.rootfsPropagation (default rprivate)."""
    linux = spec.linux
    prop = (linux.rootfs_propagation if linux is not None else None) or DEFAULT_ROOTFS_PROPAGATION
    prop_src = linux.at("rootfsPropagation") if linux and linux.rootfs_propagation else None
    if prop not in PROPAGATION_OPTIONS:
        raise ctx.error(
            prop_src or "",
            f"rootfsPropagation {prop!r} is not a propagation mode",
            code="OCI314",
            expected=", ".join(PROPAGATION_OPTIONS),
        )
    return PROPAGATION_OPTIONS[prop], prop_src  # as given: "private" stays non-recursive (runc)


def rootfs_ops(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    """Steps 1-5: propagation, rootfs bind, /dev, mounts[], devices (create.init)."""
    rootfs = ctx.rootfs
    ops: list[Op] = []

    prop_flags, prop_src = _rootfs_propagation(spec, ctx)
    if "MS_UNBINDABLE" in prop_flags:
        # An unbindable "/" would refuse the rootfs bind below (EINVAL); it stays
        # private until pivot_ops makes the new root unbindable (as crun does).
        prop_flags = ("MS_REC", "MS_PRIVATE")
    ops.append(MakePropagation(phase=INIT, source=prop_src, src=None, target="/", flags=prop_flags))
    if "MS_SHARED" in prop_flags or "MS_REC" not in prop_flags:
        # The rootfs's parent mount may still be shared: pivot_root would fail and
        # the rootfs bind below would propagate to the host (runc does this always;
        # after a recursive private/slave/unbindable it is a no-op, so we skip it).
        ops.append(PrivatizeParentMount(phase=INIT, source=prop_src, path=rootfs))
    root_src = spec.root.at("path") if spec.root is not None else None
    ops.append(
        BindMount(
            phase=INIT, source=root_src, src=rootfs, target=rootfs, flags=("MS_BIND", "MS_REC")
        )
    )

    mounts = [(m, _dest(m, ctx)) for m in spec.mounts]
    dests = {d for _, d in mounts}
    dev_mount = next((m for m, d in mounts if d == "/dev"), None)
    if dev_mount is None:
        ops += _default_dev(spec, ctx, dests)

    dev_readonly = False
    for mount, dest in mounts:
        opts = parse_mount_options(mount.options)
        if opts.ignored:
            ctx.info(
                mount.at("options"),
                f"ignored fstab-only option(s) {', '.join(opts.ignored)} (mount(8) does too)",
            )
        if dest == "/dev" and "MS_RDONLY" in opts.flags and not opts.is_bind:
            # Devices are created in /dev after the mounts; make it read-only after that.
            opts = _without(opts, "MS_RDONLY")
            dev_readonly = True
        ops += _mount_entry(spec, host, ctx, mount, dest, opts)

    dev_is_bind = dev_mount is not None and (
        dev_mount.type == "bind" or parse_mount_options(dev_mount.options).is_bind
    )
    if not dev_is_bind:
        ops += device_ops(spec, ctx, rootfs)
        ops += symlink_ops(spec, ctx, rootfs, kcore=host.kcore)
    else:
        ops += device_ops(spec, ctx, rootfs, dev_is_host=True)
    if dev_readonly and dev_mount is not None:
        ops.append(
            Remount(
                phase=INIT,
                source=dev_mount.at("options"),
                src=None,
                target="/dev",
                root=rootfs,
                flags=("MS_RDONLY", "MS_REMOUNT", "MS_BIND"),
            )
        )
    return ops


def _dest(mount: SpecMount, ctx: LowerContext) -> str:
    dest = mount.destination
    if not dest.startswith("/"):
        ctx.warn(
            mount.at("destination"),
            f"mount destination {dest!r} is not absolute; taken as relative to /",
            code="OCI356",
            hint="runtime-spec 1.1+ requires absolute destinations",
        )
    return posixpath.normpath("/" + dest.lstrip("/")) if dest else "/"


def _without(opts: MountOptions, flag: str) -> MountOptions:
    return replace(opts, flags=tuple(f for f in opts.flags if f != flag))


def _default_dev(spec: Spec, ctx: LowerContext, dests: set[str]) -> list[Op]:
    """tmpfs on /dev plus devpts, shm and mqueue (those the config does not mount itself)."""
    rootfs = ctx.rootfs
    linux = spec.linux
    devpts_data = "newinstance,ptmxmode=0666,mode=0620"
    gid_maps = linux.gid_mappings if linux is not None else ()
    if not spec.has_namespace("user") or _maps_id(gid_maps, 5):
        devpts_data += ",gid=5"  # tty group; only if it exists in the user namespace
    table = [
        ("/dev", "tmpfs", "tmpfs", ("MS_NOSUID", "MS_STRICTATIME"), "mode=755,size=65536k"),
        ("/dev/pts", "devpts", "devpts", ("MS_NOSUID", "MS_NOEXEC"), devpts_data),
        (
            "/dev/shm",
            "shm",
            "tmpfs",
            ("MS_NOSUID", "MS_NODEV", "MS_NOEXEC"),
            "mode=1777,size=65536k",
        ),
        ("/dev/mqueue", "mqueue", "mqueue", ("MS_NOSUID", "MS_NODEV", "MS_NOEXEC"), None),
    ]
    ops: list[Op] = []
    for target, src, fstype, flags, data in table:
        if target in dests:
            continue
        if fstype == "mqueue" and not spec.has_namespace("ipc"):
            ctx.info(
                spec.at("mounts"),
                "no default /dev/mqueue: without an IPC namespace it would show the host's queues",
            )
            continue
        ops.append(Mkdir(phase=INIT, source=None, path=target, root=rootfs))
        ops.append(
            Mount(
                phase=INIT,
                source=None,
                src=src,
                target=target,
                fstype=fstype,
                flags=flags,
                data=data,
                root=rootfs,
            )
        )
    return ops


# Filesystems a user namespace may mount only in a namespace it owns: type -> (that
# namespace, the host path bound instead when it does not own one).
USERNS_OWNED = {
    "sysfs": ("network", "/sys"),
    "mqueue": ("ipc", "/dev/mqueue"),
    "proc": ("pid", "/proc"),
}


def _userns_without_own(spec: Spec, host: HostInfo, ns_type: str) -> bool:
    """In a user namespace (the container's, new or joined, or the rootless runtime's own)
    but without a new namespace of ``ns_type``: one the user namespace does not own."""
    linux = spec.linux
    if not host.rootless and (linux is None or linux.namespace("user") is None):
        return False
    own = linux.namespace(ns_type) if linux is not None else None
    return own is None or own.path is not None


def _under_host_sys(spec: Spec, host: HostInfo, dest: str) -> bool:
    """A recursive bind above ``dest`` (or sysfs's fallback to one, in a user namespace
    without its own network namespace) brings the host's cgroup2 mount to ``dest``:
    mounting cgroup2 there again is the same filesystem on the same mount point, which
    the kernel refuses (EBUSY). runc then binds the container's cgroup, as is done here."""
    v2_root = cgpaths.v2_root(host)
    for m in spec.mounts:
        top = posixpath.normpath(m.destination)
        if dest == top or not dest.startswith(top.rstrip("/") + "/"):
            continue
        bind = {"bind", "rbind"} & set(m.options) or m.type == "bind"
        if m.type == "sysfs" and not bind and _userns_without_own(spec, host, "network"):
            src = "/sys"
        elif "rbind" in m.options and m.source:
            src = posixpath.normpath(m.source)
        else:
            continue
        if posixpath.join(src, posixpath.relpath(dest, top)) == v2_root:
            return True
    return False


def _maps_id(mappings: tuple[IDMapping, ...], container_id: int) -> bool:
    return any(m.container_id <= container_id < m.container_id + m.size for m in mappings)


def _mount_entry(
    spec: Spec, host: HostInfo, ctx: LowerContext, mount: SpecMount, dest: str, opts: MountOptions
) -> list[Op]:
    rootfs = ctx.rootfs
    ptr = mount.pointer
    is_bind = mount.type == "bind" or opts.is_bind
    _check_proc_destination(ctx, mount, dest, is_bind)
    if mount.type == "cgroup" and not is_bind:
        return _cgroup_mount(spec, host, ctx, mount, dest, opts)
    owner = USERNS_OWNED.get(mount.type or "")
    if owner is not None and not is_bind and _userns_without_own(spec, host, owner[0]):
        # The kernel lets a user namespace mount sysfs, mqueue and proc only with its own
        # network, IPC and pid namespace; runc and crun fall back to a recursive bind of
        # the host's (sysfs; crun also for mqueue and proc).
        ns_type, host_path = owner
        ctx.info(
            ptr,
            f"{mount.type} cannot be mounted in a user namespace without a new {ns_type} "
            f"namespace; the host's {host_path} is bind-mounted instead"
            + (" (as runc does)" if mount.type == "sysfs" else " (as crun does)"),
            code="OCI357",
        )
        mount = records.replace(mount, type="bind", source=host_path)
        opts = replace(opts, flags=tuple(dict.fromkeys((*opts.flags, "MS_BIND", "MS_REC"))))
        is_bind = True
    ops: list[Op] = []
    wants_idmap = opts.idmap is not None or bool(mount.uid_mappings or mount.gid_mappings)
    if is_bind:
        src = mount.source or ""
        if not src:
            raise ctx.error(ptr, "bind mount without a source", code="OCI315")
        if not src.startswith("/"):
            src = posixpath.normpath(posixpath.join(ctx.bundle, src))
        bind_flags = ("MS_BIND", "MS_REC") if "MS_REC" in opts.flags else ("MS_BIND",)
        ops.append(
            Mkdir(phase=INIT, source=ptr, path=dest, root=rootfs, kind="like_source", like=src)
        )
        if wants_idmap:
            ops.extend(_idmapped(spec, ctx, mount, src, dest, opts))
        else:
            ops.append(
                BindMount(
                    phase=INIT, source=ptr, src=src, target=dest, root=rootfs, flags=bind_flags
                )
            )
        ops.extend(_bind_remount(mount, dest, rootfs, opts))
    else:
        if wants_idmap:
            raise ctx.error(
                mount.at("options"),
                "id-mapped mounts (idmap, ridmap, uidMappings) need a bind mount",
                code="OCI315",
                hint='add "bind" or "rbind" to the options',
            )
        if not mount.type:
            raise ctx.error(
                ptr,
                f"mount on {dest} has no type and is not a bind mount",
                code="OCI315",
                hint='set "type" (e.g. tmpfs) or add the "bind" option',
            )
        if "MS_REMOUNT" in opts.flags:
            # "remount" changes a mount made earlier (an earlier entry or the image);
            # no mkdir, and the filesystem data goes along (mount(8) -o remount).
            ops.append(
                Remount(
                    phase=INIT,
                    source=ptr,
                    src=mount.source,
                    target=dest,
                    fstype=mount.type,
                    flags=opts.flags,
                    data=opts.data_string,
                    root=rootfs,
                )
            )
            return ops + _after_mount(mount, dest, opts, rootfs)
        ops.append(Mkdir(phase=INIT, source=ptr, path=dest, root=rootfs))
        cls = CopyUpMount if opts.tmpcopyup else Mount
        if opts.tmpcopyup and mount.type != "tmpfs":
            raise ctx.error(
                mount.at("options"), "tmpcopyup works only with tmpfs mounts", code="OCI315"
            )
        ops.append(
            cls(
                phase=INIT,
                source=ptr,
                src=mount.source or mount.type,
                target=dest,
                fstype=mount.type,
                flags=opts.flags,
                data=opts.data_string,
                root=rootfs,
            )
        )
    ops += _after_mount(mount, dest, opts, rootfs)
    return ops


# Files under /proc that may be mounted over: the ones lxcfs emulates (runc's list).
PROC_MOUNT_ALLOWED = frozenset(
    {
        "/proc/cpuinfo",
        "/proc/diskstats",
        "/proc/meminfo",
        "/proc/stat",
        "/proc/swaps",
        "/proc/uptime",
        "/proc/loadavg",
        "/proc/slabinfo",
        "/proc/net/dev",
        "/proc/sys/kernel/ns_last_pid",
    }
)


def _check_proc_destination(ctx: LowerContext, mount: SpecMount, dest: str, is_bind: bool) -> None:
    """Refuse mounts that would replace /proc or hide parts of it (runc's checkProcMount).

    Mounting over e.g. /proc/sys or /proc/self could blind the runtime's own
    checks or undo maskedPaths; only a real procfs on /proc and the files
    lxcfs emulates are allowed.
    """
    if dest == "/proc":
        if mount.type != "proc" or is_bind:
            raise ctx.error(
                mount.at("destination"),
                "/proc can only be a mount of type proc",
                code="OCI316",
                hint='use {"destination": "/proc", "type": "proc", "source": "proc"}',
            )
    elif dest.startswith("/proc/") and dest not in PROC_MOUNT_ALLOWED:
        raise ctx.error(
            mount.at("destination"),
            f"mounting over {dest} is not allowed: it is inside /proc",
            code="OCI316",
            hint="only " + ", ".join(sorted(PROC_MOUNT_ALLOWED)) + " may be mounted over",
        )


def _after_mount(mount: SpecMount, dest: str, opts: MountOptions, rootfs: str) -> list[Op]:
    """mount_setattr for recursive options, then one call per propagation option."""
    ops: list[Op] = []
    if opts.has_recursive_attrs:
        ops.append(
            MountSetattr(
                phase=INIT,
                source=mount.at("options"),
                target=dest,
                root=rootfs,
                attr_set=opts.attr_set,
                attr_clr=opts.attr_clr,
            )
        )
    for flags in opts.propagation:
        ops.append(
            MakePropagation(
                phase=INIT,
                source=mount.at("options"),
                src=None,
                target=dest,
                root=rootfs,
                flags=flags,
            )
        )
    return ops


def _triples(maps: tuple[IDMapping, ...]) -> tuple[tuple[int, int, int], ...]:
    return tuple((m.container_id, m.host_id, m.size) for m in maps)


def _idmapped(
    spec: Spec, ctx: LowerContext, mount: SpecMount, src: str, dest: str, opts: MountOptions
) -> list[Op]:
    """Mappings: the mount's own, else the container's user namespace (runc's rule).

    With a user namespace in the container, the runtime makes the id-mapped tree
    before the init is cloned (``idmap_tree``, create.runtime) and the init only
    moves it into place; see IdmappedTree for why.
    """
    if ctx.host.rootless:
        raise ctx.error(
            mount.at("options"),
            "id-mapped mounts are not possible in rootless mode: mount_setattr(MOUNT_ATTR_IDMAP) "
            "needs CAP_SYS_ADMIN in the user namespace that owns the source's filesystem "
            "(the initial one, for a host directory)",
            code="OCI385",
            hint="drop idmap/ridmap and chown the source to the ids the container uses "
            "(podman unshare chown), or run the runtime as root",
        )
    uid_maps, gid_maps = _triples(mount.uid_mappings), _triples(mount.gid_mappings)
    userns_path = None
    if not uid_maps and not gid_maps:
        linux = spec.linux
        userns = linux.namespace("user") if linux is not None else None
        if userns is None:
            raise ctx.error(
                mount.at("options"),
                "idmap without uidMappings/gidMappings needs a user namespace to take them from",
                code="OCI315",
            )
        if userns.path:
            userns_path = userns.path
        else:
            assert linux is not None
            uid_maps, gid_maps = _triples(linux.uid_mappings), _triples(linux.gid_mappings)
    recursive = opts.idmap == "ridmap" or "MS_REC" in opts.flags
    op = IdmappedBindMount(
        phase=INIT,
        source=mount.pointer,
        src=src,
        target=dest,
        root=ctx.rootfs,
        flags=("MS_BIND", "MS_REC") if recursive else ("MS_BIND",),
        recursive=recursive,
        uid_mappings=uid_maps,
        gid_mappings=gid_maps,
        userns_path=userns_path,
    )
    if spec.linux is None or spec.linux.namespace("user") is None:
        return [op]
    tree = IdmappedTree(**{**vars(op), "phase": Phase.CREATE_RUNTIME, "tree": mount.pointer})
    return [tree, records.replace(op, tree=mount.pointer)]


def _cgroup_shown(host: HostInfo, ctx: LowerContext, mountpoint: str) -> str:
    """The cgroup a bind-mounted cgroup entry shows: the container's; a rootless
    container with no cgroup stays in the runtime's own, and is shown that (as runc)."""
    if ctx.cgroups_skipped:
        return rootless_own_cgroup(host, mountpoint)
    return ctx.cgroup_path


def _cgroup_mount(
    spec: Spec, host: HostInfo, ctx: LowerContext, mount: SpecMount, dest: str, opts: MountOptions
) -> list[Op]:
    """``type: cgroup``: cgroup2 on v2 hosts; on v1, a tmpfs with one entry per hierarchy.

    v1 (runc's mountCgroupV1): with a cgroup namespace each hierarchy is
    mounted (``-t cgroup -o <controllers>``); without one, the container's
    own directory of each hierarchy is bind-mounted, so it cannot see or
    touch its siblings. Co-mounted hierarchies get symlinks (cpu ->
    cpu,cpuacct). Read-only applies to every entry and, last, the tmpfs.
    """
    rootfs = ctx.rootfs
    ptr = mount.pointer
    flags = tuple(f for f in opts.flags if f not in ("MS_REMOUNT", "MS_BIND", "MS_REC"))
    ops: list[Op] = [Mkdir(phase=INIT, source=ptr, path=dest, root=rootfs)]
    no_cgroupns = _userns_without_own(spec, host, "cgroup")
    if cgpaths.driver(host) == "v2" and (no_cgroupns or _under_host_sys(spec, host, dest)):
        # cgroup2 cannot be mounted from a user namespace that does not own a
        # cgroup namespace. runc then binds the whole /sys/fs/cgroup; we bind
        # only the container's own cgroup so it cannot see its siblings.
        why = (
            "cgroup2 cannot be mounted in a user namespace without a cgroup namespace"
            if no_cgroupns
            else "a recursive bind above it brings the host's cgroup2 mount there, and the "
            "kernel refuses the same filesystem on the same mount point (EBUSY)"
        )
        ctx.info(
            ptr,
            f"{why}; the container's own cgroup directory is bind-mounted instead",
            code="OCI357",
        )
        host_dir = cgpaths.join(
            cgpaths.v2_root(host), _cgroup_shown(host, ctx, cgpaths.v2_root(host))
        )
        ops.append(
            BindMount(
                phase=INIT,
                source=ptr,
                src=host_dir,
                target=dest,
                root=rootfs,
                flags=("MS_BIND", "MS_REC"),
            )
        )
        ops.extend(_bind_remount(mount, dest, rootfs, replace(opts, flags=(*flags, "MS_BIND"))))
        return ops + _after_mount(mount, dest, opts, rootfs)
    if cgpaths.driver(host) == "v2":
        ops.append(
            Mount(
                phase=INIT,
                source=ptr,
                src=mount.source or "cgroup",
                target=dest,
                fstype="cgroup2",
                flags=flags,
                data=opts.data_string,
                root=rootfs,
            )
        )
        return ops + _after_mount(mount, dest, opts, rootfs)
    readonly = "MS_RDONLY" in flags
    tmpfs_flags = tuple(f for f in flags if f != "MS_RDONLY") or CGROUP_TMPFS_FLAGS
    ops.append(
        Mount(
            phase=INIT,
            source=ptr,
            src="tmpfs",
            target=dest,
            fstype="tmpfs",
            flags=tmpfs_flags,
            data="mode=755",
            root=rootfs,
        )
    )
    cgroupns = spec.has_namespace("cgroup")
    hierarchies = sorted({m for m in host.cgroup_mounts.values()})
    named = {m: k for k, m in host.cgroup_mounts.items() if k.startswith("name=")}
    for mountpoint in hierarchies:
        name = posixpath.basename(mountpoint)
        options = f"none,{named[mountpoint]}" if mountpoint in named else name
        target = posixpath.join(dest, name)
        ops.append(Mkdir(phase=INIT, source=ptr, path=target, root=rootfs))
        if cgroupns:
            ops.append(
                Mount(
                    phase=INIT,
                    source=ptr,
                    src="cgroup",
                    target=target,
                    fstype="cgroup",
                    flags=flags,
                    data=options,
                    root=rootfs,
                )
            )
        else:
            host_dir = cgpaths.join(mountpoint, _cgroup_shown(host, ctx, mountpoint))
            ops.append(
                BindMount(
                    phase=INIT,
                    source=ptr,
                    src=host_dir,
                    target=target,
                    root=rootfs,
                    flags=("MS_BIND", "MS_REC"),
                )
            )
            ops.extend(_bind_remount(mount, target, rootfs, opts, source=ptr))
        if "," in name:
            for controller in name.split(","):
                ops.append(
                    Symlink(
                        phase=INIT,
                        source=ptr,
                        target=name,
                        path=posixpath.join(dest, controller),
                        root=rootfs,
                    )
                )
    if readonly:
        ops.append(
            Remount(
                phase=INIT,
                source=mount.at("options"),
                src=None,
                target=dest,
                root=rootfs,
                flags=("MS_RDONLY", "MS_REMOUNT", "MS_BIND"),
            )
        )
    return ops + _after_mount(mount, dest, opts, rootfs)


# --------------------------------------------------------------------------- create.pivot


def pivot_ops(spec: Spec, ctx: LowerContext) -> list[Op]:
    """Step 6: switch to the rootfs and drop the old root (create.pivot).

    The rootfs bind mount is private when pivot_root runs (pivot_root refuses
    a shared new root or parent, and the bind must not propagate to the host),
    so the container's ``/`` can only become shared -- or unbindable -- here,
    after the switch, as runc does since 1.3 (opencontainers/runc#4724).
    Making a mount shared has no condition on its parent: ``/`` gets a new
    peer group of its own, which later mounts (nested containers) join.
    Private and slave need nothing more: the bind is already private.
    """
    src = spec.root.at("path") if spec.root is not None else None
    ops: list[Op] = [
        Chdir(phase=PIVOT, source=src, path=ctx.rootfs),
        PivotRoot(phase=PIVOT, source=src, new_root=".", put_old="."),
        MakePropagation(
            phase=PIVOT, source=None, src=None, target=".", flags=("MS_REC", "MS_SLAVE")
        ),
        Umount(phase=PIVOT, source=None, target=".", flags=("MNT_DETACH",)),
        Chdir(phase=PIVOT, source=None, path="/"),
    ]
    prop_flags, prop_src = _rootfs_propagation(spec, ctx)
    if "MS_SHARED" in prop_flags or "MS_UNBINDABLE" in prop_flags:
        ops.append(
            MakePropagation(phase=PIVOT, source=prop_src, src=None, target="/", flags=prop_flags)
        )
    return ops


def hardening_ops(spec: Spec, ctx: LowerContext) -> list[Op]:
    """Step 7: readonlyPaths, maskedPaths, then root.readonly (create.pivot, after pivot_root)."""
    linux = spec.linux
    ops: list[Op] = []
    if linux is not None:
        for i, path in enumerate(linux.readonly_paths):
            ops.append(ReadonlyPath(phase=PIVOT, source=linux.at("readonlyPaths", i), path=path))
        for i, path in enumerate(linux.masked_paths):
            ops.append(MaskPath(phase=PIVOT, source=linux.at("maskedPaths", i), path=path))
    if spec.root is not None and spec.root.readonly:
        ops.append(
            Remount(
                phase=PIVOT,
                source=spec.root.at("readonly"),
                src=None,
                target="/",
                flags=("MS_RDONLY", "MS_REMOUNT", "MS_BIND"),
            )
        )
    return ops


def _bind_remount(
    mount: SpecMount, dest: str, rootfs: str, opts: MountOptions, source: str | None = None
) -> list[Op]:
    """The second mount call a bind needs when its options (ro, nosuid, ...) are not
    applied by MS_BIND itself; none when they are all already in effect. ``source``:
    the op's config pointer (default: the mount's ``options``)."""
    remount = bind_remount_flags(opts)
    if remount is None:
        return []
    return [
        Remount(
            phase=INIT,
            source=source if source is not None else mount.at("options"),
            src=None,
            target=dest,
            root=rootfs,
            flags=tuple(remount),
        )
    ]
