"""What the checks read from the machine beyond :class:`~ocitool.lower.host.HostInfo`.

Each fact is read on first use (a check of a config without seccomp never
reads the seccomp actions); tests build :class:`HostFacts` with the values
they want instead. Reading is all this does: no file is written.
"""

from __future__ import annotations

import os
from functools import cached_property

from ocitool.capabilities import CAPABILITIES


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def parse_list(text: str) -> frozenset[int]:
    """A kernel cpu/node list (``0-3,8``) as a set of numbers."""
    out: set[int] = set()
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"bad list item {part!r}")
        out.update(range(int(lo), int(hi if sep else lo) + 1))
    return frozenset(out)


def _caps_from_hex(text: str) -> frozenset[str]:
    mask = int(text, 16)
    return frozenset(name for i, name in enumerate(CAPABILITIES) if mask >> i & 1)


class HostFacts:
    """Lazily read facts; pass values to the constructor to pin them (tests)."""

    def __init__(self, **pinned: object) -> None:
        for key, value in pinned.items():
            if not isinstance(getattr(type(self), key, None), cached_property):
                raise TypeError(f"unknown host fact {key!r}")
            self.__dict__[key] = value

    @cached_property
    def bounding_caps(self) -> frozenset[str] | None:
        """The capabilities this process (the runtime) may still hold: CapBnd."""
        for line in (read_text("/proc/self/status") or "").splitlines():
            if line.startswith("CapBnd:"):
                return _caps_from_hex(line.split()[1])
        return None

    @cached_property
    def seccomp_actions(self) -> frozenset[str] | None:
        """``kill_process kill_thread trap errno user_notif trace log allow``."""
        text = read_text("/proc/sys/kernel/seccomp/actions_avail")
        return frozenset(text.split()) if text is not None else None

    @cached_property
    def numa_nodes(self) -> frozenset[int] | None:
        text = read_text("/sys/devices/system/node/online")
        try:
            return parse_list(text) if text else None
        except ValueError:
            return None

    def cgroup_file(self, path: str) -> str | None:
        """A cgroup file's contents (not cached: each path is read once by its check)."""
        return read_text(path)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    @cached_property
    def idmap_helpers(self) -> frozenset[str]:
        """Which of newuidmap/newgidmap are on PATH (a rootless plan runs them)."""
        import shutil

        return frozenset(n for n in ("newuidmap", "newgidmap") if shutil.which(n))

    @cached_property
    def subordinate_ids(self) -> dict[str, list[tuple[int, int]]]:
        """The (start, count) ranges /etc/subuid and /etc/subgid grant this user (by name or
        uid, as newuidmap looks them up): ``{"uid": [...], "gid": [...]}``."""
        import pwd

        from ocitool.exec.hostwrite import subordinate

        uid = os.geteuid()
        try:
            names: tuple[str, ...] = (pwd.getpwuid(uid).pw_name, str(uid))
        except KeyError:
            names = (str(uid),)
        return {
            kind: subordinate(read_text(f"/etc/sub{kind}") or "", names) for kind in ("uid", "gid")
        }
