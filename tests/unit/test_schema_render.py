"""Rendering of diagnostics (shared by validate and lint): snippets, carets, colour, JSON."""

from __future__ import annotations

import io
import json

from ocitool.errors import Diagnostic
from ocitool.render.diagnostics import (
    FileReport,
    diagnostic_text,
    render_json,
    render_text,
    reports_to_json,
)
from ocitool.spec.load import parse_text


def caret_column(rendered: str, marker: str) -> tuple[int, int]:
    lines = rendered.splitlines()
    source = next(line for line in lines if marker in line and "|" in line)
    caret = next(line for line in lines if line.rstrip().endswith("^"))
    return source.index(marker), caret.index("^")


def test_caret_sits_under_the_column() -> None:
    doc = parse_text('{\n  "a": {"b": "BAD"}\n}', "x.json")
    diag = Diagnostic(code="OCI202", message="m", pointer="/a/b", path="x.json", line=2, column=14)
    text = diagnostic_text(diag, doc)
    assert text.startswith("x.json:2:14: error OCI202 at /a/b\n  m\n")
    at, caret = caret_column(text, '"BAD"')
    assert at == caret


def test_long_lines_are_clipped_around_the_column() -> None:
    line = '{"k": "' + "x" * 500 + '", "v": "HERE"}'
    doc = parse_text(line)
    column = line.index('"HERE"') + 1
    diag = Diagnostic(code="OCI204", message="m", pointer="/v", line=1, column=column)
    text = diagnostic_text(diag, doc)
    source = next(row for row in text.splitlines() if '"HERE"' in row)
    assert len(source) < 140 and "..." in source
    at, caret = caret_column(text, '"HERE"')
    assert at == caret


def test_expected_and_hint_lines() -> None:
    diag = Diagnostic(code="OCI206", message="too big", expected="0..7", hint="use 4", line=None)
    text = diagnostic_text(diag)
    assert "  expected: 0..7\n" in text and "  hint: use 4\n" in text


def test_no_color_has_no_escape_codes_and_color_has_them() -> None:
    doc = parse_text('{"a": 1}', "c.json")
    report = FileReport("c.json", [Diagnostic("OCI201", "bad", "/a", line=1, column=7)], doc)
    plain, colored = io.StringIO(), io.StringIO()
    render_text([report], plain, color=False)
    render_text([report], colored, color=True)
    assert "\x1b[" not in plain.getvalue()
    assert "\x1b[" in colored.getvalue()
    assert "checked 1 file: 1 invalid, 0 valid (1 error)" in plain.getvalue()


def test_json_report_shape_and_validity() -> None:
    warn = Diagnostic("OCI205", "unknown", "/x", severity="warning", line=1, column=2)
    reports = [FileReport("a.json", [warn]), FileReport("b.json", [])]
    out = io.StringIO()
    render_json(reports, out)
    assert json.loads(out.getvalue()) == reports_to_json(reports)
    files = reports_to_json(reports)["files"]
    assert files[0]["valid"] is True and files[0]["diagnostics"][0]["severity"] == "warning"
    assert files[1] == {"path": "b.json", "valid": True, "diagnostics": []}
