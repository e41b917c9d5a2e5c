"""Ops shared by several concerns: writing a value to a (proc) file."""

from __future__ import annotations

from ocitool.plan.ops.base import Op, quote
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import ClassVar

INIT_PID = "{init}"
"""Placeholder for the init's host pid in runtime-side paths (``/proc/{init}/uid_map``).

The pid is only known when the plan runs; the executor substitutes it.
"""


class WriteFile(Op):
    """Write ``value`` to an existing file (id maps, setgroups, oom_score_adj, sysctl)."""

    name: ClassVar[str] = "write_file"

    path: str
    value: str

    def text(self) -> str:
        return f"write({quote(self.path)}, {quote(self.value)})"
