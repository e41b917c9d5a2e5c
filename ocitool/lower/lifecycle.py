"""The hand-over between create and start, and teardown at delete.

``create`` ends with the init blocked (``wait_start``); ``start`` releases it.
``delete`` kills whatever is left before the cgroup is removed (cgroups
cannot be removed while they hold processes).
"""

from __future__ import annotations

from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.process import Console, Kill, Start, WaitStart
from ocitool.spec.model import Spec


def lower_handover(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    """Console (after the rootfs is final, /dev/ptmx is the container's), then wait/start."""
    ops: list[Op] = []
    proc = spec.process
    if proc is not None and proc.terminal:
        size = proc.console_size
        ops.append(
            Console(
                phase=Phase.CREATE_PIVOT,
                source=proc.at("terminal"),
                width=size.width if size else None,
                height=size.height if size else None,
            )
        )
    ops.append(WaitStart(phase=Phase.CREATE_PIVOT, source=None))
    ops.append(Start(phase=Phase.START, source=None))
    return ops


def lower_teardown(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    return [Kill(phase=Phase.DELETE, source=None)]
