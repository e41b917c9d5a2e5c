"""Runtime side, before the clone: what the init will need once it cannot import or reach
host paths any more."""

from __future__ import annotations

from ocitool.exec import flags as F
from ocitool.exec.context import ExecContext
from ocitool.exec.syscalls import (
    TYPE_CHECKING,
)

if TYPE_CHECKING:
    from typing import Any


def prepare_init(ops: Any, ctx: ExecContext) -> None:
    """Runtime side, before the clone: what the init will need after pivot_root, when it
    can no longer import modules or reach host paths (listener sockets go to
    ``ctx.listeners``; the runtime closes its copies after the clone)."""
    names = {op.name for op in ops}
    if "capabilities" in names:
        F.cap_last_cap()  # read now: after pivot_root it would be the container's /proc
    if "console" in names:
        import ocitool.exec.tty  # noqa: F401

        if ctx.console_socket:
            ctx.listeners["console"] = _connect(ctx, ctx.console_socket)
    if "hook" in names:
        import ocitool.exec.hooks  # noqa: F401
    for op in ops:
        if op.name != "seccomp_load":
            continue
        if op.program is None:
            import ocitool.seccomp.compiler  # noqa: F401
        if op.listener_path:
            ctx.listeners[op.listener_path] = _connect(ctx, op.listener_path)


def _connect(ctx: ExecContext, path: str) -> Any:
    """A connected unix stream socket (made before the clone: see prepare_init)."""
    return ctx.sys.unix_connect(path)
