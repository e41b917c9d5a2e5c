"""Plan -> canonical JSON ``{"host": {...}, "ops": [...]}`` (see ocitool.plan.ops.base).

With ``explain`` each op also gets ``config``: the line:column and source text
of the value its ``source`` pointer names, taken from the loaded document.
"""

from __future__ import annotations

import json
from typing import IO, Any

from ocitool.plan.plan import Plan
from ocitool.spec.load import Document

_MAX = 100


def source_excerpt(doc: Document | None, pointer: str | None) -> dict[str, Any] | None:
    """Where ``pointer`` is in ``doc`` and the source line there; None when unknown."""
    if doc is None or pointer is None or not doc.text:
        return None
    pos = doc.key_position(pointer)
    if pos is None:
        return None
    line, column = pos
    try:
        value = doc.resolve(pointer)
    except KeyError:
        value = None
    if isinstance(value, dict | list):
        text = json.dumps(value, separators=(", ", ": "))
        if len(text) > _MAX:
            text = text[: _MAX - 3] + "..."
        key = pointer.rsplit("/", 1)[-1]
        text = f'"{key}": {text}' if not key.isdigit() else text
    else:
        rows = doc.snippet(line, 0)
        text = rows[0][1].strip().rstrip(",") if rows else ""
    return {"line": line, "column": column, "text": text}


def plan_to_json(
    plan: Plan, doc: Document | None = None, *, explain: bool = False
) -> dict[str, Any]:
    data = plan.to_json()
    if doc is not None and plan.diagnostics:
        data["diagnostics"] = [doc.locate(d).to_json() for d in plan.diagnostics]
    if explain:
        data["ops"] = [
            {**op.to_json(), "config": source_excerpt(doc, op.source)} for op in plan.ops
        ]
    return data


def render_json(
    plan: Plan, stream: IO[str], doc: Document | None = None, *, explain: bool = False
) -> None:
    json.dump(plan_to_json(plan, doc, explain=explain), stream, indent=2)
    stream.write("\n")
