"""Styled report text without rich: when colour is on, what it looks like, what cannot leak."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from ocitool.errors import Diagnostic
from ocitool.lint.report.text import render
from ocitool.lint.result import FileResult
from ocitool.render.ansi import painter, printable
from ocitool.spec.load import parse_text


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _no_colour_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)


def test_a_pipe_gets_plain_text_and_a_terminal_gets_colour() -> None:
    assert painter(io.StringIO())("x", "bold red") == "x"
    assert painter(_Tty())("x", "bold red") == "\x1b[1;31mx\x1b[0m"


def test_explicit_choice_wins_over_the_stream() -> None:
    assert painter(_Tty(), color=False)("x", "bold") == "x"
    assert painter(io.StringIO(), color=True)("x", "green") == "\x1b[32mx\x1b[0m"


def test_no_color_keeps_bold_and_drops_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    paint = painter(_Tty())
    assert paint("x", "bold red") == "\x1b[1mx\x1b[0m"
    assert paint("x", "yellow") == "x"


def test_empty_no_color_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    assert painter(_Tty())("x", "red") == "\x1b[31mx\x1b[0m"


def test_force_color_on_a_pipe_and_dumb_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert painter(io.StringIO())("x", "cyan") == "\x1b[36mx\x1b[0m"
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert painter(_Tty())("x", "bold") == "x"


def test_control_characters_are_escaped_but_tabs_and_newlines_kept() -> None:
    assert printable("a\x1b[2Jb\tc\nd\x7f\x9b") == "a\\x1b[2Jb\tc\nd\\x7f\\x9b"


def _report(message: str, color: bool) -> str:
    doc = parse_text('{\n\t"a": 1\n}', "c.json")
    d = Diagnostic("OCH201", message, "/a", path="c.json", line=2, column=7, hint="fix it")
    out = io.StringIO()
    render([FileResult("c.json", [d], doc)], out, color=color)
    return out.getvalue()


def test_check_report_caret_under_the_column_with_tabs() -> None:
    text = _report("m", color=False)
    lines = text.splitlines()
    source = next(line for line in lines if '"a"' in line)
    caret = next(line for line in lines if line.rstrip().endswith("^"))
    assert source.index("1") == caret.index("^")
    assert "\t" not in text
    assert lines[-1] == "1 file checked, 1 with findings: 1 error(s), 0 warning(s), 0 info"


def test_check_report_colour_and_no_escape_from_a_message() -> None:
    coloured = _report("bad \x1b]0;title\x07 value", color=True)
    assert "\x1b[1;31merror\x1b[0m" in coloured and "\x1b[32mfix:\x1b[0m" in coloured
    assert "\x1b]" not in coloured and "\x07" not in coloured
    assert "\x1b[" not in _report("m", color=False)


def test_text_reports_import_no_rich(tmp_path: Path) -> None:
    """check's, lint's and validate's text reports are written without importing rich, and
    check builds its argument parser without importing shutil (cli/common.HelpFormatter).
    Run with -S, as the launcher runs: site's own hooks import shutil."""
    import cffi

    config = tmp_path / "config.json"
    config.write_text('{"ociVersion": "1.0.2", "hostname": 5}')
    program = (
        "import sys, io\n"
        "from ocitool.cli.main import main\n"
        "sys.stdout = io.StringIO()\n"
        "main(['check', sys.argv[1]])\n"
        "no_shutil = 'shutil' not in sys.modules\n"
        "for cmd in ('validate', 'lint'):\n"
        "    main([cmd, sys.argv[1]])\n"
        "sys.stdout = sys.__stdout__\n"
        "print('rich' in sys.modules, no_shutil)\n"
    )
    repo = Path(__file__).resolve().parents[2]
    site = Path(cffi.__file__).resolve().parents[1]  # rich is importable from here
    out = subprocess.run(
        [sys.executable, "-S", "-c", program, str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{repo}:{site}"},
    )
    assert out.stdout.strip().splitlines()[-1] == "False True", out.stderr
