"""Which host files a container started by an unprivileged (rootless) runtime can write.

WHY: ``sealed.py`` must keep every host file a container can reach through a
runtime process read-only. A runtime with no privilege over the host can only
start containers whose processes are host ids it can become: its own uid, the
subordinate ids ``newuidmap`` grants it (``/etc/subuid``), or, when it already
runs in a user namespace (rootless podman), any id mapped there. None of them
holds a capability in the initial user namespace, and the kernel opens
``/proc/PID/map_files`` only for a holder of CAP_SYS_ADMIN or
CAP_CHECKPOINT_RESTORE there (``proc_map_files_get_link``): the libraries a
rootless runtime maps are out of reach. What is left through one of its
processes is ``/proc/PID/exe`` (the interpreter), its fds, ``cwd`` and ``root``.
So the question for the interpreter is: could one of those ids write it?

The answers read the process's own facts (``/proc/self/uid_map``, its
capability sets, ``/etc/subuid``, ``/proc/sys/kernel/overflowuid``); the pure
``may_write`` takes them as arguments so the rule is tested without a user.
"""

from __future__ import annotations

import os

_FULL_RANGE = 4294967295
_LIMIT = 1 << 20  # the files read here are a few lines; a larger one is not trusted


def _read(path: str) -> str:
    """The start of a small system file ('' when it cannot be read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        return os.read(fd, _LIMIT).decode("utf-8", "replace")
    finally:
        os.close(fd)


def id_ranges(text: str) -> list[tuple[int, int, int]]:
    """The (inside, outside, count) lines of a ``uid_map``."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            out.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return out


def is_initial(ranges: list[tuple[int, int, int]]) -> bool:
    """The initial user namespace's map (a copy of it is treated the same: privileged)."""
    return ranges == [(0, 0, _FULL_RANGE)]


def subordinate(text: str, names: tuple[str, ...]) -> list[tuple[int, int]]:
    """The (start, count) ranges ``/etc/subuid`` grants to any of ``names``."""
    out = []
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] in names and parts[1].isdigit() and parts[2].isdigit():
            out.append((int(parts[1]), int(parts[2])))
    return out


def _capabilities(status: str) -> int:
    """The permitted capability set (a capability that may be raised counts)."""
    for line in status.splitlines():
        if line.startswith("CapPrm:"):
            return int(line.split()[1], 16)
    return -1  # unknown: treated as privileged


def privileged_over_host() -> bool:
    """Could this process (or a container it starts) act with privilege on the host?

    Yes in the initial user namespace as uid 0 or with any permitted capability;
    never from another user namespace, whose capabilities end at its border."""
    if not is_initial(id_ranges(_read("/proc/self/uid_map"))):
        return False
    return os.geteuid() == 0 or _capabilities(_read("/proc/self/status")) != 0


def may_write(
    uid: int,
    mode: int,
    euid: int,
    uid_map: list[tuple[int, int, int]],
    subuids: list[tuple[int, int]],
    overflow: int,
) -> bool:
    """Could a container of an unprivileged runtime write a file with this owner and mode?

    - group or other may write: yes (a subordinate gid, or anyone, may be that group);
    - in the initial user namespace: the owner is the runtime's uid or a subordinate
      uid it was granted;
    - in another user namespace: the owner is mapped there (an unmapped owner shows
      as the overflow uid, which only counts when it is itself mapped).
    """
    if mode & 0o022:
        return True
    if is_initial(uid_map):
        return uid == euid or any(start <= uid < start + count for start, count in subuids)
    if uid != overflow:
        return True
    return any(inside <= overflow < inside + count for inside, _, count in uid_map)


def container_may_write(uid: int, mode: int) -> bool:
    """:func:`may_write` with this process's own facts."""
    import pwd

    euid = os.geteuid()
    ranges = id_ranges(_read("/proc/self/uid_map"))
    names: tuple[str, ...] = (str(euid),)
    try:  # noqa: SIM105 - contextlib costs an import on the hot path
        names += (pwd.getpwuid(euid).pw_name,)
    except KeyError:
        pass
    subuids = subordinate(_read("/etc/subuid"), names) if is_initial(ranges) else []
    overflow_text = _read("/proc/sys/kernel/overflowuid").strip()
    overflow = int(overflow_text) if overflow_text.isdigit() else 65534
    return may_write(uid, mode, euid, ranges, subuids, overflow)
