"""``ocitool plan``: formats, --host, --explain, and the refusal paths (exit 1/2, no plan)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocitool.cli.main import main
from ocitool.spec.load import load
from ocitool.spec.schema import validate_config

REPO = Path(__file__).resolve().parents[2]
BUSYBOX = str(REPO / "examples" / "busybox")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_strace_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, BUSYBOX, "--format", "strace", "--host", "cgroup=v2")
    assert code == 0
    lines = out.splitlines()
    assert '[init]    sethostname("runc")' in lines
    assert lines[-1].startswith("[runtime] ")
    assert any(line.startswith("[init]    execve(") for line in lines)
    assert any('mount("proc", "' in line for line in lines)


def test_json_format_and_host(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, BUSYBOX, "--format", "json", "--host", "cgroup=v1,arch=aarch64", "--id", "web"
    )
    assert code == 0
    data = json.loads(out)
    assert data["host"]["cgroup"] == "v1" and data["host"]["arch"] == "aarch64"
    ops = data["ops"]
    assert all({"op", "phase", "source", "text"} <= op.keys() for op in ops)
    assert any(op["op"] == "cgroup_write" and "/web/" in op["path"] for op in ops)
    caps = next(op for op in ops if op["op"] == "capabilities")
    assert caps["bounding"] == (1 << 29) | (1 << 5) | (1 << 10)
    assert data["diagnostics"][0]["line"] is not None  # located warnings (ambient)
    assert err == ""


def test_tree_format_groups_by_phase(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, BUSYBOX, "--host", "cgroup=hybrid", "--no-color")
    assert code == 0
    for label in ("create", "create.init", "create.pivot", "start", "exec", "delete"):
        assert label in out
    assert "pivot_root" in out and "OCI377" in err  # the ambient warning goes to stderr


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, BUSYBOX, "--format", "strace", "--explain", "--host", "cgroup=v2")
    assert any(line.endswith("<- /hostname") and "sethostname" in line for line in out.splitlines())
    _, out, _ = run(capsys, BUSYBOX, "--format", "json", "--explain", "--host", "cgroup=v2")
    op = next(o for o in json.loads(out)["ops"] if o["op"] == "sethostname")
    assert op["config"]["text"] == '"hostname": "runc"' and op["config"]["line"] == 52
    _, out, _ = run(capsys, BUSYBOX, "--explain", "--host", "cgroup=v2", "--no-color")
    assert '/hostname line 52: "hostname": "runc"' in out


def test_invalid_config_same_diagnostics_as_validate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = json.loads((REPO / "examples/busybox/config.json").read_text())
    data["process"]["user"]["uid"] = "root"
    data["linux"]["namespaces"][0]["type"] = "pids"
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(data, indent=2))
    code, out, err = run(capsys, str(tmp_path), "--host", "cgroup=v2")
    assert code == 1 and out == ""
    expected = [d for d in validate_config(load(str(cfg))) if d.severity == "error"]
    assert len(expected) >= 2
    for diag in expected:
        assert f"{diag.code} at {diag.pointer}" in err
        assert f":{diag.line}:{diag.column}" in err
    code, out, _ = run(capsys, str(cfg), "--format", "json", "--host", "cgroup=v2")
    report = json.loads(out)["files"][0]
    assert code == 1 and report["valid"] is False
    assert [(d["code"], d["pointer"]) for d in report["diagnostics"]] == [
        (d.code, d.pointer) for d in expected
    ]


def test_lowering_error_is_located(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = json.loads((REPO / "examples/busybox/config.json").read_text())
    data["linux"]["sysctl"] = {"vm.swappiness": "10"}
    (tmp_path / "config.json").write_text(json.dumps(data, indent=2))
    code, out, err = run(capsys, str(tmp_path), "--format", "strace", "--host", "cgroup=v2")
    assert code == 1 and out == ""
    assert "OCI331 at /linux/sysctl/vm.swappiness" in err and "config.json:" in err


def test_malformed_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"ociVersion": "1.0.0",}')
    code, out, err = run(capsys, str(tmp_path), "--host", "cgroup=v2")
    assert code == 1 and out == "" and "OCI101" in err


@pytest.mark.parametrize(
    "args",
    [["/nonexistent/bundle"], [BUSYBOX, "--host", "cgroup=v9"], [BUSYBOX, "--format", "xml"]],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and "Traceback" not in err


def test_plan_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    text = (REPO / "examples/busybox/config.json").read_text()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, out, _ = run(capsys, "-", "--format", "strace", "--host", "cgroup=v2", "--id", "x")
    assert code == 0 and "/ocitool/x" in out


def test_tree_shows_device_program_listing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, BUSYBOX, "--host", "cgroup=v2", "--no-color")
    assert code == 0
    lines = out.splitlines()
    bpf = next(i for i, line in enumerate(lines) if "BPF_PROG_TYPE_CGROUP_DEVICE" in line)
    listing = [line for line in lines[bpf + 1 : bpf + 200] if ": exit" in line]
    assert listing, "the eBPF program listing is not under its op"
    code, out, _ = run(capsys, BUSYBOX, "--host", "cgroup=v1", "--no-color")
    assert "devices.deny" in out and "BPF_PROG_TYPE_CGROUP_DEVICE" not in out
