"""Appliers for :mod:`ocitool.plan.ops.fs`: mounts, the root switch, masked and read-only paths."""

from __future__ import annotations

import errno as _errno
import os
import stat

from ocitool.exec import flags as F
from ocitool.exec.apply.base import applies, drop_resolvers, resolver
from ocitool.exec.context import ExecContext
from ocitool.exec.resolve import check_dev_null, fd_path
from ocitool.exec.syscalls import (
    TYPE_CHECKING,
    error_errno,
    exec_error,
    sys_error,
)
from ocitool.plan.ops.fs import (
    BindMount,
    Chown,
    Chroot,
    CopyUpMount,
    IdmappedBindMount,
    IdmappedTree,
    MakePropagation,
    MaskPath,
    Mkdir,
    Mknod,
    Mount,
    MountSetattr,
    PivotRoot,
    PrivatizeParentMount,
    ReadonlyPath,
    Remount,
    Symlink,
    Umount,
)

if TYPE_CHECKING:
    from ocitool.exec.syscalls import Syscalls


# ---------------------------------------------------------------- filesystem
def _target(ctx: ExecContext, op: Mount | MountSetattr) -> tuple[str, int]:
    """(path to pass to mount(2), fd to close or -1): resolved in op.root when set."""
    if op.root is None:
        return op.target, -1
    fd = resolver(ctx, op.root).open(op.target)
    return fd_path(fd), fd


def _close(ctx: ExecContext, fd: int) -> None:
    if fd >= 0:
        ctx.sys.close(fd)


@applies(Mount, BindMount, MakePropagation)
def mount(op: Mount | BindMount | MakePropagation, ctx: ExecContext) -> None:
    target, fd = _target(ctx, op)
    try:
        ctx.sys.mount(op.src, target, op.fstype, F.mount_flags(op.flags), op.data)
    finally:
        _close(ctx, fd)
    if op.root is None and op.name != "make_propagation" and not ctx.in_init:
        ctx.rollback.push("umount", [op.target], f"umount {op.target}")


@applies(CopyUpMount)
def mount_copyup(op: CopyUpMount, ctx: ExecContext) -> None:
    """tmpfs over a directory, then copy what it hid into it (tmpcopyup).

    The fd that named the target still names the directory under the new
    mount, so the copy goes through a fresh lookup of the target: the tmpfs.
    """
    target, fd = _target(ctx, op)
    try:
        old = ctx.sys.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            ctx.sys.mount(op.src, target, op.fstype, F.mount_flags(op.flags), op.data)
            new, new_fd = _target(ctx, op)
            try:
                _copy_tree(ctx.sys, old, new)
            except OSError as exc:
                raise sys_error("copyup", (op.target,), exc.errno or _errno.EIO) from None
            finally:
                _close(ctx, new_fd)
        finally:
            ctx.sys.close(old)
    finally:
        _close(ctx, fd)


def _copy_tree(sys: Syscalls, src_fd: int, dst: str) -> None:
    import shutil

    src = fd_path(src_fd)
    for name in sys.listdir(src):
        s = os.path.join(src, name)
        d = os.path.join(dst, name)
        st = sys.stat(s, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            shutil.copytree(s, d, symlinks=True)
        elif stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(s), d)
        else:
            shutil.copy2(s, d, follow_symlinks=False)
        os.lchown(d, st.st_uid, st.st_gid)


@applies(Remount)
def remount(op: Remount, ctx: ExecContext) -> None:
    target, fd = _target(ctx, op)
    try:
        flags = F.mount_flags(op.flags)
        if op.keep_locked:
            flags |= F.locked_flags(ctx.sys.statvfs_flags(target))
        ctx.sys.mount(None, target, None, flags, op.data)
    finally:
        _close(ctx, fd)


@applies(PrivatizeParentMount)
def privatize_parent_mount(op: PrivatizeParentMount, ctx: ExecContext) -> None:
    """pivot_root(2) refuses a new root whose parent mount is shared (EINVAL): make the
    mount that holds the rootfs's parent directory private, if it is shared."""
    parent = os.path.dirname(os.path.normpath(op.path)) or "/"
    best, shared = "", False
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f.read().decode("utf-8", "replace").splitlines():
            fields = line.split(" - ", 1)[0].split()
            point = fields[4].replace("\\040", " ")
            inside = parent == point or parent.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best):
                best, shared = point, any(x.startswith("shared:") for x in fields[6:])
    if best and shared:
        ctx.sys.mount(None, best, None, F.MOUNT["MS_PRIVATE"], None)


@applies(Chroot)
def chroot(op: Chroot, ctx: ExecContext) -> None:
    """chroot(path) and chdir("/"): without a mount namespace (pivot_root would move the
    host's root), or with ``--no-pivot`` after the rootfs was moved onto "/"."""
    drop_resolvers(ctx)
    ctx.sys.chroot(op.path)
    ctx.sys.chdir("/")


OPEN_TREE_CLONE = 1
AT_EMPTY_PATH = 0x1000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOVE_MOUNT_T_EMPTY_PATH = 0x40


@applies(IdmappedBindMount)
def bind_mount_idmapped(op: IdmappedBindMount, ctx: ExecContext) -> None:
    """open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_IDMAP) + move_mount.

    The kernel id-maps only a detached mount, through a user namespace fd: the one
    at ``userns_path``, or a throwaway one holding the op's mappings. With
    ``op.tree`` the runtime made the detached tree already (``idmap_tree``) and
    this process inherited its fd: only the move is left.
    """
    sys = ctx.sys
    tree = ctx.idmap_trees.pop(op.tree) if op.tree else _idmap_tree(op, ctx)
    try:
        target = (
            resolver(ctx, op.root).open(op.target)
            if op.root
            else sys.open(op.target, os.O_PATH | os.O_CLOEXEC)
        )
        try:
            sys.move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
        finally:
            sys.close(target)
    finally:
        sys.close(tree)


@applies(IdmappedTree)
def idmap_tree(op: IdmappedTree, ctx: ExecContext) -> None:
    """The runtime's half: the detached id-mapped tree, kept open (close-on-exec) for
    the init that is cloned next, which inherits the fd. The runtime's own copy goes
    when it exits or execs (a foreground ``ocitool exec`` keeps it until the end)."""
    tree = _idmap_tree(op, ctx)
    ctx.idmap_trees[op.tree or ""] = tree
    if op.src is not None:
        ctx.source_is_dir[op.src] = stat.S_ISDIR(ctx.sys.fstat(tree).st_mode)


def _idmap_tree(op: IdmappedBindMount, ctx: ExecContext) -> int:
    """A detached copy of ``op.src``, id-mapped: its fd."""
    if op.src is None:  # lowering always sets it; never guess a source
        raise exec_error("an idmapped bind mount needs a source", "OCI503")
    rec = F.AT_RECURSIVE if op.recursive else 0
    sys = ctx.sys
    userns = _idmap_userns(ctx, op)
    try:
        tree = sys.open_tree(-100, op.src, OPEN_TREE_CLONE | os.O_CLOEXEC | rec)
        try:
            sys.mount_setattr(
                tree, "", AT_EMPTY_PATH | rec, F.MOUNT_ATTR["MOUNT_ATTR_IDMAP"], 0, 0, userns
            )
        except BaseException:
            sys.close(tree)
            raise
        return tree
    finally:
        sys.close(userns)


def _idmap_userns(ctx: ExecContext, op: IdmappedBindMount) -> int:
    """An fd of a user namespace with the op's mappings (or of ``userns_path``)."""
    if op.userns_path:
        return ctx.sys.open(op.userns_path, os.O_RDONLY | os.O_CLOEXEC)
    hold_r, hold_w = os.pipe2(os.O_CLOEXEC)
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    pid = ctx.sys.fork()
    if pid == 0:  # holds the namespace open until we have its fd
        code = 1
        try:
            os.close(hold_w)
            os.close(ready_r)
            ctx.sys.unshare(F.CLONE["CLONE_NEWUSER"])
            # our pid as this /proc names it (the init may be in a new pid namespace)
            os.write(ready_w, os.readlink("/proc/self").encode())
            os.read(hold_r, 1)
            code = 0
        finally:
            os._exit(code)
    os.close(hold_r)
    os.close(ready_w)
    try:
        proc_pid = os.read(ready_r, 32).decode()
        if not proc_pid.isdigit():
            raise sys_error("unshare(CLONE_NEWUSER) for an idmapped mount", (), _errno.EPERM)
        ctx.sys.write_file(f"/proc/{proc_pid}/setgroups", b"deny")
        for name, maps in (("uid_map", op.uid_mappings), ("gid_map", op.gid_mappings)):
            text = "".join(f"{c} {h} {n}\n" for c, h, n in maps)
            ctx.sys.write_file(f"/proc/{proc_pid}/{name}", text.encode())
        return ctx.sys.open(f"/proc/{proc_pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(ready_r)
        os.close(hold_w)
        ctx.sys.waitpid(pid, 0)


@applies(MountSetattr)
def mount_setattr(op: MountSetattr, ctx: ExecContext) -> None:
    target, fd = _target(ctx, op)
    userns_fd = 0
    try:
        if op.userns_path:
            userns_fd = ctx.sys.open(op.userns_path, os.O_RDONLY | os.O_CLOEXEC)
        elif "MOUNT_ATTR_IDMAP" in op.attr_set:
            raise sys_error(
                "mount_setattr: idmap without a user namespace path", (op.target,), _errno.ENOTSUP
            )
        ctx.sys.mount_setattr(
            -100,
            target,
            F.AT_RECURSIVE if op.recursive else 0,
            F.mount_attrs(op.attr_set),
            F.mount_attrs(op.attr_clr),
            0,
            userns_fd,
        )
    finally:
        if userns_fd:
            ctx.sys.close(userns_fd)
        _close(ctx, fd)


@applies(Mkdir)
def mkdir(op: Mkdir, ctx: ExecContext) -> None:
    res = resolver(ctx, op.root)
    kind = op.kind
    if kind == "like_source":
        # an id-mapped tree the runtime made says what its source is (the init, in
        # its user namespace, may not be able to reach the source path itself)
        known = ctx.source_is_dir.get(op.like) if op.like is not None else None
        is_dir = known if known is not None else op.like is None or os.path.isdir(op.like)
        kind = "dir" if is_dir else "file"
    if kind == "file":
        res.touch(op.path, op.mode)
    else:
        res.mkdir_all(op.path, op.mode)


@applies(Mknod)
def mknod(op: Mknod, ctx: ExecContext) -> None:
    res = resolver(ctx, op.root)
    res.mkdir_all(os.path.dirname(os.path.normpath("/" + op.path)))
    pfd, name = res.open_parent(op.path)
    try:
        kind = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}
        try:
            os.mknod(name, kind[op.type] | op.mode, os.makedev(op.major, op.minor), dir_fd=pfd)
        except FileExistsError:
            os.unlink(name, dir_fd=pfd)
            os.mknod(name, kind[op.type] | op.mode, os.makedev(op.major, op.minor), dir_fd=pfd)
        except OSError as exc:
            raise sys_error(
                "mknod", (op.path, oct(op.mode), f"{op.major}:{op.minor}"), exc.errno or 0
            ) from None
    finally:
        ctx.sys.close(pfd)


@applies(Chown)
def chown(op: Chown, ctx: ExecContext) -> None:
    res = resolver(ctx, op.root)
    pfd, name = res.open_parent(op.path)
    try:
        os.chown(name, op.uid, op.gid, dir_fd=pfd, follow_symlinks=False)
    except OSError as exc:
        raise sys_error("lchown", (op.path, op.uid, op.gid), exc.errno or 0) from None
    finally:
        ctx.sys.close(pfd)


@applies(Symlink)
def symlink(op: Symlink, ctx: ExecContext) -> None:
    res = resolver(ctx, op.root)
    res.mkdir_all(os.path.dirname(os.path.normpath("/" + op.path)))
    pfd, name = res.open_parent(op.path)
    try:
        if op.replace and _exists(name, pfd):
            # looked at first: an ENOENT from unlink would build an error value,
            # and the usual fresh /dev has nothing there
            ctx.sys.unlink(name, dir_fd=pfd)
        try:
            ctx.sys.symlink(op.target, name, dir_fd=pfd)
        except Exception as exc:
            if error_errno(exc) != _errno.EEXIST:
                raise
            if os.readlink(name, dir_fd=pfd) != op.target:
                raise
    finally:
        ctx.sys.close(pfd)


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    return True


@applies(PivotRoot)
def pivot_root(op: PivotRoot, ctx: ExecContext) -> None:
    drop_resolvers(ctx)
    ctx.sys.pivot_root(op.new_root, op.put_old)


@applies(Umount)
def umount2(op: Umount, ctx: ExecContext) -> None:
    ctx.sys.umount2(op.target, F.umount_flags(op.flags))


@applies(MaskPath)
def mask_path(op: MaskPath, ctx: ExecContext) -> None:
    """runc's maskPath, with /dev/null verified to be the null device (CVE-2025-31133)."""
    res = resolver(ctx, None)
    fd = res.try_open(op.path)
    if fd < 0:
        return  # missing: nothing to hide
    try:
        if stat.S_ISDIR(ctx.sys.fstat(fd).st_mode):
            ctx.sys.mount("tmpfs", fd_path(fd), "tmpfs", F.MS_RDONLY, None)
            return
        null = check_dev_null(ctx.sys, res)
        try:
            ctx.sys.mount(fd_path(null), fd_path(fd), None, F.MS_BIND, None)
        finally:
            ctx.sys.close(null)
    finally:
        ctx.sys.close(fd)


@applies(ReadonlyPath)
def readonly_path(op: ReadonlyPath, ctx: ExecContext) -> None:
    res = resolver(ctx, None)
    fd = res.try_open(op.path)
    if fd < 0:
        return  # missing: nothing to protect
    try:
        ctx.sys.mount(fd_path(fd), fd_path(fd), None, F.MS_BIND | F.MS_REC, None)
    finally:
        ctx.sys.close(fd)
    fd = res.open(op.path)  # the new bind mount is now on top
    try:
        locked = F.locked_flags(ctx.sys.statvfs_flags(fd_path(fd)))
        ctx.sys.mount(
            None,
            fd_path(fd),
            None,
            F.MS_BIND | F.MS_REMOUNT | F.MS_RDONLY | F.MS_REC | locked,
            None,
        )
    finally:
        ctx.sys.close(fd)
