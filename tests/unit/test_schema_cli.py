"""``ocitool validate``: exit statuses, the JSON report shape, text rendering, stdin, --kind."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ocitool.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "examples" / "full"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["validate", *args])
    out, err = capsys.readouterr()
    return status, out, err


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data)
    return path


def full_config() -> dict[str, Any]:
    return json.loads((FULL / "config.json").read_text())


def test_valid_bundle_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["--no-color", str(FULL)], capsys)
    assert status == 0
    assert f"{FULL / 'config.json'}: valid" in out
    assert "checked 1 file: all valid" in out


def test_invalid_config_exits_1_with_a_located_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = full_config()
    config["process"]["terminal"] = "yes"
    bad = write(tmp_path / "bad.json", config)
    status, out, _ = run(["--format", "json", str(bad), str(FULL)], capsys)
    assert status == 1
    report = json.loads(out)
    assert [f["path"] for f in report["files"]] == [str(bad), str(FULL / "config.json")]
    first, second = report["files"]
    assert first["valid"] is False and second == {
        "path": str(FULL / "config.json"),
        "valid": True,
        "diagnostics": [],
    }
    (diag,) = first["diagnostics"]
    assert set(diag) == {"code", "severity", "pointer", "line", "column", "message", "hint"}
    assert (diag["code"], diag["pointer"], diag["line"], diag["column"]) == (
        "OCI201",
        "/process/terminal",
        4,
        17,
    )


def test_text_report_shows_source_line_caret_and_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = full_config()
    config["linux"]["namespaces"][0]["type"] = "pidd"
    bad = write(tmp_path / "config.json", config)
    status, out, _ = run(["--no-color", str(tmp_path)], capsys)
    assert status == 1
    assert f"{bad}:" in out and "error OCI202 at /linux/namespaces/0/type" in out
    assert '"type": "pidd"' in out
    caret_line = next(line for line in out.splitlines() if line.rstrip().endswith("^"))
    source_line = next(line for line in out.splitlines() if '"pidd"' in line and "|" in line)
    assert caret_line.index("^") == source_line.index('"pidd"')
    assert 'hint: did you mean "pid"?' in out
    assert "1 invalid, 0 valid (1 error)" in out


def test_warnings_alone_keep_the_file_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = full_config()
    config["process"]["termnal"] = True
    bad = write(tmp_path / "w.json", config)
    status, out, _ = run(["--format", "json", str(bad)], capsys)
    assert status == 0
    (entry,) = json.loads(out)["files"]
    assert entry["valid"] is True
    assert [d["severity"] for d in entry["diagnostics"]] == ["warning"]


def test_malformed_and_duplicate_json_are_per_file_diagnostics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(tmp_path / "broken.json", '{"ociVersion": "1.0.0",\n  "root": }')
    dup = write(tmp_path / "dup.json", '{"ociVersion": "1.0.0", "ociVersion": "1.1.0"}')
    status, out, _ = run(["--format", "json", str(broken), str(dup)], capsys)
    assert status == 1
    files = json.loads(out)["files"]
    assert [(d["code"], d["line"], d["column"]) for d in files[0]["diagnostics"]] == [
        ("OCI101", 2, 11)
    ]
    assert [(d["code"], d["pointer"]) for d in files[1]["diagnostics"]] == [
        ("OCI103", "/ociVersion")
    ]


def test_missing_file_is_an_io_error_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(["--format", "json", str(tmp_path / "nope.json"), str(FULL)], capsys)
    assert status == 2
    files = json.loads(out)["files"]
    assert files[0]["diagnostics"][0]["code"] == "OCI001"
    assert files[1]["valid"] is True


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([], capsys)[0] == 2
    assert run(["--format", "xml", str(FULL)], capsys)[0] == 2
    assert run(["-", "-"], capsys)[0] == 2
    assert run(["--kind", "image", str(FULL)], capsys)[0] == 2


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    text = (FULL / "config.json").read_text().replace('"1.3.0"', '"9.0.0"')
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    status, out, _ = run(["--format", "json", "-"], capsys)
    assert status == 1
    (entry,) = json.loads(out)["files"]
    assert entry["path"] == "<stdin>"
    (diag,) = entry["diagnostics"]
    assert diag["code"] == "OCI210"
    assert diag["message"] == (
        "ociVersion 9.0.0 has major version 9; ocitool understands runtime-spec 1.x"
    )


def test_kind_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = {"ociVersion": "1.0.2", "id": "x", "status": "created", "bundle": "/b", "pid": 7}
    good = write(tmp_path / "state.json", state)
    assert run(["--kind", "state", str(good)], capsys)[0] == 0
    bad = write(tmp_path / "bad-state.json", {**state, "pid": "seven"})
    status, out, _ = run(["--kind", "state", "--format", "json", str(bad)], capsys)
    assert status == 1
    assert json.loads(out)["files"][0]["diagnostics"][0]["pointer"] == "/pid"


def test_quiet_hides_valid_files(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["-q", "--no-color", str(FULL)], capsys)
    assert status == 0
    assert ": valid" not in out and "all valid" in out


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00\x01\x02",
        b"\xff\xfe\x00",
        b"[" * 100000,
        b'{"a": 1e999999}',
        b"{" + b'"a":' * 5000,
        b'{"ociVersion": "1.0.0", "root": {"path": "r"}, "x": ' + b"[" * 700 + b"]" * 700 + b"}",
    ],
    ids=["binary", "utf16-bom", "deep-nesting", "huge-number", "unclosed", "deep-but-valid"],
)
def test_no_traceback_for_garbage(payload: bytes, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(payload)
    proc = subprocess.run(
        [sys.executable, "-m", "ocitool.cli.main", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "internal error" not in proc.stderr
