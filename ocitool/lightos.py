"""The part of ``os`` that the container-start path uses, without importing ``os``.

WHY: the launchers start Python with ``-S``, so nothing imports ``os`` for
us, and importing it costs ~1.4 ms (it builds ``_collections_abc``'s ABCs
and loads ``posixpath``, ``genericpath`` and ``stat``) -- on every ``ocitool
exec`` and every ``ocitool-runc`` command. ``os`` is a thin layer over the
builtin ``posix`` module, which is already loaded: its functions are the
same objects. Hot-path modules import this one as ``os``; everything else
keeps the real ``os``.

``path`` holds the ``os.path`` functions those modules need, written for
``str`` paths with ``posixpath``'s semantics (a test compares them).
"""

from posix import *  # noqa: F403 - the same functions os re-exports
from posix import _exit as _exit  # private, so * skips it; re-exported explicitly
from posix import environ, stat  # noqa: F401

_S_IFMT = 0o170000
_S_IFDIR = 0o040000
_S_IFREG = 0o100000


def getenv(name: str, default: str | None = None) -> str | None:
    """``os.environ.get``: ``posix.environ`` is keyed by bytes."""
    value = environ.get(name.encode())
    return default if value is None else value.decode("utf-8", "surrogateescape")


def makedirs(name: str, mode: int = 0o777, exist_ok: bool = False) -> None:
    """``os.makedirs``: create ``name`` and its missing parents (those with the default
    mode, as ``os.makedirs`` does; ``mode`` is for ``name`` itself)."""
    head = path.dirname(name.rstrip("/"))
    if head and head != name and not path.exists(head):
        makedirs(head, exist_ok=True)  # a parent made meanwhile is fine
    try:
        mkdir(name, mode)  # noqa: F405
    except OSError:
        if not exist_ok or not path.isdir(name):
            raise


def _mode(p: str) -> int:
    try:
        return stat(p).st_mode
    except (OSError, ValueError):
        return 0


class path:  # noqa: N801 - stands in for the os.path module
    """``os.path`` for ``str`` paths (POSIX rules)."""

    @staticmethod
    def join(a: str, *parts: str) -> str:
        out = a
        for b in parts:
            if b.startswith("/"):
                out = b
            elif not out or out.endswith("/"):
                out += b
            else:
                out += "/" + b
        return out

    @staticmethod
    def dirname(p: str) -> str:
        head = p[: p.rfind("/") + 1]
        if head and head != "/" * len(head):
            head = head.rstrip("/")
        return head

    @staticmethod
    def basename(p: str) -> str:
        return p[p.rfind("/") + 1 :]

    @staticmethod
    def split(p: str) -> tuple[str, str]:
        return path.dirname(p), path.basename(p)

    @staticmethod
    def normpath(p: str) -> str:
        if not p:
            return "."
        lead = 0
        if p.startswith("/"):
            # POSIX leaves the meaning of exactly two leading slashes to the system.
            lead = 2 if p.startswith("//") and not p.startswith("///") else 1
        parts: list[str] = []
        for part in p.split("/"):
            if part in ("", "."):
                continue
            if part != ".." or (not lead and not parts) or (parts and parts[-1] == ".."):
                parts.append(part)
            elif parts:
                parts.pop()
        return "/" * lead + "/".join(parts) or "."

    @staticmethod
    def abspath(p: str) -> str:
        if not p.startswith("/"):
            p = path.join(getcwd(), p)  # noqa: F405
        return path.normpath(p)

    @staticmethod
    def exists(p: str) -> bool:
        try:
            stat(p)
        except (OSError, ValueError):
            return False
        return True

    @staticmethod
    def isdir(p: str) -> bool:
        return _mode(p) & _S_IFMT == _S_IFDIR

    @staticmethod
    def isfile(p: str) -> bool:
        return _mode(p) & _S_IFMT == _S_IFREG
