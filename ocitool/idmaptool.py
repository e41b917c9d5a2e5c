"""The command line of newuidmap/newgidmap (shadow's ``uidmap`` package), in one place.

Both the plan op that shows the call (:class:`ocitool.plan.ops.rootless.IdMapHelper`)
and its applier build it here: the applier may run an op read back from the plan
cache (fields only, no methods), and must not import the op classes on the
container-start path.
"""

from __future__ import annotations

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


def helper_argv(helper: str, pid: str, mappings: Iterable[Iterable[int]]) -> list[str]:
    """``helper PID inside outside count ...``, one triple per range."""
    return [helper, pid, *(str(n) for triple in mappings for n in triple)]
