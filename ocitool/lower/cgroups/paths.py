"""Where the container's cgroup lives on the host, per hierarchy.

The cgroup path itself (``/ocitool/<id>``, or from ``linux.cgroupsPath``) is
decided by :attr:`LowerContext.cgroup_path`. Here it is joined to mountpoints:
on v1 one directory per mounted hierarchy (co-mounted controllers such as
``cpu,cpuacct`` share one), on v2 one directory under the unified mount.
Hybrid hosts (v1 controllers plus an empty cgroup2 mount, like this project's
CI machine) are driven through v1, as runc does.
"""

from __future__ import annotations

import posixpath

from ocitool.lower.host import CGROUP_ROOT, HostInfo


def driver(host: HostInfo) -> str:
    """``v1`` or ``v2``: which set of files limits are written to."""
    return "v2" if host.cgroup == "v2" else "v1"


def join(base: str, cgroup_path: str, *rest: str) -> str:
    """``base`` + ``cgroup_path`` (+ ``rest``); the root cgroup ``/`` is ``base`` itself."""
    return posixpath.join(base, *[p for p in (cgroup_path.strip("/"), *rest) if p])


def v1_dir(host: HostInfo, controller: str, cgroup_path: str) -> str | None:
    """The container's directory in ``controller``'s hierarchy, or None if not mounted."""
    mount = host.v1_mountpoint(controller)
    return join(mount, cgroup_path) if mount else None


def v1_dirs(host: HostInfo, cgroup_path: str) -> list[str]:
    """One directory per mounted v1 hierarchy (deduplicated, in controller order)."""
    seen: list[str] = []
    for controller in sorted(host.cgroup_mounts):
        path = v1_dir(host, controller, cgroup_path)
        if path is not None and path not in seen:
            seen.append(path)
    return seen


def hybrid_unified_dir(host: HostInfo, cgroup_path: str) -> str | None:
    """On hybrid hosts, the container's directory in the controller-less cgroup2 mount.

    runc creates and joins it too (so tools that read the unified hierarchy,
    such as systemd, see the container), without writing limits there.
    """
    if host.cgroup != "hybrid" or not host.unified_mount:
        return None
    return join(host.unified_mount, cgroup_path)


def v2_root(host: HostInfo) -> str:
    return host.unified_mount or CGROUP_ROOT


def v2_dir(host: HostInfo, cgroup_path: str) -> str:
    return join(v2_root(host), cgroup_path)


def v2_ancestors(host: HostInfo, cgroup_path: str) -> list[str]:
    """The unified root and every directory between it and the container's (exclusive)."""
    parts = [p for p in cgroup_path.split("/") if p]
    root = v2_root(host)
    return [posixpath.join(root, *parts[:i]) for i in range(len(parts))]
