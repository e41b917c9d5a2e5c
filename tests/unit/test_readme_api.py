"""The README's Python API example runs as written (so it cannot drift from the code).

The snippet is taken from README.md itself and executed from the repository
root; a line ending in a quoted comment (``expr   # "value"``) also states
what ``expr`` evaluates to, and that is checked too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _snippet() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README.md has no python block under '## Python API'"
    return match.group(1)


def test_readme_python_api_example_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    code = _snippet()
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "exec" in out and "execve(" in out  # the plan loop printed the ops
    claims = 0
    for line in code.splitlines():
        expr, sep, comment = line.partition("   # ")
        comment = comment.strip()
        if not sep or not (comment.startswith('"') and comment.endswith('"')):
            continue
        expected = ast.literal_eval(comment)
        assert eval(expr.strip(), namespace) == expected, line
        claims += 1
    assert claims >= 1
