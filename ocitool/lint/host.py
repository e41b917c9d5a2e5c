"""Facts about the machine, used only by host-specific rules (``--host-specific``).

Lint judges the config, not the machine, by default; these facts are read
only when asked for, and tests build :class:`HostFacts` by hand. Reading a
few files under /sys and /proc is the whole of the detection (no side effects).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class HostFacts:
    """What a host can honour; ``None`` means unknown (the rule then stays quiet)."""

    cgroup_mode: str | None = None  # "v1", "v2", "hybrid"
    controllers: frozenset[str] | None = None  # cgroup v2 controllers at the root
    apparmor: bool | None = None
    selinux: bool | None = None
    resctrl: bool | None = None
    max_user_namespaces: int | None = None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return None


def detect(root: str = "/") -> HostFacts:
    """Read the facts from this machine (``root`` lets tests point at a fake tree)."""

    def p(rel: str) -> str:
        return os.path.join(root, rel)

    controllers_text = _read(p("sys/fs/cgroup/cgroup.controllers"))
    if controllers_text is not None:
        mode = "v2"
    elif os.path.isdir(p("sys/fs/cgroup/unified")):
        mode = "hybrid"
    elif os.path.isdir(p("sys/fs/cgroup")):
        mode = "v1"
    else:
        mode = None
    controllers = frozenset(controllers_text.split()) if controllers_text is not None else None
    aa = _read(p("sys/module/apparmor/parameters/enabled"))
    selinux = os.path.exists(p("sys/fs/selinux/enforce"))
    mounts = _read(p("proc/self/mounts")) or ""
    resctrl = any(line.split()[2:3] == ["resctrl"] for line in mounts.splitlines())
    max_userns = _read(p("proc/sys/user/max_user_namespaces"))
    return HostFacts(
        cgroup_mode=mode,
        controllers=controllers,
        apparmor=(aa == "Y") if aa is not None else False,
        selinux=selinux,
        resctrl=resctrl if mounts else None,
        max_user_namespaces=int(max_userns) if max_userns and max_userns.isdigit() else None,
    )
