"""The rootless facts of :class:`ocitool.host.HostInfo`, from the texts detection read.

Kept apart from ``host.py`` so that the rules are plain functions of their
inputs (the tests give them text; ``HostInfo.detect`` gives them the real
files):

* rootless mode is runc's and crun's rule: the effective uid is not 0, or
  the process is already inside a user namespace (its ``uid_map`` is not the
  initial namespace's identity map ``0 0 4294967295``);
* the runtime's own cgroup in each hierarchy, from ``/proc/self/cgroup``: a
  rootless init whose cgroups are skipped stays there, and its cgroup mount
  shows it (runc binds the init's own cgroup the same way);
* the delegated cgroup: the highest ancestor of the runtime's own cgroup that
  the user owns (and can write) in every hierarchy the container would use,
  as a systemd user session's ``user@UID.service`` is on cgroup v2; on v1
  only when the user owns the directories (nothing delegates them by default).
"""

from __future__ import annotations

import posixpath

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
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

    The runtime's own cgroup must be one path in every hierarchy the container
    uses; the delegated cgroup is its highest ancestor (itself included) whose
    directory ``owned(directory)`` holds in each hierarchy, with every cgroup
    between them owned too (the caller checks the owner is the euid and the
    directory is writable). Taking the highest one matters on cgroup v2: a
    systemd user session delegates ``user@UID.service``, whose processes live
    in leaf cgroups below it, and controllers can only be enabled in a cgroup
    with no processes of its own.
    """
    mounts = hierarchies(mode, v1, unified)
    paths = {own.get(m) for m in mounts}
    if not mounts or len(paths) != 1:
        return None
    path = paths.pop()
    found = None
    while path not in (None, "", "/") and all(
        owned(posixpath.join(m, path.lstrip("/"))) for m in mounts
    ):
        found = path
        path = posixpath.dirname(path)
    return found
