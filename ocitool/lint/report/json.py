"""JSON report: one object per finding plus a summary, stable for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from ocitool.lint.report import counts, describe
from ocitool.lint.result import FileResult


def to_json(results: Sequence[FileResult]) -> dict[str, Any]:
    findings = []
    for result in results:
        for d in result.findings:
            rule = describe(d.code)
            findings.append(
                {
                    "path": d.path or result.path,
                    "line": d.line,
                    "column": d.column,
                    "pointer": d.pointer,
                    "code": d.code,
                    "name": rule.name if rule else None,
                    "family": rule.family if rule else "validation",
                    "severity": d.severity,
                    "message": d.message,
                    "hint": d.hint,
                }
            )
    return {"version": 1, "files": len(results), "summary": counts(results), "findings": findings}


def render(results: Sequence[FileResult], out: TextIO) -> None:
    """One finding per line: readable, diff-friendly, and fast (the C encoder needs no indent)."""
    data = to_json(results)
    findings = data.pop("findings")
    head = json.dumps(data)[:-1]
    out.write(head + ', "findings": [')
    out.write(",".join("\n  " + json.dumps(f) for f in findings))
    out.write("\n]}\n" if findings else "]}\n")
