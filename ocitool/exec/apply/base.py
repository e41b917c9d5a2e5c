"""The applier registry and what appliers share: the init-pid placeholder, root resolvers."""

from __future__ import annotations

from ocitool.exec.context import ExecContext
from ocitool.exec.resolve import RootResolver
from ocitool.exec.syscalls import (
    TYPE_CHECKING,
    errno_name,
    is_exec_error,
    op_error,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ocitool.plan.ops.base import Op


CAP_SETPCAP = 8
APPLIERS: dict[str, Callable[[Any, ExecContext], None]] = {}

INIT_PID = "{init}"


def applies(
    *op_classes: type[Op],
) -> Callable[[Callable[[Any, ExecContext], None]], Callable[[Any, ExecContext], None]]:
    """Register the decorated function as the applier of each op class (keyed by the
    class's ``name``, which is what a plan read back from the cache carries)."""

    def register(fn: Callable[[Any, ExecContext], None]) -> Callable[[Any, ExecContext], None]:
        for op_class in op_classes:
            APPLIERS[op_class.name] = fn
        return fn

    return register


def apply_op(
    fn: Callable[[Any, ExecContext], None] | None, index: int, op: Any, ctx: ExecContext
) -> None:
    """Apply ``op``, the ``index``-th of its plan, with its applier ``fn`` (None: there is
    none); a failure becomes an ExecError that names the op."""
    sys = ctx.sys
    try:
        sys.begin_op(index, op)
        if fn is None:
            raise op_error(index, op, "the executor has no applier for this op")
        fn(op, ctx)
        sys.end_op(index, op)
    except OSError as exc:
        raise op_error(
            index, op, f"{errno_name(exc.errno or 0)} ({exc.strerror})", exc.errno
        ) from None
    except Exception as exc:
        if not is_exec_error(exc) or getattr(exc, "op_index", None) is not None:
            raise
        err = op_error(index, op, exc.message, getattr(exc, "errno", None))  # type: ignore[attr-defined]
        if getattr(exc, "code", "OCI501") not in ("OCI501", "OCI503"):
            # an applier's own coded error (e.g. OCI541) keeps its code and hint
            err.code = exc.code  # type: ignore[attr-defined]
            err.hint = f"{exc.hint}; everything applied before it was undone"  # type: ignore[attr-defined]
        raise err from None


def pid_text(ctx: ExecContext, text: str) -> str:
    return text.replace(INIT_PID, str(ctx.pid))


def resolver(ctx: ExecContext, root: str | None) -> RootResolver:
    """The cached resolver for ``root`` (None: "/" of the current mount namespace)."""
    key = root or "/"
    cache = ctx.resolvers
    res = cache.get(key)
    if res is None:
        res = cache[key] = RootResolver(ctx.sys, key)
    return res


def drop_resolvers(ctx: ExecContext) -> None:
    """pivot_root changes what "/" is: forget cached root fds."""
    for res in ctx.resolvers.values():
        res.close()
    ctx.resolvers = {}
