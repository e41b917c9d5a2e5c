"""The lint engine: validation first, suppression, selection, severities, discovery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocitool.errors import Diagnostic, UsageError
from ocitool.lint.engine import (
    SUPPRESS_ANNOTATION,
    LintOptions,
    discover,
    fails,
    lint_document,
    lint_file,
)
from ocitool.lint.registry import Hit, Rule
from ocitool.lint.selection import Selection
from ocitool.spec.load import load, parse_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HARDENED = FIXTURES / "hardened.json"
RUNC_DEFAULT = FIXTURES / "lint-runc-default.json"


def _doc(cfg: dict) -> object:
    return parse_text(json.dumps(cfg, indent=2), "config.json")


def test_hardened_config_has_no_warning_at_all() -> None:
    findings = lint_document(load(str(HARDENED)))
    assert [d for d in findings if d.severity != "info"] == []
    assert {d.code for d in findings} == {"OCS253"}  # no MAC profile: info only


def test_runc_spec_default_gets_the_expected_findings() -> None:
    findings = lint_document(load(str(RUNC_DEFAULT)))
    by_severity = {
        s: sorted({d.code for d in findings if d.severity == s})
        for s in ("error", "warning", "info")
    }
    assert by_severity == {
        "error": [],
        "warning": ["OCR112", "OCS210", "OCS254"],
        "info": ["OCS224", "OCS225", "OCS253", "OCS255"],
    }
    # ambient caps without inheritable: one finding per cap, each on its own line
    ambient = [d for d in findings if d.code == "OCR112"]
    assert [d.pointer for d in ambient] == [f"/process/capabilities/ambient/{i}" for i in range(3)]
    assert len({d.line for d in ambient}) == 3


def test_schema_errors_are_reported_and_rules_skipped() -> None:
    cfg = json.loads(RUNC_DEFAULT.read_text())
    cfg["process"]["cwd"] = 5
    findings = lint_document(_doc(cfg))  # type: ignore[arg-type]
    assert findings and all(d.code.startswith("OCI2") for d in findings)
    assert any(d.pointer == "/process/cwd" and d.line for d in findings)


def test_non_object_document_is_an_error_not_a_crash() -> None:
    findings = lint_document(parse_text("[1, 2]", "x.json"), LintOptions(validate=False))
    assert [d.code for d in findings] == ["OCI201"]


def test_load_errors_become_findings(tmp_path: Path) -> None:
    bad = tmp_path / "config.json"
    bad.write_text('{"ociVersion": "1.2.0",,}')
    result = lint_file(str(bad))
    assert [d.code for d in result.findings] == ["OCI101"]
    assert result.findings[0].line == 1 and result.findings[0].path == str(bad)


def test_suppression_annotation_by_code_and_prefix() -> None:
    cfg = json.loads(RUNC_DEFAULT.read_text())
    cfg["annotations"] = {SUPPRESS_ANNOTATION: "OCS210, OCR1"}
    codes = {d.code for d in lint_document(_doc(cfg))}  # type: ignore[arg-type]
    assert "OCS210" not in codes and "OCR112" not in codes
    assert "OCS254" in codes


def test_selection_by_family_prefix_and_name() -> None:
    doc = load(str(RUNC_DEFAULT))

    def codes(select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> set[str]:
        selection = Selection(select=select, ignore=ignore)
        return {d.code for d in lint_document(doc, LintOptions(selection=selection))}

    assert codes(select=("correctness",)) == {"OCR112"}
    assert codes(select=("OCS2",), ignore=("no-pids-limit", "OCS22")) == {
        "OCS210",
        "OCS253",
        "OCS255",
    }
    assert codes(ignore=("security",)) == {"OCR112"}
    assert codes(select=("seccomp-missing",)) == {"OCS210"}


def test_severity_override() -> None:
    doc = load(str(RUNC_DEFAULT))
    findings = lint_document(doc, LintOptions(severity={"OCS210": "error", "OCR112": "info"}))
    sev = {d.code: d.severity for d in findings}
    assert sev["OCS210"] == "error" and sev["OCR112"] == "info"


def test_a_crashing_rule_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCITOOL_DEBUG", raising=False)

    def boom(ctx: object) -> list[Hit]:
        raise TypeError("unexpected shape")

    broken = Rule("OCR199", "broken", "warning", boom, "s", "r", "f")
    options = LintOptions()
    options._rules = [broken]
    findings = lint_document(load(str(HARDENED)), options)
    assert [(d.code, d.severity) for d in findings] == [("OCR199", "error")]
    assert "internal error" in findings[0].message


def test_fails_threshold() -> None:
    info = Diagnostic("OCS224", "m", severity="info")
    warning = Diagnostic("OCS210", "m", severity="warning")
    error = Diagnostic("OCS231", "m", severity="error")
    assert not fails([info], "warning")
    assert fails([info, warning], "warning")
    assert not fails([info, warning], "error")
    assert fails([error], "error")


def test_discover_bundles_files_and_trees(tmp_path: Path) -> None:
    for name in ("a", "b/c", ".hidden/d", "e/rootfs/etc"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "a" / "config.json").write_text("{}")
    (tmp_path / "b" / "c" / "config.json").write_text("{}")
    (tmp_path / ".hidden" / "d" / "config.json").write_text("{}")
    (tmp_path / "e" / "config.json").write_text("{}")
    (tmp_path / "e" / "rootfs" / "etc" / "config.json").write_text("{}")  # inside a bundle: skipped
    (tmp_path / "other.json").write_text("{}")
    found = discover([str(tmp_path)])
    rel = sorted(str(Path(p).relative_to(tmp_path)) for p in found)
    assert rel == ["a/config.json", "b/c/config.json", "e/config.json"]
    assert discover([str(tmp_path / "a")]) == [str(tmp_path / "a" / "config.json")]
    assert discover([str(tmp_path / "other.json"), str(tmp_path / "other.json")]) == [
        str(tmp_path / "other.json")
    ]
    assert discover([str(tmp_path)], exclude=lambda p: "/b/" in p) == [
        str(tmp_path / "a" / "config.json"),
        str(tmp_path / "e" / "config.json"),
    ]
    with pytest.raises(UsageError):
        discover([str(tmp_path / "missing")])
