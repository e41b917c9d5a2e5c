"""Ops only a rootless plan has: id maps written by the setuid helpers, skipped cgroups.

An unprivileged runtime can write the init's ``uid_map``/``gid_map`` itself
only for a single one-id range of its own uid/gid (user_namespaces(7)); any
other map goes through ``newuidmap``/``newgidmap`` (shadow's ``uidmap``
package), which check the ranges against ``/etc/subuid`` and ``/etc/subgid``.
Where no cgroup is delegated to the user, the container gets no cgroup at
all; :class:`CgroupsSkipped` says so in the plan, with every limit that is
therefore not applied.
"""

from __future__ import annotations

from ocitool.idmaptool import helper_argv
from ocitool.plan.ops.base import Op, quote
from ocitool.plan.ops.common import INIT_PID
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import ClassVar

# helper name -> the map file it writes (for the printers and the verifier)
HELPER_FILES = {"newuidmap": "uid_map", "newgidmap": "gid_map"}


class IdMapHelper(Op):
    """Run ``helper`` (``newuidmap`` or ``newgidmap``, looked up on PATH as runc does)
    with the init's pid and the ``inside outside count`` triples; it writes the map
    (and, for gid maps, setgroups) after checking the subordinate id ranges."""

    name: ClassVar[str] = "idmap_helper"

    helper: str
    mappings: tuple[tuple[int, int, int], ...]
    pid: str = INIT_PID

    @property
    def map_file(self) -> str:
        return f"/proc/{self.pid}/{HELPER_FILES[self.helper]}"

    def argv(self, pid: str) -> list[str]:
        return helper_argv(self.helper, pid, self.mappings)

    def text(self) -> str:
        args = ", ".join(quote(a) for a in self.argv(self.pid))
        return f"run({quote(self.helper)}, [{args}])  /* writes {self.map_file} */"


class CgroupsSkipped(Op):
    """No cgroup for this container: the runtime is rootless and the cgroup is not
    delegated to it. Nothing runs; ``limits`` are the config pointers of the limits
    that are therefore not applied (each also has a warning diagnostic)."""

    name: ClassVar[str] = "cgroups_skipped"

    reason: str
    limits: tuple[str, ...] = ()

    def text(self) -> str:
        dropped = f"; not applied: {', '.join(self.limits)}" if self.limits else ""
        return f"/* no cgroup: {self.reason}{dropped} */"
