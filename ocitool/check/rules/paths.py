"""Paths the runtime and the init must reach on the host and in the rootfs.

The init makes the rootfs mounts as the container's root, which in a user
namespace is an unprivileged host uid: a directory above the bundle that
only the host's root may enter (``mktemp -d`` makes them 0700) stops the
very first mount with EACCES. These checks walk each path the plan names as
that process would and name the component that stops it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator

from ocitool.check.context import CheckContext
from ocitool.check.creds import W_OK, X_OK
from ocitool.check.elf import interpreter
from ocitool.check.registry import Finding, check
from ocitool.check.walk import ancestors_walk, walk
from ocitool.exec.flags import CLONE
from ocitool.plan.ops.fs import BindMount, IdmappedBindMount, Mkdir, Mknod
from ocitool.plan.ops.hooks import RunHook
from ocitool.plan.ops.namespaces import Setns

_NS_GET_NSTYPE = 0xB703  # _IO(0xb7, 0x3)


def _rootfs_bind(ctx: CheckContext) -> int | None:
    """The op that first touches the rootfs as the init: its bind onto itself."""
    for i, op in ctx.each(BindMount):
        if op.root is None and op.src == ctx.rootfs:
            return i
    return ctx.index_of("pivot_root")


@check(
    "OCH101",
    "rootfs-unreachable",
    "error",
    fix="make every directory above the rootfs searchable (chmod o+x, e.g. chmod 755 on the "
    "mktemp -d bundle dir), or chown the bundle to the mapped root",
)
def rootfs_unreachable(ctx: CheckContext) -> Iterator[Finding]:
    """The rootfs does not exist, or the container's root cannot reach it.

    With a user namespace the init runs as the host uid that container root
    maps to; it needs search permission on every directory from / down to
    the rootfs, and capabilities do not help on directories owned by ids
    outside the namespace. The first mount of the rootfs then fails with
    EACCES, and the error names only the mount.
    """
    creds = ctx.init_creds
    done = ancestors_walk(ctx.rootfs, creds) if creds is not None else walk(ctx.rootfs, None)
    index = _rootfs_bind(ctx)
    if done.blocked is not None:
        what = done.blocked.describe(creds)
        yield Finding("/root/path", what if creds else f"the rootfs {ctx.rootfs}: {what}", index)
    elif done.st is not None and not stat.S_ISDIR(done.st.st_mode):
        yield Finding("/root/path", f"the rootfs {ctx.rootfs} is not a directory", index)


@check(
    "OCH102",
    "mount-source-missing",
    "error",
    fix="create the source on the host, fix its path, or make it reachable for the "
    "container's root",
)
def mount_source(ctx: CheckContext) -> Iterator[Finding]:
    """A bind mount's source does not exist on the host, or the init cannot reach it.

    The mount fails with ENOENT or EACCES when the init makes it; runc says
    only "no such file or directory" about the destination.
    """
    creds = ctx.init_creds
    for kind in (BindMount, IdmappedBindMount):
        for i, op in ctx.each(kind):
            if op.root is None or op.src is None or not op.src.startswith("/"):
                continue
            if ctx.made_before(i, op.src):
                continue
            done = walk(op.src, creds)
            if done.blocked is None:
                continue
            what = "device" if (op.source or "").startswith("/linux/devices") else "bind source"
            reason = done.blocked.describe(creds)
            yield Finding(op.source or "/mounts", f"{what} {op.src}: {reason}", i)


@check(
    "OCH103",
    "mountpoint-uncreatable",
    "error",
    fix="create the mountpoint in the image, or make its parent writable for the container's "
    "root (chown it to the mapped root)",
)
def mountpoint_uncreatable(ctx: CheckContext) -> Iterator[Finding]:
    """A mountpoint missing from the rootfs cannot be created by the init.

    The init creates missing mountpoints as the container's root; in a user
    namespace that needs write permission on the parent (a rootfs owned by
    the host's root refuses it), on a read-only filesystem it fails with
    EROFS, and a file where a directory is needed gives ENOTDIR.
    """
    creds = ctx.init_creds
    seen: set[str] = set()
    for i, op in ctx.each(Mkdir):
        if op.root != ctx.rootfs or op.path in seen or ctx.mounted_over(i, op.path):
            continue  # below an earlier mount, the mkdir happens on that mount
        seen.add(op.path)
        done = walk(op.path, None, ctx.rootfs)  # symlinks resolved inside the rootfs
        blocked = done.blocked
        if blocked is None or blocked.errno not in (errno.ENOENT, errno.ENOTDIR):
            continue  # exists already
        if blocked.path == ctx.rootfs:
            continue  # a missing rootfs is OCH101's
        if blocked.errno == errno.ENOTDIR:
            yield Finding(
                op.source or "/mounts",
                f"cannot create {op.path}: {blocked.shown} is not a directory",
                i,
            )
            continue
        host_parent = os.path.dirname(blocked.path)
        try:
            st = os.stat(host_parent)
        except OSError:
            continue
        rel = os.path.relpath(host_parent, ctx.rootfs)
        shown = "/ (the rootfs)" if rel == "." else "/" + rel
        try:
            readonly = bool(os.statvfs(host_parent).f_flag & os.ST_RDONLY)
        except OSError:
            readonly = False
        if readonly:
            yield Finding(
                op.source or "/mounts",
                f"cannot create {op.path}: {shown} is on a read-only filesystem",
                i,
            )
        elif creds is not None and not creds.may(
            st.st_mode, st.st_uid, st.st_gid, W_OK | X_OK, is_dir=True
        ):
            yield Finding(
                op.source or "/mounts",
                f"cannot create {op.path}: {creds.describe()} may not write to {shown} "
                f"(mode {stat.S_IMODE(st.st_mode):04o}, owner {st.st_uid}:{st.st_gid})",
                i,
            )


@check(
    "OCH104",
    "hook-not-executable",
    "error",
    fix="fix the hook's path, make it executable (chmod +x), or install its interpreter",
)
def hook_not_executable(ctx: CheckContext) -> Iterator[Finding]:
    """A hook's program is missing, not an executable regular file, or lacks its interpreter.

    The runtime starts hooks with execve on the host; createRuntime and
    createContainer failures abort the container, and the error is a bare
    ENOENT or EACCES for the hook path.
    """
    for i, op in ctx.each(RunHook):
        where = f"/hooks/{op.kind}/{op.index}/path"
        done = walk(op.path, None)
        if done.blocked is not None or done.st is None:
            yield Finding(where, f"hook {op.path} does not exist", i)
            continue
        if not stat.S_ISREG(done.st.st_mode):
            yield Finding(where, f"hook {op.path} is not a regular file", i)
        elif not done.st.st_mode & 0o111:
            yield Finding(
                where,
                f"hook {op.path} is not executable (mode {stat.S_IMODE(done.st.st_mode):04o})",
                i,
            )
        else:
            interp = interpreter(done.path)
            if interp is not None and not os.path.exists(interp[1]):
                yield Finding(
                    where,
                    f"hook {op.path}: its interpreter {interp[1]} ({interp[0]}) does not exist",
                    i,
                )


@check(
    "OCH105",
    "device-path-is-directory",
    "error",
    fix="remove the directory from the image, or give the device another path",
)
def device_path_is_directory(ctx: CheckContext) -> Iterator[Finding]:
    """A device's path in the rootfs is a directory, which the runtime cannot replace.

    The runtime replaces whatever file is at a device's path with the node
    (unlink, then mknod); a directory there makes the unlink fail (EISDIR)
    and the create with it.
    """
    for i, op in ctx.each(Mknod):
        if op.root is None or ctx.mounted_over(i, op.path):
            continue
        parent = walk(os.path.dirname(op.path), None, op.root)  # confined to the rootfs
        if parent.blocked is not None:
            continue
        try:
            st = os.lstat(os.path.join(parent.path, os.path.basename(op.path)))
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            yield Finding(
                op.source or "/linux/devices",
                f"{op.path} is a directory in the rootfs; device {op.type} {op.major}:{op.minor} "
                "cannot replace it",
                i,
            )


_DEVICE_KIND = {"c": (stat.S_ISCHR, "a character device"), "u": (stat.S_ISCHR, "a character device"),
                "b": (stat.S_ISBLK, "a block device")}  # fmt: skip


@check(
    "OCH107",
    "device-node-mismatch",
    "warning",
    fix="fix the device's type, major and minor, or its path (it names the host's node)",
)
def device_node_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    """A device given to a user-namespace container is not that device on the host.

    In a user namespace mknod is not allowed, so the runtime bind-mounts the
    host's node of the same path: the container then gets whatever the host
    has there, whatever type and numbers the config says.
    """
    devices = ctx.spec.linux.devices if ctx.spec.linux else ()
    for i, op in ctx.each(BindMount):
        parts = (op.source or "").split("/")
        if parts[1:3] != ["linux", "devices"] or not parts[3:] or not parts[3].isdigit():
            continue
        dev = devices[int(parts[3])] if int(parts[3]) < len(devices) else None
        if dev is None or dev.type not in _DEVICE_KIND or op.src is None:
            continue
        try:
            st = os.stat(op.src)
        except OSError:
            continue  # missing: OCH102
        is_kind, kind = _DEVICE_KIND[dev.type]
        numbers = (os.major(st.st_rdev), os.minor(st.st_rdev))
        if not is_kind(st.st_mode):
            yield Finding(op.source or "/linux/devices", f"the host's {op.src} is not {kind}", i)
        elif dev.major is not None and dev.minor is not None and numbers != (dev.major, dev.minor):
            yield Finding(
                op.source or "/linux/devices",
                f"the host's {op.src} is {numbers[0]}:{numbers[1]}, not {dev.major}:{dev.minor}",
                i,
            )


def _nstype(path: str) -> int | None:
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return fcntl.ioctl(fd, _NS_GET_NSTYPE)
    except OSError:
        return -1
    finally:
        os.close(fd)


@check(
    "OCH106",
    "namespace-path-invalid",
    "error",
    fix="point the namespace path at a live namespace of that type (/proc/PID/ns/TYPE or a "
    "bind-mounted nsfs file)",
)
def namespace_path(ctx: CheckContext) -> Iterator[Finding]:
    """A namespace to join does not exist, or is not a namespace of that type.

    setns(2) fails with ENOENT for a missing path and EINVAL for a file that
    is not a namespace or one of another type.
    """
    for i, op in ctx.each(Setns):
        where = op.source or "/linux/namespaces"
        try:
            os.stat(op.path)
        except OSError as exc:
            yield Finding(where, f"namespace path {op.path}: {exc.strerror}", i)
            continue
        got = _nstype(op.path)
        want = CLONE.get(op.nstype)
        if got == -1:
            yield Finding(where, f"{op.path} is not a namespace file", i)
        elif want is not None and got is not None and got != want:
            have = next((k for k, v in CLONE.items() if v == got), hex(got))
            yield Finding(where, f"{op.path} is a {have} namespace, not {op.nstype}", i)
