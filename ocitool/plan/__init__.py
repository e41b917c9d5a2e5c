"""The Plan IR (ops), the Plan container and its ordering checks.

``Plan`` and ``check_order`` are loaded on first use: starting a container from a
cached plan (:mod:`ocitool.plan.cache`) needs only the op classes.
"""

from ocitool.plan.ops.base import Op, Phase
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from ocitool.plan.plan import Plan, check_order

__all__ = ["Op", "Phase", "Plan", "check_order"]


def __getattr__(name: str) -> object:
    if name in ("Plan", "check_order"):
        from ocitool.plan import plan

        return getattr(plan, name)
    raise AttributeError(f"module 'ocitool.plan' has no attribute {name!r}")
