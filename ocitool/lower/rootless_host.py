"""The rootless facts of :class:`ocitool.lower.host.HostInfo`, from the texts detection read.

Kept apart from ``host.py`` so that the rules are plain functions of their
inputs (the tests give them text; ``HostInfo.detect`` gives them the real
files):

* rootless mode is runc's and crun's rule: the effective uid is not 0, or
  the process is already inside a user namespace (its ``uid_map`` is not the
  initial namespace's identity map ``0 0 4294967295``);
* the runtime's own cgroup in each hierarchy, from ``/proc/self/cgroup``: a
  rootless init whose cgroups are skipped stays there, and its cgroup mount
  shows it (runc binds the init's own cgroup the same way);
* the delegated cgroup: the runtime's own cgroup when the user owns (and can
  write) that directory in every hierarchy the container would use, or the
  highest of its ancestors the user owns likewise, as a systemd user session's
  ``user@UID.service`` is on cgroup v2 (the runtime runs in a scope below it);
  on v1 only when the user owns the directories (nothing delegates them by
  default).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping

# The uid_map of the initial user namespace: every id maps to itself.
INITIAL_UID_MAP = ("0", "0", "4294967295")


def in_user_namespace(uid_map: str | None) -> bool:
    """Whether ``/proc/self/uid_map`` (its text) shows a user namespace other than the
    initial one. No file (no user namespace support, or a test root): not inside one."""
    if uid_map is None:
        return False
    lines = [line.split() for line in uid_map.splitlines() if line.strip()]
    return lines != [list(INITIAL_UID_MAP)]


def is_rootless(euid: int, uid_map: str | None) -> bool:
    """runc's shouldUseRootlessCgroupManager without its flags: euid != 0, or in a userns."""
    return euid != 0 or in_user_namespace(uid_map)


def own_cgroups(text: str | None, v1: Mapping[str, str], unified: str | None) -> dict[str, str]:
    """Hierarchy mountpoint -> this process's cgroup there, from ``/proc/self/cgroup``.

    ``v1`` maps each controller (and named hierarchy, ``name=systemd``) to its
    mountpoint; the ``0::`` line belongs to the cgroup2 mount ``unified``.
    """
    found: dict[str, str] = {}
    for line in (text or "").splitlines():
        number, sep, rest = line.partition(":")
        controllers, sep2, path = rest.partition(":")
        if not sep or not sep2 or not path.startswith("/"):
            continue
        if number == "0" and not controllers:
            if unified is not None:
                found[unified] = path
            continue
        for controller in controllers.split(","):
            mountpoint = v1.get(controller)
            if mountpoint is not None:
                found.setdefault(mountpoint, path)
    return found


def hierarchies(mode: str, v1: Mapping[str, str], unified: str | None) -> list[str]:
    """The mountpoints whose directories a container's cgroup is made in (see
    :mod:`ocitool.lower.cgroups.paths`): the cgroup2 mount on v2; every v1 hierarchy,
    plus the controller-less cgroup2 mount on a hybrid host."""
    if mode == "v2":
        return [unified] if unified else []
    found = sorted(set(v1.values()))
    if mode == "hybrid" and unified:
        found.append(unified)
    return found


def delegated_cgroup(
    own: Mapping[str, str],
    mode: str,
    v1: Mapping[str, str],
    unified: str | None,
    owned: Callable[[str], bool],
) -> str | None:
    """The cgroup path delegated to this user, or None (cgroups are then skipped).

    It is the runtime's own cgroup when that is one path in every hierarchy the
    container uses and ``owned(directory)`` holds for each (the caller checks
    the owner is the euid and the directory is writable).
    """
    mounts = hierarchies(mode, v1, unified)
    paths = {own.get(m) for m in mounts}
    if not mounts or len(paths) != 1:
        return None
    path = paths.pop()
    if path is None or path == "/":
        return None
    if not all(owned(posixpath.join(m, path.lstrip("/"))) for m in mounts):
        return None
    # Up to the highest ancestor the user still owns: systemd delegates user@UID.service,
    # and the runtime runs in a scope below it, a leaf that holds processes and so cannot
    # give controllers to children; containers go beside it, as runc's cgroupsPath does.
    while (parent := posixpath.dirname(path)) != "/" and all(
        owned(posixpath.join(m, parent.lstrip("/"))) for m in mounts
    ):
        path = parent
    return path
