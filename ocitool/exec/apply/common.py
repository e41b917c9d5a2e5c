"""Appliers for :mod:`ocitool.plan.ops.common`: plain file writes."""

from __future__ import annotations

from ocitool.exec.apply.base import applies, pid_text
from ocitool.exec.context import ExecContext
from ocitool.plan.ops.common import WriteFile


# ---------------------------------------------------------------- generic files
@applies(WriteFile)
def write_file(op: WriteFile, ctx: ExecContext) -> None:
    ctx.sys.write_file(pid_text(ctx, op.path), op.value.encode())
