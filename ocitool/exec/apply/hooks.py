"""Appliers for :mod:`ocitool.plan.ops.hooks`."""

from __future__ import annotations

import os

from ocitool.exec.apply.base import applies
from ocitool.exec.context import ExecContext
from ocitool.exec.syscalls import (
    is_exec_error,
)
from ocitool.plan.ops.hooks import RunHook


# ---------------------------------------------------------------- hooks
@applies(RunHook)
def hook(op: RunHook, ctx: ExecContext) -> None:
    from ocitool.exec.hooks import run_hook

    stdin = ctx.state_json.encode() if op.stdin == "state" else b""
    try:
        run_hook(ctx.sys, op.path, list(op.args), list(op.env), stdin, op.timeout)
    except Exception as exc:
        if is_exec_error(exc) and op.kind in ("poststart", "poststop"):
            os.write(2, f"ocitool: warning: {op.kind} hook: {exc}\n".encode())
            return
        raise
