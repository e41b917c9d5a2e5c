"""Show diagnostics to people (rich text with the offending source line) and to programs (JSON).

Shared by ``validate`` and ``lint``: both produce one :class:`FileReport` per
input file. Text output puts each finding next to the line of config.json it
is about, with a caret under the column, so the reader does not have to
count lines. ``rich`` is imported only when text is actually rendered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ocitool.errors import Diagnostic
from ocitool.spec.load import Document

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

_STYLES = {"error": "bold red", "warning": "bold yellow", "info": "bold blue"}
_MAX_LINE = 120


@dataclass
class FileReport:
    """The findings for one input (a config file, a bundle, or stdin)."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    document: Document | None = None

    @property
    def valid(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def count(self, severity: str) -> int:
        return sum(1 for d in self.diagnostics if d.severity == severity)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "valid": self.valid,
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


def reports_to_json(reports: Iterable[FileReport]) -> dict[str, Any]:
    """``{"files": [{"path", "valid", "diagnostics": [...]}]}``."""
    return {"files": [r.to_json() for r in reports]}


def render_json(reports: Iterable[FileReport], stream: IO[str], *, indent: int | None = 2) -> None:
    json.dump(reports_to_json(reports), stream, indent=indent)
    stream.write("\n")


def make_console(stream: IO[str], color: bool | None = None) -> Console:
    """A rich console on ``stream``; ``color=None`` lets rich decide (tty, NO_COLOR)."""
    from rich.console import Console

    return Console(
        file=stream,
        highlight=False,
        soft_wrap=True,
        force_terminal=color if color else None,
        no_color=color is False,
        emoji=False,
    )


def clip_line(line: str, column: int) -> tuple[str, int]:
    """Cut a long source line to a window around ``column`` (1-based); returns text, new column."""
    if len(line) <= _MAX_LINE:
        return line, column
    start = max(0, min(column - 1 - _MAX_LINE // 2, len(line) - _MAX_LINE))
    clipped = line[start : start + _MAX_LINE]
    prefix = "..." if start > 0 else ""
    return prefix + clipped, column - start + len(prefix)


def snippet_text(doc: Document, line: int, column: int | None, context: int = 1) -> Text:
    """Source lines around ``line`` with a gutter and a caret under ``column``."""
    from rich.text import Text

    out = Text()
    rows = doc.snippet(line, context)
    width = len(str(rows[-1][0])) if rows else 1
    for number, source in rows:
        source = source.expandtabs(1)
        caret_col = column or 1
        shown, caret_col = clip_line(source, caret_col)
        marker = ">" if number == line else " "
        out.append(f" {marker}{number:>{width}} | ", style="dim" if number != line else "bold")
        out.append(shown + "\n", style=None if number == line else "dim")
        if number == line and column is not None:
            out.append(" " * (width + 2) + " | " + " " * (caret_col - 1))
            out.append("^\n", style="bold red")
    return out


def diagnostic_text(diag: Diagnostic, doc: Document | None = None, *, snippet: bool = True) -> Text:
    """One finding: ``path:line:col: severity CODE at /pointer``, message, source, expected, hint."""
    from rich.text import Text

    out = Text()
    out.append(diag.location(), style="bold")
    out.append(": ")
    out.append(f"{diag.severity} {diag.code}", style=_STYLES.get(diag.severity, "bold"))
    if diag.pointer:
        out.append(f" at {diag.pointer}", style="cyan")
    out.append("\n  " + diag.message + "\n")
    if snippet and doc is not None and diag.line is not None and doc.text:
        out.append_text(snippet_text(doc, diag.line, diag.column))
    if diag.expected and diag.expected not in diag.message:
        out.append("  expected: ", style="bold")
        out.append(diag.expected + "\n")
    if diag.hint:
        out.append("  hint: ", style="bold green")
        out.append(diag.hint + "\n")
    return out


def summary_text(reports: Sequence[FileReport]) -> Text:
    from rich.text import Text

    files = len(reports)
    invalid = sum(1 for r in reports if not r.valid)
    errors = sum(r.count("error") for r in reports)
    warnings = sum(r.count("warning") for r in reports)
    noun = "file" if files == 1 else "files"
    out = Text(f"checked {files} {noun}: ")
    if invalid:
        out.append(f"{invalid} invalid", style="bold red")
        out.append(f", {files - invalid} valid")
    else:
        out.append("all valid", style="bold green")
    details = []
    if errors:
        details.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        details.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    if details:
        out.append(" (" + ", ".join(details) + ")")
    return out


def render_text(
    reports: Sequence[FileReport],
    stream: IO[str],
    *,
    color: bool | None = None,
    show_valid: bool = True,
    snippets: bool = True,
    summary: bool = True,
) -> None:
    """Write every report: one line per clean file, a block per finding, then a summary."""
    from rich.text import Text

    console = make_console(stream, color)
    batch = Text()  # consecutive short lines are printed together: one rich call, not thousands
    for report in reports:
        if not report.diagnostics:
            if show_valid:
                batch.append(f"{report.path}: ")
                batch.append("valid", style="green")
                batch.append("\n")
            continue
        for diag in report.diagnostics:
            batch.append_text(diagnostic_text(diag, report.document, snippet=snippets))
        if len(batch) > 1 << 16:
            console.print(batch, end="")
            batch = Text()
    if summary:
        batch.append_text(summary_text(reports))
        batch.append("\n")
    if batch:
        console.print(batch, end="")
