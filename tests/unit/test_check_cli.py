"""``ocitool check`` and its neighbours: exit statuses, reports (SARIF valid, OCH rule
descriptors), lint --host-specific, validate's OCI214 warnings, and the failure explanation."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ocitool.check.explain import annotate, causes
from ocitool.cli.main import main
from ocitool.errors import ExecError
from ocitool.lint.report import renderer
from ocitool.lint.result import FileResult
from ocitool.plan.cache import op_from_json
from ocitool.spec.load import load, parse_text
from ocitool.spec.schema import validate_config

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json"
CONFIG: dict[str, Any] = {
    "ociVersion": "1.2.0",
    "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sh"], "env": ["PATH=/bin"]},
    "root": {"path": "rootfs"},
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]},
}


@pytest.fixture
def bundle(open_tmp: Path) -> Path:
    b = open_tmp / "b"
    (b / "rootfs" / "bin").mkdir(parents=True)
    (b / "rootfs" / "bin" / "sh").write_bytes(b"static\n")
    (b / "rootfs" / "bin" / "sh").chmod(0o755)
    (b / "config.json").write_text(json.dumps(CONFIG, indent=2))
    return b


def broken(b: Path) -> Path:
    """The same bundle with args[0] missing from the rootfs."""
    cfg = json.loads((b / "config.json").read_text())
    cfg["process"]["args"] = ["nope"]
    (b / "config.json").write_text(json.dumps(cfg, indent=2))
    return b


def test_exit_statuses(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(bundle)]) == 0
    assert main(["check", str(broken(bundle))]) == 1
    assert main(["check"]) == 2
    assert main(["check", str(bundle / "missing")]) == 2
    assert main(["check", "--explain", "nope"]) == 2
    out = capsys.readouterr().out
    assert "OCH201 executable-not-found" in out and "nope is not in the rootfs" in out


def test_list_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--list-checks"]) == 0
    assert "OCH101  error    rootfs-unreachable" in capsys.readouterr().out
    assert main(["check", "--explain", "rootfs-unreachable"]) == 0
    assert "mktemp -d" in capsys.readouterr().out


def test_reports_name_the_check(bundle: Path) -> None:
    doc = load(str(broken(bundle)))
    from ocitool.check.engine import check_document

    results = [FileResult(doc.path, check_document(doc), doc)]
    out = io.StringIO()
    renderer("json")(results, out)
    finding = json.loads(out.getvalue())["findings"][0]
    assert (finding["code"], finding["name"], finding["family"]) == (
        "OCH201", "executable-not-found", "process",
    )  # fmt: skip
    out = io.StringIO()
    renderer("sarif")(results, out)
    log = json.loads(out.getvalue())
    schema = json.loads(SARIF_SCHEMA.read_text())
    assert sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str) == []
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["OCH201"]["helpUri"].endswith("docs/check.md#och201")
    assert log["runs"][0]["results"][0]["ruleId"] == "OCH201"


def test_lint_host_specific_includes_the_checks(
    bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken(bundle)
    main(["lint", "--format", "json", str(bundle)])
    assert "OCH201" not in capsys.readouterr().out  # not without --host-specific
    main(["lint", "--host-specific", "--format", "json", str(bundle)])
    assert "OCH201" in capsys.readouterr().out
    main(["lint", "--host-specific", "--ignore", "OCH2", "--format", "json", str(bundle)])
    assert "OCH201" not in capsys.readouterr().out
    assert main(["lint", "--host-specific", "--select", "OCH201", str(bundle)]) == 1


def _validate(linux: dict[str, Any]) -> list[tuple[str, str, str]]:
    cfg = {**CONFIG, "linux": {**CONFIG["linux"], **linux}}
    doc = parse_text(json.dumps(cfg, indent=1), "config.json")
    return [(d.code, d.pointer, d.severity) for d in validate_config(doc)]


def test_validate_warns_where_the_official_schema_is_stricter() -> None:
    assert _validate({"rootfsPropagation": "rprivate"}) == [
        ("OCI214", "/linux/rootfsPropagation", "warning")
    ]
    assert _validate({"rootfsPropagation": "private"}) == []
    dev = {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}
    assert _validate({"devices": [{**dev, "fileMode": 666}]}) == [
        ("OCI214", "/linux/devices/0/fileMode", "warning")
    ]
    assert _validate({"devices": [{**dev, "fileMode": 438}]}) == []
    assert _validate({"resources": {"pids": {}}}) == []  # runtime-spec 1.3: limit optional


def test_octal_in_decimal_hint() -> None:
    cfg = {**CONFIG, "linux": {**CONFIG["linux"], "devices": [
        {"path": "/dev/x", "type": "c", "major": 1, "minor": 3, "fileMode": 666}]}}  # fmt: skip
    diag = validate_config(parse_text(json.dumps(cfg), "config.json"))[0]
    assert "write 438" in (diag.hint or "") and "0o1232" in diag.message


def _failed(index: int, ops: list[Any]) -> ExecError:
    from ocitool.exec.syscalls import op_error

    return op_error(index, ops[index], "ENOENT (No such file or directory)", 2)


def test_a_failed_op_gets_its_cause(bundle: Path) -> None:
    from ocitool.check.engine import context_for

    broken(bundle)
    ops = list(context_for(load(str(bundle)), container_id="web").ops)
    k = next(i for i, op in enumerate(ops) if op.name == "execve")
    err = _failed(k, ops)
    annotate(err, ops, str(bundle), "web")
    assert (
        "; cause: OCH201 nope is not in the rootfs on the container's PATH [/process/args/0, "
        "config.json:" in err.message
    )
    assert err.pointer == "/process/args/0" and err.line is not None
    assert err.hint and "args[0]" in err.hint


def test_ops_from_the_plan_cache_are_explained_too(bundle: Path) -> None:
    """Ops rebuilt from the plan cache's stored JSON lead to the same cause."""
    from ocitool.check.engine import context_for

    broken(bundle)
    typed = context_for(load(str(bundle)), container_id="web").ops
    rebuilt = [op_from_json(op.to_json()) for op in typed]
    k = next(i for i, op in enumerate(typed) if op.name == "execve")
    found = causes(k, rebuilt, str(bundle), "web")
    assert [d.code for d in found] == ["OCH201"]


def test_an_explanation_never_hides_the_failure(bundle: Path) -> None:
    ops: list[Any] = []
    err = ExecError(message="op #3 mount failed", code="OCI502")
    os.remove(bundle / "config.json")  # nothing to explain from
    annotate(err, ops, str(bundle), "web")
    assert err.message == "op #3 mount failed"
    usage = ExecError(message="not an op failure", code="OCI601")
    annotate(usage, ops, str(bundle), "web")
    assert usage.message == "not an op failure"
