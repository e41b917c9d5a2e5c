"""Show diagnostics to people (styled text with the offending source line) and to programs (JSON).

Shared by ``validate`` and ``lint``: both produce one :class:`FileReport` per
input file. Text output puts each finding next to the line of config.json it
is about, with a caret under the column, so the reader does not have to
count lines. Styling: ocitool/render/ansi.py (colour on a terminal, NO_COLOR honoured).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from ocitool.errors import Diagnostic
from ocitool.render.ansi import Painter, painter, printable
from ocitool.spec.load import Document

PLAIN = Painter(styles=False, colours=False)

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


def clip_line(line: str, column: int) -> tuple[str, int]:
    """Cut a long source line to a window around ``column`` (1-based); returns text, new column."""
    if len(line) <= _MAX_LINE:
        return line, column
    start = max(0, min(column - 1 - _MAX_LINE // 2, len(line) - _MAX_LINE))
    clipped = line[start : start + _MAX_LINE]
    prefix = "..." if start > 0 else ""
    return prefix + clipped, column - start + len(prefix)


def snippet_text(
    doc: Document, line: int, column: int | None, context: int = 1, paint: Painter = PLAIN
) -> str:
    """Source lines around ``line`` with a gutter and a caret under ``column``."""
    out = []
    rows = doc.snippet(line, context)
    width = len(str(rows[-1][0])) if rows else 1
    for number, source in rows:
        shown, caret_col = clip_line(source.expandtabs(1), column or 1)
        current = number == line
        gutter = f" {'>' if current else ' '}{number:>{width}} | "
        text = printable(shown)
        out.append(
            paint(gutter, "bold" if current else "dim") + (text if current else paint(text, "dim"))
        )
        if current and column is not None:
            pad = " " * len(printable(shown[: caret_col - 1]))
            out.append(" " * (width + 2) + " | " + pad + paint("^", "bold red"))
    return "".join(row + "\n" for row in out)


def diagnostic_text(
    diag: Diagnostic, doc: Document | None = None, *, snippet: bool = True, paint: Painter = PLAIN
) -> str:
    """One finding: ``path:line:col: severity CODE at /pointer``, message, source, expected, hint."""
    out = paint(printable(diag.location()), "bold") + ": "
    out += paint(f"{diag.severity} {diag.code}", _STYLES.get(diag.severity, "bold"))
    if diag.pointer:
        out += paint(f" at {printable(diag.pointer)}", "cyan")
    out += "\n  " + printable(diag.message) + "\n"
    if snippet and doc is not None and diag.line is not None and doc.text:
        out += snippet_text(doc, diag.line, diag.column, paint=paint)
    if diag.expected and diag.expected not in diag.message:
        out += paint("  expected: ", "bold") + printable(diag.expected) + "\n"
    if diag.hint:
        out += paint("  hint: ", "bold green") + printable(diag.hint) + "\n"
    return out


def summary_text(reports: Sequence[FileReport], paint: Painter = PLAIN) -> str:
    files = len(reports)
    invalid = sum(1 for r in reports if not r.valid)
    errors = sum(r.count("error") for r in reports)
    warnings = sum(r.count("warning") for r in reports)
    noun = "file" if files == 1 else "files"
    out = f"checked {files} {noun}: "
    if invalid:
        out += paint(f"{invalid} invalid", "bold red") + f", {files - invalid} valid"
    else:
        out += paint("all valid", "bold green")
    details = []
    if errors:
        details.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        details.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    if details:
        out += " (" + ", ".join(details) + ")"
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
    paint = painter(stream, color)
    batch: list[str] = []  # written in batches: one write per many short lines
    for report in reports:
        if not report.diagnostics:
            if show_valid:
                batch.append(f"{printable(report.path)}: {paint('valid', 'green')}\n")
            continue
        for diag in report.diagnostics:
            batch.append(diagnostic_text(diag, report.document, snippet=snippets, paint=paint))
        if len(batch) > 1 << 12:
            stream.write("".join(batch))
            batch = []
    if summary:
        batch.append(summary_text(reports, paint) + "\n")
    stream.write("".join(batch))
