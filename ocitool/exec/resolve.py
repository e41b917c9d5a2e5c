"""Resolve paths inside an untrusted rootfs, never following symlinks out of it.

The rootfs is attacker-controlled: a symlink ``/proc -> /`` in an image must
not make the runtime mount over the host's ``/`` (CVE-2021-30465 class).
Every container path is opened with ``openat2(root_fd, path,
RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)``: symlinks are resolved as if
``root_fd`` were ``/``, and ``..`` stops there. Mounts then target the
opened file through ``/proc/self/fd/N``, so nothing can be swapped between
the check and the use.
"""

from __future__ import annotations

import errno as _errno
import os
import stat

from ocitool.exec.syscalls import (
    RESOLVE_IN_ROOT,
    RESOLVE_NO_MAGICLINKS,
    Syscalls,
    error_errno,
    sys_error,
)

O_PATH_DIR = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS


def fd_path(fd: int) -> str:
    """The magic-link path of an fd we opened; mount(2) follows it to the file itself."""
    return f"/proc/self/fd/{fd}"


class RootResolver:
    """Opens paths beneath one root directory (the rootfs before pivot_root, "/" after)."""

    def __init__(self, sys: Syscalls, root: str) -> None:
        self.sys = sys
        self.root = root
        self.root_fd = sys.open(root, O_PATH_DIR)

    def close(self) -> None:
        if self.root_fd >= 0:
            self.sys.close(self.root_fd)
            self.root_fd = -1

    def open(self, path: str, flags: int = os.O_PATH, mode: int = 0) -> int:
        """``openat2(root, path, flags|O_CLOEXEC, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)``."""
        rel = path.lstrip("/") or "."
        return self.sys.openat2(self.root_fd, rel, flags | os.O_CLOEXEC, mode, IN_ROOT)

    def try_open(self, path: str, flags: int = os.O_PATH) -> int:
        """Like :meth:`open`, but a missing path gives -ENOENT/-ENOTDIR instead of an error."""
        rel = path.lstrip("/") or "."
        fd = self.sys.openat2_try(self.root_fd, rel, flags | os.O_CLOEXEC, 0, IN_ROOT)
        if fd < 0 and -fd not in (_errno.ENOENT, _errno.ENOTDIR):
            return self.open(path, flags)  # raises the real error, with its context
        return fd

    def exists(self, path: str) -> bool:
        fd = self.try_open(path)
        if fd < 0:
            return False
        self.sys.close(fd)
        return True

    def open_parent(self, path: str) -> tuple[int, str]:
        """(fd of the parent directory, last component); the parent is resolved in root."""
        norm = os.path.normpath("/" + path)
        parent, name = os.path.split(norm)
        if not name:
            raise sys_error("open_parent", (path,), _errno.EINVAL)
        return self.open(parent, O_PATH_DIR), name

    def mkdir_all(self, path: str, mode: int = 0o755) -> None:
        """``mkdir -p`` inside root: dangling symlinks are followed *inside* root.

        A component that is a symlink to a missing directory (``/escape ->
        /host/dir``) makes us create ``<root>/host/dir``, never the host's.
        """
        norm = os.path.normpath("/" + path)
        fd = self.try_open(norm, O_PATH_DIR)  # usually it is there: one lookup, not one per part
        if fd >= 0:
            self.sys.close(fd)
            return
        if self._mkdir_in_parent(norm, mode):  # else: only the last part is missing
            return
        parts = [p for p in norm.split("/") if p]
        cur = "/"
        hops = 0
        while parts:
            name = parts.pop(0)
            nxt = os.path.join(cur, name)
            fd = self.try_open(nxt, O_PATH_DIR)
            if fd >= 0:
                self.sys.close(fd)
                cur = nxt
                continue
            if fd != -_errno.ENOENT:
                self.open(nxt, O_PATH_DIR)  # raises: not a directory
            pfd = self.open(cur, O_PATH_DIR)
            try:
                try:
                    self.sys.mkdir(name, mode, dir_fd=pfd)
                    cur = nxt
                    continue
                except Exception as exc:
                    if error_errno(exc) != _errno.EEXIST:
                        raise
                try:
                    target = os.readlink(name, dir_fd=pfd)
                except OSError:
                    continue  # created concurrently: look again
            finally:
                self.sys.close(pfd)
            hops += 1
            if hops > 40:
                raise sys_error("mkdir_all", (path,), _errno.ELOOP)
            base = "/" if target.startswith("/") else cur
            new = os.path.normpath(os.path.join(base, target))  # ".." stops at "/"
            parts = [p for p in new.split("/") if p] + parts
            cur = "/"

    def _mkdir_in_parent(self, norm: str, mode: int) -> bool:
        """mkdir the last part of ``norm`` when its parent resolves to a directory; False
        (nothing done) when the parent is missing too or the name is taken (a dangling
        symlink, say): the component walk then decides."""
        parent, name = os.path.split(norm)
        if not name:
            return False
        pfd = self.try_open(parent, O_PATH_DIR)
        if pfd < 0:
            return False
        try:
            self.sys.mkdir(name, mode, dir_fd=pfd)
        except Exception as exc:
            if error_errno(exc) != _errno.EEXIST:
                raise
            return False
        finally:
            self.sys.close(pfd)
        return True

    def touch(self, path: str, mode: int = 0o644) -> None:
        """Create an empty regular file (parents made first) unless something is there."""
        norm = os.path.normpath("/" + path)
        self.mkdir_all(os.path.dirname(norm))
        pfd, name = self.open_parent(norm)
        try:
            fd = self.sys.open(
                name, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=pfd
            )
            self.sys.close(fd)
        except Exception as exc:
            if error_errno(exc) not in (_errno.EEXIST, _errno.ELOOP, _errno.EISDIR):
                raise
        finally:
            self.sys.close(pfd)


def check_dev_null(sys: Syscalls, resolver: RootResolver) -> int:
    """Open the container's /dev/null for a mask bind, refusing anything but char 1:3.

    CVE-2025-31133 class: if /dev/null were a symlink (or a bind of some
    procfs file), masking would bind that file over the masked path, leaving
    e.g. /proc/sys/kernel/core_pattern writable. We open it O_PATH|O_NOFOLLOW
    in root and check it is the real null device before using its fd.
    """
    pfd, name = resolver.open_parent("/dev/null")
    try:
        fd = sys.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=pfd)
    finally:
        sys.close(pfd)
    st = sys.fstat(fd)
    if not stat.S_ISCHR(st.st_mode) or os.major(st.st_rdev) != 1 or os.minor(st.st_rdev) != 3:
        sys.close(fd)
        raise sys_error(
            "maskpath: /dev/null is not the char device 1:3", ("/dev/null",), _errno.EPERM
        )
    return fd
