"""Walk a path component by component as a given process would, reading only metadata.

The kernel checks search (x) permission on every directory on the way and
follows symlinks; inside a container root, an absolute symlink and ``..``
stay inside that root (openat2 RESOLVE_IN_ROOT, as the executor resolves
rootfs paths). The walk reports the first component that stops the process,
which is what a failed ``mount``/``chdir``/``execve`` does not say.
"""

from __future__ import annotations

import errno
import os
import stat

from ocitool.check.creds import X_OK, Creds
from ocitool.records import Record

_MAX_LINKS = 40
_UNREADABLE = -errno.EACCES  # ocitool itself may not look (a check run without root)


class Blocked(Record):
    """Why the walk stopped: the host path of the component, its stat (if any), the errno."""

    path: str  # host path of the component that stopped the walk
    shown: str  # the same component as the process names it (container path in a root)
    errno: int
    st: os.stat_result | None = None

    def describe(self, creds: Creds | None) -> str:
        if self.errno == errno.ENOENT:
            return f"{self.shown} does not exist"
        if self.errno == _UNREADABLE:
            return f"{self.shown} cannot be examined by ocitool itself (run the check as root)"
        if self.errno == errno.ENOTDIR:
            return f"{self.shown} is not a directory"
        if self.errno == errno.ELOOP:
            return f"{self.shown}: too many levels of symbolic links"
        if self.errno == errno.EACCES and self.st is not None and creds is not None:
            return (
                f"{creds.describe()} cannot search {self.shown} "
                f"(mode {stat.S_IMODE(self.st.st_mode):04o}, owner {self.st.st_uid}:"
                f"{self.st.st_gid})"
            )
        return f"{self.shown}: {os.strerror(self.errno)}"


class Walked(Record):
    """Where a walk ended: the resolved host path and its stat, or what blocked it."""

    path: str
    st: os.stat_result | None
    blocked: Blocked | None = None


def _blocked(host: str, root: str | None, code: int, st: os.stat_result | None) -> Blocked:
    return Blocked(path=host, shown=_shown(host, root), errno=code, st=st)


def _shown(host: str, root: str | None) -> str:
    if root is None or root == "/":
        return host
    rel = os.path.relpath(host, root)
    return "/" if rel == "." else "/" + rel


def walk(path: str, creds: Creds | None, root: str | None = None) -> Walked:
    """Resolve ``path`` (absolute; inside ``root`` when given) checking search permission
    on each directory for ``creds`` (None: no permission checks). The last component is
    followed if it is a symlink, and is not itself permission-checked."""
    base = os.path.normpath(root) if root else "/"
    parts = [p for p in path.split("/") if p and p != "."]
    cur = base
    links = 0
    st = _lstat(cur)
    if isinstance(st, int):
        return _missing(cur, root, st)
    while parts:
        name = parts.pop(0)
        if not stat.S_ISDIR(st.st_mode):
            return Walked(path=cur, st=st, blocked=_blocked(cur, root, errno.ENOTDIR, st))
        if creds is not None and not creds.may(st.st_mode, st.st_uid, st.st_gid, X_OK, is_dir=True):
            return Walked(path=cur, st=st, blocked=_blocked(cur, root, errno.EACCES, st))
        if name == "..":
            if cur != base:
                cur = os.path.dirname(cur)
            st = _lstat(cur)
            if isinstance(st, int):  # removed while we walked
                return _missing(cur, root, st)
            continue
        nxt = os.path.join(cur, name)
        nst = _lstat(nxt)
        if isinstance(nst, int):
            return _missing(nxt, root, nst)
        if stat.S_ISLNK(nst.st_mode):
            links += 1
            if links > _MAX_LINKS:
                return Walked(path=nxt, st=nst, blocked=_blocked(nxt, root, errno.ELOOP, nst))
            target = os.readlink(nxt)
            if target.startswith("/"):
                cur = base
            parts = [p for p in target.split("/") if p and p != "."] + parts
            st = _lstat(cur)
            if isinstance(st, int):
                return _missing(cur, root, st)
            continue
        cur, st = nxt, nst
    return Walked(path=cur, st=st)


def ancestors_walk(path: str, creds: Creds) -> Walked:
    """Walk a host path from ``/`` and then check that the last component can be
    searched too (a root directory the process must enter, such as the rootfs)."""
    done = walk(path, creds)
    if done.blocked is not None or done.st is None:
        return done
    if stat.S_ISDIR(done.st.st_mode) and not creds.may(
        done.st.st_mode, done.st.st_uid, done.st.st_gid, X_OK, is_dir=True
    ):
        blocked = Blocked(path=done.path, shown=done.path, errno=errno.EACCES, st=done.st)
        return Walked(path=done.path, st=done.st, blocked=blocked)
    return done


def _lstat(path: str) -> os.stat_result | int:
    """The stat of ``path``, or the errno that stopped lstat."""
    try:
        return os.lstat(path)
    except OSError as exc:
        return exc.errno or errno.ENOENT


def _missing(path: str, root: str | None, code: int) -> Walked:
    """The walk's end at a component lstat could not read: missing, or hidden from ocitool
    itself (a check run without root cannot tell, and says so)."""
    code = _UNREADABLE if code == errno.EACCES else code
    return Walked(path=path, st=None, blocked=_blocked(path, root, code, None))
