"""The Plan IR (ops), the Plan container and its ordering checks."""

from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.plan import Plan, check_order

__all__ = ["Op", "Phase", "Plan", "check_order"]
