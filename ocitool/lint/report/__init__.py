"""Reporters: one module per output format, each ``render(results, out)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, TextIO

from ocitool.lint.result import FileResult

if TYPE_CHECKING:
    from ocitool.check.registry import CheckRule
    from ocitool.lint.registry import Rule

FORMATS = ("text", "json", "sarif", "github")

Renderer = Callable[[Sequence[FileResult], TextIO], None]


def renderer(fmt: str) -> Renderer:
    """The ``render`` function of format ``fmt`` (imported lazily: rich only for text)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = import_module(f"ocitool.lint.report.{fmt}")
    fn: Renderer = module.render
    return fn


def counts(results: Sequence[FileResult]) -> dict[str, int]:
    """Findings per severity over all results."""
    out = {"error": 0, "warning": 0, "info": 0}
    for result in results:
        for d in result.findings:
            out[d.severity] = out.get(d.severity, 0) + 1
    return out


def describe(code: str) -> Rule | CheckRule | None:
    """The lint rule or preflight check (``ocitool check``) behind a finding's code."""
    if code[:3] in ("OCR", "OCS", "OCP"):
        from ocitool.lint.registry import get_rule

        return get_rule(code)
    if code[:3] == "OCH":
        from ocitool.check.registry import get_check

        return get_check(code)
    return None
