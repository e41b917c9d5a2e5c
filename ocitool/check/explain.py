"""After a failed start: the finding behind the op that failed, in the error itself.

The executor reports which op failed and the errno (``op #46 bind_mount
... EACCES``); it never reads the config. The CLI (``ocitool exec``,
``ocitool-runc create/run``) hands that error here, with the ops that ran
and the bundle, and the preflight checks are run over those ops: the
findings that name the failed op (or, when the init died without naming
one, every error finding) become the error's cause, with the config pointer
and line:col of the value behind it. This runs only on the failure path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ocitool.errors import Diagnostic

_MAX_CAUSES = 3


def causes(
    op_index: int | None, ops: Sequence[Any], bundle: str, container_id: str
) -> list[Diagnostic]:
    """The check findings that explain a failure of op ``op_index`` (None: unknown op).

    ``ops`` are the plan's op objects (the plan cache rebuilds the same ones); for
    anything else the checks read the plan lowered again for the same container.
    """
    from ocitool.check.engine import context_for, run, to_diagnostic
    from ocitool.plan.ops.base import Op
    from ocitool.spec.load import load

    doc = load(bundle)
    typed = all(isinstance(op, Op) for op in ops)
    ctx = context_for(doc, ops=list(ops) if typed else None, container_id=container_id)
    if len(ctx.ops) != len(ops):
        op_index = None  # not the same plan (lowered with --no-pivot or --no-new-keyring)
    errors = [r for r in run(ctx) if r.rule.severity == "error"]
    if op_index is not None:
        mine = [r for r in errors if r.finding.op_index == op_index]
        errors = mine or [
            r for r in errors if r.finding.op_index is None or r.finding.op_index < op_index
        ]
    return [to_diagnostic(r, doc) for r in errors[:_MAX_CAUSES]]


def cause_text(diag: Diagnostic) -> str:
    """``OCH101 the container's root ... [/root/path, config.json:34:11]``."""
    where = diag.pointer or "config"
    if diag.line is not None:
        where += f", {os.path.basename(diag.path or 'config.json')}:{diag.line}:{diag.column}"
    return f"{diag.code} {diag.message} [{where}]"


def annotate(err: BaseException, ops: Sequence[Any], bundle: str, container_id: str) -> None:
    """Add the root cause to ``err`` (an ExecError from the executor), in place.

    The message gains ``; cause: ...`` (engines show the message: runc's log
    line), the pointer and file:line:col become the cause's, and the hint its
    fix. Anything going wrong here leaves ``err`` as it was: an explanation
    must never hide the failure it explains.
    """
    if getattr(err, "code", "")[:4] != "OCI5":
        return
    try:
        found = causes(getattr(err, "op_index", None), ops, bundle, container_id)
    except Exception:  # noqa: BLE001 - see docstring
        if os.environ.get("OCITOOL_DEBUG"):
            raise
        return
    if not found:
        return
    first = found[0]
    err.message = f"{err.message}; cause: " + "; ".join(cause_text(d) for d in found)  # type: ignore[attr-defined]
    err.args = (err.message,)  # type: ignore[attr-defined]
    err.pointer, err.path = first.pointer, first.path  # type: ignore[attr-defined]
    err.line, err.column = first.line, first.column  # type: ignore[attr-defined]
    err.hint = first.hint  # type: ignore[attr-defined]
    err.causes = found  # type: ignore[attr-defined]
