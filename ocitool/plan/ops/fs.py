"""Filesystem ops: the mount namespace's setup, from rootfs propagation to root read-only.

Paths inside the container are given as the container sees them (``/proc``)
together with ``root``, the host directory they are resolved in (the rootfs,
before ``pivot_root``). The executor must resolve them inside ``root``
without following symlinks out of it (``openat2`` with ``RESOLVE_IN_ROOT``),
because the rootfs is untrusted: a symlink ``/proc -> /`` in an image must
not make us mount over the host's ``/``. ``root`` is None for paths that are
already absolute in the right mount namespace (host paths before
``pivot_root``, container paths after it).

Every op is one system call, except three whose behaviour depends on what is
on disk when the plan runs; those say so in their text:

* ``mkdir`` with ``kind="like_source"`` (bind targets: a directory, or an
  empty file when the bind source is not a directory);
* ``mask_path``: ``/dev/null`` bind on a file, read-only tmpfs on a
  directory, nothing if the path does not exist (runc's maskPath);
* ``readonly_path``: recursive bind onto itself, then a read-only bind
  remount that keeps the mount's locked flags; nothing if missing.
"""

from __future__ import annotations

from ocitool.plan.ops.base import Op, flags_text, quote
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import ClassVar


def _where(root: str | None) -> str:
    return f"  /* in {root} */" if root else ""


class Mount(Op):
    """``mount(src, target, fstype, flags, data)``: a new filesystem mount.

    The mount source is ``src``, not ``source``: every op's ``source`` is the
    JSON pointer of the config value it came from (base.Op).
    """

    name: ClassVar[str] = "mount"

    src: str | None
    target: str
    fstype: str | None = None
    flags: tuple[str, ...] = ()
    data: str | None = None
    root: str | None = None

    def call(self) -> str:
        return (
            f"mount({quote(self.src)}, {quote(self.target)}, {quote(self.fstype)}, "
            f"{flags_text(self.flags)}, {quote(self.data)})"
        )

    def text(self) -> str:
        return self.call()


class BindMount(Mount):
    """``mount(src, target, NULL, MS_BIND[|MS_REC], NULL)``; ``src`` is a host path."""

    name: ClassVar[str] = "bind_mount"


class IdmappedBindMount(Mount):
    """A bind mount whose files appear with ids shifted through a user namespace (idmap).

    The kernel only id-maps a mount that is not attached yet, so this is
    ``open_tree(OPEN_TREE_CLONE)``, ``mount_setattr(MOUNT_ATTR_IDMAP)`` with a
    user namespace holding the mappings (or the one at ``userns_path``), then
    ``move_mount`` onto ``target`` (runc and crun do the same).
    ``recursive`` comes from ``ridmap`` / ``rbind``.
    """

    name: ClassVar[str] = "bind_mount_idmapped"

    recursive: bool = False
    uid_mappings: tuple[tuple[int, int, int], ...] = ()
    gid_mappings: tuple[tuple[int, int, int], ...] = ()
    userns_path: str | None = None
    # set: the tree was made by the runtime (an ``idmap_tree`` op of this name)
    # and is only moved here
    tree: str | None = None

    def prepare_text(self) -> str:
        rec = "|AT_RECURSIVE" if self.recursive else ""
        if self.userns_path:
            userns = f"open({quote(self.userns_path)})"
        else:
            uids = " ".join(f"{c}:{h}:{n}" for c, h, n in self.uid_mappings) or "-"
            gids = " ".join(f"{c}:{h}:{n}" for c, h, n in self.gid_mappings) or "-"
            userns = f"<userns uid {uids} gid {gids}>"
        return (
            f"fd = open_tree(AT_FDCWD, {quote(self.src)}, OPEN_TREE_CLONE{rec}); "
            f'mount_setattr(fd, "", AT_EMPTY_PATH{rec}, '
            f"{{attr_set=MOUNT_ATTR_IDMAP, userns_fd={userns}}})"
        )

    def text(self) -> str:
        move = f'move_mount({{fd}}, "", AT_FDCWD, {quote(self.target)}, MOVE_MOUNT_F_EMPTY_PATH)'
        if self.tree:
            return move.format(fd=f"tree[{quote(self.tree)}]")
        return f"{self.prepare_text()}; " + move.format(fd="fd")


class IdmappedTree(IdmappedBindMount):
    """The detached, id-mapped tree of a ``bind_mount_idmapped`` made by the runtime,
    in the host's namespaces, before the init is cloned (which inherits its fd).

    Inside a new container user namespace the init could not make it: writing the
    throwaway namespace's uid_map with host ids is refused there (EPERM), and
    id-mapping a mount needs CAP_SYS_ADMIN over the filesystem's user namespace.
    runc makes these trees in its parent process for the same reason.
    """

    name: ClassVar[str] = "idmap_tree"

    def text(self) -> str:
        return f"tree[{quote(self.tree or '')}] = " + self.prepare_text().removeprefix("fd = ")


class CopyUpMount(Mount):
    """A tmpfs mount that starts with a copy of the directory it covers (``tmpcopyup``).

    The executor opens ``target`` before mounting, mounts, then copies the old
    contents (with owners and modes) into the new tmpfs.
    """

    name: ClassVar[str] = "mount_copyup"

    def text(self) -> str:
        return f"{self.call()}  /* then copy the old contents of {self.target} into it */"


class Remount(Mount):
    """``mount(NULL, target, NULL, MS_REMOUNT|MS_BIND|flags, NULL)``: change per-mount flags.

    With ``keep_locked`` the executor adds the flags the kernel locks on the
    existing mount (MS_NOSUID, MS_NODEV, MS_NOEXEC and the atime mode, read
    with statvfs): inside a user namespace a remount that would clear them
    fails with EPERM.
    """

    name: ClassVar[str] = "remount"

    keep_locked: bool = True

    def text(self) -> str:
        extra = "  /* + the mount's locked flags */" if self.keep_locked else ""
        return self.call() + extra


class MakePropagation(Mount):
    """``mount(NULL, target, NULL, MS_[R]PRIVATE|SHARED|SLAVE|UNBINDABLE, NULL)``."""

    name: ClassVar[str] = "make_propagation"


class PrivatizeParentMount(Op):
    """Make the mount that contains ``path``'s parent directory private, if it is shared.

    pivot_root(2) fails with EINVAL when the new root's parent mount is
    shared, which it is after ``rootfsPropagation: [r]shared``. The mount
    point is looked up in /proc/self/mountinfo when the plan runs (runc's
    rootfsParentMountPrivate).
    """

    name: ClassVar[str] = "privatize_parent_mount"

    path: str

    def text(self) -> str:
        return (
            f"mount(NULL, <mount point above {quote(self.path)}>, NULL, MS_PRIVATE, NULL)"
            "  /* only if that mount is shared */"
        )


class MountSetattr(Op):
    """``mount_setattr(target, AT_RECURSIVE, {attr_set, attr_clr})`` (Linux 5.12+).

    The recursive ``rro``/``rnosuid``/... options: unlike a bind remount,
    they change every mount below ``target`` too.
    """

    name: ClassVar[str] = "mount_setattr"

    target: str
    root: str | None = None
    recursive: bool = True
    attr_set: tuple[str, ...] = ()
    attr_clr: tuple[str, ...] = ()
    # Kept for executors written against the first version of this op; lowering
    # emits id-mapped mounts as bind_mount_idmapped and leaves this None.
    userns_path: str | None = None

    def text(self) -> str:
        flags = "AT_RECURSIVE" if self.recursive else "0"
        attrs = f"attr_set={flags_text(self.attr_set)}, attr_clr={flags_text(self.attr_clr)}"
        return f"mount_setattr(AT_FDCWD, {quote(self.target)}, {flags}, {{{attrs}}})"


class Mkdir(Op):
    """Create ``path`` (and missing parents, 0755) if absent: a directory, or an empty file.

    ``kind``: ``dir``, ``file``, or ``like_source`` (a directory if ``like``,
    a host path, is a directory, else an empty file: bind mount targets).
    """

    name: ClassVar[str] = "mkdir"

    path: str
    root: str | None = None
    mode: int = 0o755
    kind: str = "dir"
    like: str | None = None

    def text(self) -> str:
        if self.kind == "file":
            return f"open({quote(self.path)}, O_CREAT|O_WRONLY|O_CLOEXEC, 0{self.mode:o})"
        call = f"mkdir({quote(self.path)}, 0{self.mode:o})"
        if self.kind == "like_source":
            call += f"  /* or an empty file if {quote(self.like)} is not a directory */"
        return call


FILE_TYPES = {"c": "S_IFCHR", "u": "S_IFCHR", "b": "S_IFBLK", "p": "S_IFIFO"}


class Mknod(Op):
    """``mknod(path, type|mode, makedev(major, minor))``, with the exact ``mode`` (umask 0).

    An existing node of the same type and numbers is kept; anything else at
    ``path`` is an error (runtime-spec config-linux.md, "Devices").
    """

    name: ClassVar[str] = "mknod"

    path: str
    root: str | None = None
    type: str  # c, u, b or p
    major: int = 0
    minor: int = 0
    mode: int = 0o666

    def text(self) -> str:
        return (
            f"mknod({quote(self.path)}, {FILE_TYPES[self.type]}|0{self.mode:o}, "
            f"makedev({self.major}, {self.minor}))"
        )


class Chown(Op):
    """``lchown(path, uid, gid)`` (device nodes created for the container)."""

    name: ClassVar[str] = "chown"

    path: str
    root: str | None = None
    uid: int
    gid: int

    def text(self) -> str:
        return f"lchown({quote(self.path)}, {self.uid}, {self.gid})"


class Symlink(Op):
    """``symlink(target, path)``; an existing symlink with the same target is kept.

    With ``replace`` whatever is at ``path`` is removed first (``/dev/ptmx``
    may be a device node in the image).
    """

    name: ClassVar[str] = "symlink"

    target: str
    path: str
    root: str | None = None
    replace: bool = False

    def text(self) -> str:
        call = f"symlink({quote(self.target)}, {quote(self.path)})"
        return (f"unlink({quote(self.path)}); " + call) if self.replace else call


class PivotRoot(Op):
    """``pivot_root(new_root, put_old)``; relative to the cwd (``"."``, ``"."``) as runc does.

    After ``chdir(rootfs)``, ``pivot_root(".", ".")`` stacks the old root on
    top of the new one; the following ``umount2(".", MNT_DETACH)`` removes it
    (pivot_root(2), NOTES), with no put_old directory in the image.
    """

    name: ClassVar[str] = "pivot_root"

    new_root: str = "."
    put_old: str = "."

    def text(self) -> str:
        return f"pivot_root({quote(self.new_root)}, {quote(self.put_old)})"


class Chroot(Op):
    """``chroot(path)``: only without a mount namespace, where pivot_root would move the host."""

    name: ClassVar[str] = "chroot"

    path: str

    def text(self) -> str:
        return f"chroot({quote(self.path)})"


class Umount(Op):
    """``umount2(target, flags)``."""

    name: ClassVar[str] = "umount2"

    target: str
    flags: tuple[str, ...] = ()

    def text(self) -> str:
        return f"umount2({quote(self.target)}, {flags_text(self.flags)})"


class MaskPath(Op):
    """Hide ``path`` (runtime-spec maskedPaths), decided when the plan runs.

    File (or other non-directory): bind ``/dev/null`` over it. Directory:
    mount an empty read-only tmpfs over it. Missing: nothing. The type can
    only be known then, so the op carries both branches (runc's maskPath
    tries the bind and falls back to tmpfs on ENOTDIR).
    """

    name: ClassVar[str] = "mask_path"

    path: str

    def text(self) -> str:
        p = quote(self.path)
        return (
            f'mount("/dev/null", {p}, NULL, MS_BIND, NULL)'
            f'  /* directory: mount("tmpfs", {p}, "tmpfs", MS_RDONLY, NULL); missing: skip */'
        )


class ReadonlyPath(Op):
    """Make ``path`` read-only (runtime-spec readonlyPaths); missing paths are skipped."""

    name: ClassVar[str] = "readonly_path"

    path: str

    def text(self) -> str:
        p = quote(self.path)
        return (
            f"mount({p}, {p}, NULL, MS_BIND|MS_REC, NULL); "
            f"mount(NULL, {p}, NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL)"
            "  /* + locked flags; missing: skip */"
        )
