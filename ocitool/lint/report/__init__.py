"""Reporters: one module per output format, each ``render(results, out)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TextIO

from ocitool.lint.engine import FileResult

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
