"""What ocitool-runc reads from a live container's cgroup: is it frozen, which pids.

Works on the container's own cgroup directories as create made them (one per
v1 hierarchy, or the single v2 directory). Only reads: freezing, thawing,
signalling and limit updates are live plans (runc/live.py) the executor
applies.
"""

from __future__ import annotations

import os


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def freezer_dir(dirs: list[str]) -> tuple[str, str] | None:
    """(kind, directory): ("v1", .../freezer/...) or ("v2", dir with cgroup.freeze)."""
    for d in dirs:
        if "/freezer/" in d or d.endswith("/freezer"):
            return "v1", d
    for d in dirs:
        if os.path.exists(os.path.join(d, "cgroup.freeze")):
            return "v2", d
    return None


def is_frozen(dirs: list[str]) -> bool:
    where = freezer_dir(dirs)
    if where is None:
        return False
    kind, d = where
    try:
        if kind == "v1":
            return _read(os.path.join(d, "freezer.state")).strip() == "FROZEN"
        return _read(os.path.join(d, "cgroup.freeze")).strip() == "1"
    except OSError:
        return False


def pids(dirs: list[str]) -> list[int]:
    """Every process in the container's cgroup (the first hierarchy that lists any)."""
    ordered = sorted(dirs, key=lambda d: ("/pids/" not in d, "/memory/" not in d))
    for d in ordered:
        try:
            text = _read(os.path.join(d, "cgroup.procs"))
        except OSError:
            continue
        found = sorted(int(x) for x in text.split())
        if found:
            return found
    return []
