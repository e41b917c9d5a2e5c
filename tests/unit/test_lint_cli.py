"""``ocitool lint``: exit statuses, options, pyproject settings, host facts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ocitool.cli.main import main
from ocitool.lint.config import discover_settings, find_pyproject
from ocitool.lint.host import detect
from ocitool.lint.registry import all_rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cwd with bundles/runc (warnings) and bundles/hardened (info only); no pyproject above."""
    monkeypatch.chdir(tmp_path)
    for name, src in (("runc", "lint-runc-default.json"), ("hardened", "hardened.json")):
        (tmp_path / "bundles" / name).mkdir(parents=True)
        shutil.copy(FIXTURES / src, tmp_path / "bundles" / name / "config.json")
    return tmp_path


def lint(*args: str) -> int:
    return main(["lint", "--no-progress", *args])


def test_exit_statuses(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lint("bundles/hardened") == 0  # info findings never fail
    assert lint("bundles/runc") == 1
    assert lint("--fail-on", "error", "bundles/runc") == 0
    assert lint("--ignore", "OCS210,OCS254", "--ignore", "OCR112", "bundles/runc") == 0
    assert lint("bundles") == 1
    assert lint("bundles/missing") == 2
    assert lint() == 2
    assert lint("--select", "OCS999", "bundles") == 2
    assert lint("--fail-on", "info", "bundles") == 2
    err = capsys.readouterr().err
    assert "'OCS999' matches no lint rule" in err and "no PATH given" in err


def test_sarif_to_file(tree: Path) -> None:
    assert lint("--format", "sarif", "-o", "out.sarif", "bundles") == 1
    log = json.loads((tree / "out.sarif").read_text())
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"bundles/runc/config.json", "bundles/hardened/config.json"}


def test_explain_and_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--explain", "ocs210"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OCS210 seccomp-missing [security, default severity warning]")
    assert "Fix: add linux.seccomp" in out
    assert main(["lint", "--explain", "runtime-socket-mount"]) == 0
    assert "OCS231" in capsys.readouterr().out
    assert main(["lint", "--explain", "OCS999"]) == 2
    assert main(["lint", "--list-rules"]) == 0
    listed = [ln.split()[0] for ln in capsys.readouterr().out.splitlines()]
    assert listed == [r.code for r in all_rules()]


def test_pyproject_settings(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.ocitool.lint]\n"
        'ignore = ["OCR112"]\nfail-on = "error"\nformat = "json"\n'
        'exclude = ["bundles/hardened/*"]\n\n[tool.ocitool.lint.severity]\nOCS254 = "error"\n'
    )
    sub = tree / "bundles"
    os.chdir(sub)  # settings are found upward from the cwd
    assert lint(".") == 1  # OCS254 raised to error; fail-on error
    data = json.loads(capsys.readouterr().out)
    assert data["files"] == 1  # hardened excluded
    codes = {f["code"]: f["severity"] for f in data["findings"]}
    assert "OCR112" not in codes and codes["OCS254"] == "error" and codes["OCS210"] == "warning"
    assert lint("--ignore", "OCS254", ".") == 0  # flags add to the ignore list
    capsys.readouterr()
    assert lint("--no-config", "--format", "text", ".") == 1
    assert "OCR112" in capsys.readouterr().out


def test_pyproject_errors_are_usage_errors(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "pyproject.toml").write_text('[tool.ocitool.lint]\nfail-on = "sometimes"\n')
    assert lint("bundles") == 2
    (tree / "pyproject.toml").write_text('[tool.ocitool.lint]\nselekt = ["OCS"]\n')
    assert lint("bundles") == 2
    (tree / "pyproject.toml").write_text('[tool.ocitool.lint]\nselect = ["OCS"\n')
    assert lint("bundles") == 2
    (tree / "pyproject.toml").write_text("[tool.ocitool.lint.severity]\nOCS000 = 'error'\n")
    assert lint("bundles") == 2
    err = capsys.readouterr().err
    assert "sometimes" in err and "selekt" in err and "invalid TOML" in err and "OCS000" in err
    (tree / "pyproject.toml").write_bytes(b"\xff\xfe[tool]")
    assert lint("bundles") == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_pyproject_whose_tool_is_not_a_table_is_not_ours(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("tool = 5\n")
    assert find_pyproject(str(tmp_path)) is None
    (tmp_path / "pyproject.toml").write_text('[tool]\nocitool = "x"\n')
    assert find_pyproject(str(tmp_path)) is None


def test_nearest_pyproject_with_the_section_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.ocitool.lint]\nselect = ["security"]\n')
    inner = tmp_path / "pkg" / "deep"
    inner.mkdir(parents=True)
    (tmp_path / "pkg" / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert find_pyproject(str(inner)) == str(tmp_path / "pyproject.toml")
    assert discover_settings(str(inner)).select == ("security",)


def test_host_facts_from_a_fake_tree(tmp_path: Path) -> None:
    (tmp_path / "sys/fs/cgroup").mkdir(parents=True)
    (tmp_path / "sys/fs/cgroup/cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (tmp_path / "sys/module/apparmor/parameters").mkdir(parents=True)
    (tmp_path / "sys/module/apparmor/parameters/enabled").write_text("N\n")
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/mounts").write_text("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n")
    (tmp_path / "proc/sys/user").mkdir(parents=True)
    (tmp_path / "proc/sys/user/max_user_namespaces").write_text("0\n")
    facts = detect(str(tmp_path))
    assert facts.cgroup_mode == "v2" and facts.controllers == frozenset(
        {"cpuset", "cpu", "io", "memory", "pids"}
    )
    assert facts.apparmor is False and facts.selinux is False and facts.resctrl is False
    assert facts.max_user_namespaces == 0


def test_host_specific_flag_runs_host_rules(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = json.loads((FIXTURES / "hardened.json").read_text())
    cfg["linux"]["resources"]["memory"]["kernelTCP"] = 1 << 20
    (tree / "bundles" / "hardened" / "config.json").write_text(json.dumps(cfg))
    lint("--format", "json", "bundles/hardened")
    plain = {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "OCP303" in plain and "OCP352" not in plain
    lint("--format", "json", "--host-specific", "bundles/hardened")
    host = {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
    if detect().cgroup_mode == "v2":
        assert "OCP352" in host
    else:
        assert "OCP352" not in host


def test_real_entry_point_and_stdin(tree: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "ocitool.cli.main", "lint", "--format", "github", "-"],
        input=(FIXTURES / "lint-runc-default.json").read_text(),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "::warning file=<stdin>,line=" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_progress_bar_path_gives_the_same_results(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ocitool.cli.lint import _lint_all
    from ocitool.lint.engine import LintOptions, discover

    files = discover(["bundles"])
    with_bar = _lint_all(files, LintOptions(), progress=True)
    without = _lint_all(files, LintOptions(), progress=False)
    assert [r.findings for r in with_bar] == [r.findings for r in without]
    assert capsys.readouterr().out == ""  # the bar goes to stderr, never into the report


@pytest.mark.parametrize("userns", ["yes", "no"])
def test_spec_hardened_profile_has_no_warning(
    userns: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ocitool spec --profile hardened` and lint agree on what hardened means."""
    assert main(["spec", "--profile", "hardened", "--userns", userns, "-o", "-"]) == 0
    text = capsys.readouterr().out
    from ocitool.lint.engine import lint_document
    from ocitool.spec.load import parse_text

    findings = lint_document(parse_text(text, "hardened.json"))
    assert [d.render() for d in findings if d.severity != "info"] == []
