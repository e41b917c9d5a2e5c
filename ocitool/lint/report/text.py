"""Human report: each finding with its location, the config lines around it, and the fix.

Coloured on a terminal (ocitool/render/ansi.py decides, honouring NO_COLOR and
FORCE_COLOR); piped output is plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from ocitool.errors import Diagnostic
from ocitool.lint.report import counts, describe
from ocitool.lint.report.paths import display_path
from ocitool.lint.result import FileResult
from ocitool.render.ansi import Painter, painter, printable
from ocitool.render.diagnostics import clip_line
from ocitool.spec.load import Document

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _snippet(paint: Painter, doc: Document, d: Diagnostic) -> list[str]:
    if d.line is None:
        return []
    out = []
    lines = doc.snippet(d.line, context=1)
    width = len(str(lines[-1][0])) if lines else 1
    indent = 4 + width + 3  # "  > " + the number + " | ": tabs expand from the line's start
    for number, source in lines:
        text, column = clip_line(source, d.column or 1)  # a minified config is one long line
        marker = ">" if number == d.line else " "
        style = "bold" if number == d.line else "dim"
        out.append(
            f"  {marker} {paint(f'{number:>{width}} |', style)} {_expand(indent, printable(text))}"
        )
        if number == d.line and d.column:
            pad = " " * len(_expand(indent, printable(text[: column - 1])))
            out.append(f"    {' ' * width} | {pad}{paint('^', _STYLE[d.severity])}")
    return out


def _expand(indent: int, text: str) -> str:
    """``text`` with its tabs expanded as they show after ``indent`` columns."""
    return (" " * indent + text).expandtabs()[indent:]


def _finding(paint: Painter, result: FileResult, d: Diagnostic) -> list[str]:
    where = display_path(d.path or result.path)
    if d.line is not None:
        where += f":{d.line}" + (f":{d.column}" if d.column else "")
    rule = describe(d.code)
    name = f" {rule.name}" if rule else ""
    out = [
        f"{paint(printable(where), 'bold')}: {paint(d.severity, _STYLE.get(d.severity, 'red'))} "
        f"{paint(d.code, 'bold')}{name}: {printable(d.message)}"
    ]
    if result.doc is not None:
        out += _snippet(paint, result.doc, d)
    if d.pointer:
        out.append("    " + paint(f"at {printable(d.pointer)}", "dim"))
    if d.hint:
        out.append(f"    {paint('fix:', 'green')} {printable(d.hint)}")
    return out


def render(results: Sequence[FileResult], out: TextIO, *, color: bool | None = None) -> None:
    paint = painter(out, color)
    lines: list[str] = []
    for result in results:
        for d in result.findings:
            lines += _finding(paint, result, d)
            lines.append("")
    c = counts(results)
    files = len(results)
    noun = "file" if files == 1 else "files"
    with_findings = sum(1 for r in results if r.findings)
    if not any(c.values()):
        lines.append(paint(f"{files} {noun} checked: no findings", "green"))
    else:
        errors = paint(f"{c['error']} error(s)", "red")
        warnings = paint(f"{c['warning']} warning(s)", "yellow")
        info = paint(f"{c['info']} info", "cyan")
        lines.append(
            f"{files} {noun} checked, {with_findings} with findings: {errors}, {warnings}, {info}"
        )
    out.write("\n".join(lines) + "\n")
