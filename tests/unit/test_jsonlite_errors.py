"""A malformed document is a ValueError from ocitool.jsonlite even in a process that has
not imported ``json`` (where ``_json`` alone cannot build its error: SystemError)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROGRAM = """
import sys
from ocitool.jsonlite import loads
assert "json.decoder" not in sys.modules
for text in ('{bad', '{"a": }', '[1,', '{"a": NaN}', '"\\\\x"'):
    try:
        loads(text)
    except ValueError:
        continue
    raise SystemExit(f"no ValueError for {text!r}")
print("ok")
"""


def test_malformed_json_is_a_value_error_without_the_json_package() -> None:
    out = subprocess.run(
        [sys.executable, "-S", "-c", PROGRAM],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    assert out.stdout.strip() == "ok", out.stderr
