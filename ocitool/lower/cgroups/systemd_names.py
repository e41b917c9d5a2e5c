"""The systemd cgroup driver's naming rules: ``slice:prefix:name`` -> unit, slice, cgroup path.

With ``--systemd-cgroup`` the container's cgroup is a transient unit that
systemd creates; its path follows from the unit's name and slice, the way
runc (libcontainer/cgroups/systemd, specconv) derives them:

* ``linux.cgroupsPath`` empty or absent: as if it were ``:runc:<id>`` (we
  keep runc's prefix so engines and tools that look for ``runc-<id>.scope``
  find it);
* otherwise exactly three ``:``-separated parts ``slice:prefix:name``. Anything
  else -- an absolute path such as ``/machine/web`` included -- is refused,
  as runc refuses it;
* an empty ``slice`` means ``system.slice``; ``-.slice`` is the root slice;
* the unit is ``prefix-name.scope``, unless ``name`` already ends in
  ``.slice`` (then the unit is that slice and ``prefix`` is ignored) or in
  ``.scope``;
* a slice name nests by its dashes, as systemd expands it:
  ``a-b.slice`` lives at ``/a.slice/a-b.slice``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

SLICE_SUFFIX = ".slice"
SCOPE_SUFFIX = ".scope"
DEFAULT_SLICE = "system.slice"
DEFAULT_PREFIX = "runc"


class SystemdNameError(ValueError):
    """A cgroupsPath or slice the systemd driver cannot use (message says why)."""


@dataclass(frozen=True)
class SystemdUnit:
    """Where the container goes: its unit, the slice it is placed in, the cgroup path."""

    unit: str  # e.g. "libpod-1234.scope"
    slice: str  # e.g. "machine.slice" (the parent: Slice= for a scope, Wants= for a slice)
    cgroup_path: str  # e.g. "/machine.slice/libpod-1234.scope"

    @property
    def is_slice(self) -> bool:
        return self.unit.endswith(SLICE_SUFFIX)


def expand_slice(name: str) -> str:
    """``a-b-c.slice`` -> ``/a.slice/a-b.slice/a-b-c.slice``; ``-.slice`` -> ``/``.

    systemd's own rule (``unit_name_to_path`` of a slice): each dash opens a
    child of the slice before it. An empty component (``a--b.slice``,
    ``-a.slice``, ``a-.slice``) and a ``/`` are invalid.
    """
    if not name.endswith(SLICE_SUFFIX) or "/" in name:
        raise SystemdNameError(f"invalid slice name: {name}")
    stem = name[: -len(SLICE_SUFFIX)]
    if stem == "-":
        return "/"
    path, prefix = "", ""
    for component in stem.split("-"):
        if not component:
            raise SystemdNameError(f"invalid slice name: {name}")
        path += "/" + prefix + component + SLICE_SUFFIX
        prefix += component + "-"
    return path


def unit_name(prefix: str, name: str) -> str:
    """The transient unit's name: a scope unless ``name`` is a slice."""
    if name.endswith(SLICE_SUFFIX):
        return name
    unit = f"{prefix}-{name}"
    return unit if unit.endswith(SCOPE_SUFFIX) else unit + SCOPE_SUFFIX


def resolve(cgroups_path: str | None, container_id: str) -> SystemdUnit:
    """The unit for ``linux.cgroupsPath`` (None/empty: the runc default for the id)."""
    if not cgroups_path:
        slice_name, prefix, name = "", DEFAULT_PREFIX, container_id
    else:
        parts = cgroups_path.split(":")
        if len(parts) != 3:
            raise SystemdNameError(
                f'expected cgroupsPath to be of format "slice:prefix:name" for systemd '
                f"cgroups, got {cgroups_path!r} instead"
            )
        slice_name, prefix, name = parts
    if not name:
        raise SystemdNameError(f"cgroupsPath {cgroups_path!r} has an empty name")
    if "/" in prefix or "/" in name:
        raise SystemdNameError(f"cgroupsPath {cgroups_path!r}: a unit name cannot contain '/'")
    slice_name = slice_name or DEFAULT_SLICE
    unit = unit_name(prefix, name)
    cgroup_path = posixpath.join(expand_slice(slice_name), unit)
    if unit.endswith(SLICE_SUFFIX):
        # A slice unit is placed by its own name (systemd expands it), not below the parent.
        cgroup_path = expand_slice(unit)
    return SystemdUnit(unit=unit, slice=slice_name, cgroup_path=cgroup_path)
