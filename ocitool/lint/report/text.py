"""Human report: each finding with its location, the config lines around it, and the fix.

Uses rich for colour on a terminal; piped output is plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from ocitool.errors import Diagnostic
from ocitool.lint.engine import FileResult
from ocitool.lint.report import counts, describe
from ocitool.lint.report.paths import display_path
from ocitool.render.diagnostics import clip_line
from ocitool.spec.load import Document

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _snippet(console: Console, doc: Document, d: Diagnostic) -> None:
    if d.line is None:
        return
    lines = doc.snippet(d.line, context=1)
    width = len(str(lines[-1][0])) if lines else 1
    for number, source in lines:
        text, column = clip_line(source, d.column or 1)  # a minified config is one long line
        marker = ">" if number == d.line else " "
        style = "bold" if number == d.line else "dim"
        console.print(f"  {marker} [{style}]{number:>{width}} |[/] {escape(text)}")
        if number == d.line and d.column:
            pad = "".join(c if c == "\t" else " " for c in text[: column - 1])
            console.print(f"    {' ' * width} | {pad}[{_STYLE[d.severity]}]^[/]")


def _finding(console: Console, result: FileResult, d: Diagnostic) -> None:
    where = display_path(d.path or result.path)
    if d.line is not None:
        where += f":{d.line}" + (f":{d.column}" if d.column else "")
    rule = describe(d.code)
    name = f" {rule.name}" if rule else ""
    console.print(
        f"[bold]{escape(where)}[/]: [{_STYLE.get(d.severity, 'red')}]{d.severity}[/] "
        f"[bold]{d.code}[/]{escape(name)}: {escape(d.message)}"
    )
    if result.doc is not None:
        _snippet(console, result.doc, d)
    if d.pointer:
        console.print(f"    [dim]at {escape(d.pointer)}[/]")
    if d.hint:
        console.print(f"    [green]fix:[/] {escape(d.hint)}")


def render(results: Sequence[FileResult], out: TextIO, *, color: bool | None = None) -> None:
    console = Console(
        file=out, highlight=False, soft_wrap=True, force_terminal=color, no_color=color is False
    )
    for result in results:
        for d in result.findings:
            _finding(console, result, d)
            console.print()
    c = counts(results)
    files = len(results)
    with_findings = sum(1 for r in results if r.findings)
    if not any(c.values()):
        console.print(f"[green]{files} file{'s' if files != 1 else ''} checked: no findings[/]")
        return
    console.print(
        f"{files} file{'s' if files != 1 else ''} checked, {with_findings} with findings: "
        f"[red]{c['error']} error(s)[/], [yellow]{c['warning']} warning(s)[/], "
        f"[cyan]{c['info']} info[/]"
    )
