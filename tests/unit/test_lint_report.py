"""Lint reporters: SARIF 2.1.0 (schema-valid, GitHub's fields), GitHub annotations, JSON, text."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from ocitool.lint.engine import lint_file
from ocitool.lint.registry import all_rules
from ocitool.lint.report import renderer
from ocitool.lint.report.github import annotation
from ocitool.lint.report.sarif import to_sarif
from ocitool.lint.result import FileResult

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SARIF_SCHEMA = (
    Path(__file__).resolve().parents[2] / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json"
)


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[FileResult]:
    """Three bundles under the cwd: runc's default, a schema-invalid one, a broken JSON file."""
    monkeypatch.chdir(tmp_path)
    for name in ("runc", "invalid", "broken"):
        (tmp_path / "bundles" / name).mkdir(parents=True)
    shutil.copy(FIXTURES / "lint-runc-default.json", tmp_path / "bundles" / "runc" / "config.json")
    cfg = json.loads((FIXTURES / "hardened.json").read_text())
    cfg["process"]["user"]["uid"] = "root"
    (tmp_path / "bundles" / "invalid" / "config.json").write_text(json.dumps(cfg, indent=2))
    (tmp_path / "bundles" / "broken" / "config.json").write_text('{\n  "ociVersion": \n}')
    return [lint_file(f"bundles/{n}/config.json") for n in ("runc", "invalid", "broken")]


def _render(fmt: str, results: list[FileResult]) -> str:
    out = io.StringIO()
    renderer(fmt)(results, out)
    return out.getvalue()


def test_sarif_is_valid_against_the_2_1_0_schema(results: list[FileResult]) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    log = json.loads(_render("sarif", results))
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
    assert errors == []


def test_sarif_carries_what_code_scanning_needs(results: list[FileResult]) -> None:
    log = to_sarif(results)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert {r.code for r in all_rules()} <= set(ids)
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules)
    by_rule = {res["ruleId"]: res for res in run["results"]}
    seccomp = by_rule["OCS210"]
    assert seccomp["level"] == "warning"
    assert ids[seccomp["ruleIndex"]] == "OCS210"
    loc = seccomp["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "bundles/runc/config.json"
    assert loc["physicalLocation"]["region"]["startLine"] > 1
    assert loc["physicalLocation"]["region"]["startColumn"] >= 1
    assert loc["logicalLocations"][0]["fullyQualifiedName"] == "/linux"
    assert by_rule["OCS224"]["level"] == "note"
    # schema and syntax errors are results too, with their own rule descriptors
    schema_hit = [r for r in run["results"] if r["ruleId"].startswith("OCI2")]
    assert schema_hit and schema_hit[0]["level"] == "error"
    assert (
        schema_hit[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        == "/process/user/uid"
    )
    assert any(r["ruleId"] == "OCI101" for r in run["results"])
    fingerprints = [r["partialFingerprints"]["ocitoolFinding/v1"] for r in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints)


def test_github_annotations(results: list[FileResult]) -> None:
    lines = _render("github", results).splitlines()
    seccomp = [ln for ln in lines if "title=OCS210" in ln]
    assert len(seccomp) == 1
    assert seccomp[0].startswith("::warning file=bundles/runc/config.json,line=")
    assert ",col=" in seccomp[0] and "::OCS210 no linux.seccomp" in seccomp[0]
    assert any(ln.startswith("::notice ") and "title=OCS224" in ln for ln in lines)
    assert any(ln.startswith("::error ") and "title=OCI101" in ln for ln in lines)


def test_github_escaping() -> None:
    line = annotation("dir,x/a:b.json", 3, 7, "OCS210", "error", "50% bad\nsecond line")
    assert (
        line == "::error file=dir%2Cx/a%3Ab.json,line=3,col=7,title=OCS210::50%25 bad%0Asecond line"
    )


def test_json_report(results: list[FileResult]) -> None:
    data = json.loads(_render("json", results))
    assert data["files"] == 3
    assert data["summary"]["warning"] == 5 and data["summary"]["info"] == 4
    seccomp = next(f for f in data["findings"] if f["code"] == "OCS210")
    assert seccomp["family"] == "security" and seccomp["name"] == "seccomp-missing"
    assert seccomp["path"] == "bundles/runc/config.json" and seccomp["line"] and seccomp["hint"]


def test_text_report_shows_snippet_pointer_and_fix(results: list[FileResult]) -> None:
    text = _render("text", results[:1])
    assert "bundles/runc/config.json:" in text and "warning OCS210 seccomp-missing" in text
    assert "> " in text and '"linux": {' in text
    assert "at /linux" in text and "fix: add linux.seccomp" in text
    assert "1 file checked, 1 with findings: 0 error(s), 5 warning(s), 4 info" in text


def test_text_report_clean() -> None:
    result = lint_file(str(FIXTURES / "hardened.json"))
    result.findings = []
    out = io.StringIO()
    renderer("text")([result], out)
    assert "1 file checked: no findings" in out.getvalue()


def test_text_report_clips_a_minified_config(tmp_path: Path) -> None:
    """One-line JSON must not print the whole file per finding; the caret stays on its column."""
    cfg = json.loads((FIXTURES / "hardened.json").read_text())
    cfg["annotations"] = {f"k{i}": "v" * 40 for i in range(100)}
    cfg["process"]["cwd"] = "relative/MARK"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    out = io.StringIO()
    renderer("text")([lint_file(str(path))], out)
    rows = out.getvalue().splitlines()
    assert max(len(r) for r in rows) < 200
    source = next(r for r in rows if '"relative/MARK"' in r and "|" in r)
    caret = rows[rows.index(source) + 1]
    assert caret.index("^") == source.index('"relative/MARK"')
