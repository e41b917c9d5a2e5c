"""GitHub Actions workflow commands: ``::warning file=...,line=...::message`` annotations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from ocitool.lint.report.paths import display_path
from ocitool.lint.result import FileResult

_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    d_path: str, line: int | None, col: int | None, code: str, severity: str, message: str
) -> str:
    props = [f"file={_escape_property(d_path)}"]
    if line is not None:
        props.append(f"line={line}")
        if col is not None:
            props.append(f"col={col}")
    props.append(f"title={_escape_property(code)}")
    return f"::{_COMMAND.get(severity, 'error')} {','.join(props)}::{_escape_data(message)}"


def render(results: Sequence[FileResult], out: TextIO) -> None:
    for result in results:
        for d in result.findings:
            message = f"{d.code} {d.message}" + (f" (fix: {d.hint})" if d.hint else "")
            if d.pointer:
                message += f" [{d.pointer}]"
            path = display_path(d.path or result.path)
            out.write(annotation(path, d.line, d.column, d.code, d.severity, message) + "\n")
