"""``ocitool spec`` end to end (no root): where it writes, overwrite refusal, flags, seccomp files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocitool.cli.main import main
from ocitool.cli.spec import detect_userns
from ocitool.spec.load import parse_text
from ocitool.spec.profiles import default_spec
from ocitool.spec.schema import validate_config

SHARED = Path(__file__).resolve().parents[2] / "tests" / "data"


def spec(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["spec", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def stdout_config(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = spec(capsys, "-o", "-", *argv)
    assert code == 0, err
    doc = parse_text(out, "stdout")
    assert [d for d in validate_config(doc) if d.severity == "error"] == []
    data: dict[str, Any] = doc.data
    return data


def test_writes_config_into_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = spec(capsys)
    assert (code, out, err) == (0, "", "")
    text = (tmp_path / "config.json").read_text()
    assert json.loads(text) == default_spec()
    assert text == json.dumps(default_spec(), indent="\t")  # tab-indented, as runc writes


def test_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "config.json"
    target.write_text("precious")
    code, _, err = spec(capsys, "--bundle", str(tmp_path))
    assert code == 2
    assert "OCI051" in err and "--force" in err
    assert target.read_text() == "precious"
    code, _, err = spec(capsys, "--bundle", str(tmp_path), "--force", "--hostname", "h1")
    assert code == 0, err
    assert json.loads(target.read_text())["hostname"] == "h1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no temp file left


def test_output_file_and_missing_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "other.json"
    assert spec(capsys, "-o", str(out_file))[0] == 0
    assert json.loads(out_file.read_text()) == default_spec()
    assert spec(capsys, "-o", str(out_file))[0] == 2
    code, _, err = spec(capsys, "--bundle", str(tmp_path / "missing"))
    assert code == 2 and "not a directory" in err and "mkdir -p" in err


def test_command_after_double_dash(capsys: pytest.CaptureFixture[str]) -> None:
    data = stdout_config(capsys, "--", "/bin/sh", "-c", "echo --not-a-flag")
    assert data["process"]["args"] == ["/bin/sh", "-c", "echo --not-a-flag"]
    data = stdout_config(capsys, "--args", "sleep 'ten seconds'")
    assert data["process"]["args"] == ["sleep", "ten seconds"]
    code, _, err = spec(capsys, "-o", "-", "--args", "x", "--", "y")
    assert code == 2 and "not both" in err
    code, _, err = spec(capsys, "-o", "-", "--")
    assert code == 2 and "no command" in err


def test_all_flags_together_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = stdout_config(
        capsys,
        "--profile", "rootless", "--env", "A=1", "--cwd", "/srv", "--user", "0:0",
        "--hostname", "box", "--caps", "cap_chown,cap_kill=ep cap_net_raw+i",
        "--cap-add", "setuid", "--cap-drop", "kill", "--memory", "512M", "--cpus", "1.5",
        "--pids-limit", "100", "--bind", f"{tmp_path}:/data:ro", "--bind", "rel:/rel",
        "--tmpfs", "/run:size=1m", "--net", "none", "--no-readonly", "--no-terminal",
        "--seccomp", "unconfined", "--args", "/bin/true",
    )  # fmt: skip
    process, linux = data["process"], data["linux"]
    assert process["env"][-1] == "A=1"
    assert process["capabilities"]["effective"] == ["CAP_CHOWN", "CAP_SETUID"]
    assert process["capabilities"]["inheritable"] == ["CAP_NET_RAW"]
    assert linux["resources"] == {
        "memory": {"limit": 536870912},
        "cpu": {"quota": 150000, "period": 100000},
        "pids": {"limit": 100},
    }
    binds = {m["destination"]: m["source"] for m in data["mounts"] if m["type"] == "bind"}
    assert binds["/data"] == str(tmp_path)
    assert binds["/rel"] == str(Path.cwd() / "rel")  # made absolute, like docker -v
    assert data["root"]["readonly"] is False
    assert process["terminal"] is False
    assert "network" in [ns["type"] for ns in linux["namespaces"]]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--memory", "lots"], "--memory: 'lots' is not a size"),
        (["--cpus", "0"], "--cpus"),
        (["--user", "alice"], "--user"),
        (["--caps", "cap_chown=ep cap_kill+x"], "--caps:1:23: error OCI040"),
        (["--caps", "41=ep"], "OCI044"),
        (["--caps", "cap_chown,cap_kill+e cap_kill+p"], "--caps: cap_chown would be effective"),
        (["--cap-add", "CAP_WIZARD"], "--cap-add: unknown capability"),
        (["--net", "bridge"], "invalid choice"),
        (["--profile", "paranoid"], "invalid choice"),
        (["--bind", "/x"], "--bind"),
        (["--seccomp", "/nonexistent/profile.json"], "OCI052"),
    ],
)
def test_bad_flags_exit_2_with_the_flag_named(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = spec(capsys, "-o", "-", *argv)
    assert code == 2
    assert out == ""
    assert needle in err
    assert "Traceback" not in err


def test_seccomp_from_oci_json_config_and_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    oci = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
           "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}  # fmt: skip
    (tmp_path / "oci.json").write_text(json.dumps(oci))
    assert stdout_config(capsys, "--seccomp", str(tmp_path / "oci.json"))["linux"]["seccomp"] == oci
    whole = default_spec()
    whole["linux"]["seccomp"] = oci
    (tmp_path / "config.json").write_text(json.dumps(whole))
    got = stdout_config(capsys, "--seccomp", str(tmp_path / "config.json"))
    assert got["linux"]["seccomp"] == oci
    (tmp_path / "p.policy").write_text("default errno(EPERM)\nallow read write\n")
    seccomp = stdout_config(capsys, "--seccomp", str(tmp_path / "p.policy"))["linux"]["seccomp"]
    assert seccomp["defaultAction"] == "SCMP_ACT_ERRNO"
    assert {n for r in seccomp["syscalls"] for n in r["names"]} == {"read", "write"}
    (tmp_path / "junk.json").write_text("[1, 2]")
    code, _, err = spec(capsys, "-o", "-", "--seccomp", str(tmp_path / "junk.json"))
    assert code == 2 and "neither an OCI seccomp object nor a Docker profile" in err
    (tmp_path / "bad.json").write_text("{nope")
    code, _, err = spec(capsys, "-o", "-", "--seccomp", str(tmp_path / "bad.json"))
    assert code == 2 and "not JSON" in err and "line 1, column 2" in err
    (tmp_path / "binary.json").write_bytes(b'{"a": "\xff"}')
    code, _, err = spec(capsys, "-o", "-", "--seccomp", str(tmp_path / "binary.json"))
    assert code == 2 and "not JSON: not UTF-8" in err
    (tmp_path / "deep.json").write_text("[" * 5000 + "]" * 5000)
    code, _, err = spec(capsys, "-o", "-", "--seccomp", str(tmp_path / "deep.json"))
    assert code == 2 and "nesting too deep" in err


def test_docker_profile_errors_point_into_the_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "docker.json"
    profile.write_text(
        '{"defaultAction": "SCMP_ACT_ERRNO",\n "archMap": null,\n'
        ' "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",\n'
        '   "includes": {"caps": "CAP_SYS_ADMIN"}}]}\n'
    )
    code, out, err = spec(capsys, "-o", "-", "--seccomp", str(profile))
    assert code == 1 and out == ""
    assert f"{profile}:4:" in err and "/syscalls/0/includes/caps" in err


def test_invalid_seccomp_content_is_caught_by_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "odd.json").write_text(json.dumps({"defaultAction": "SCMP_ACT_SOMETIMES"}))
    code, out, err = spec(capsys, "-o", "-", "--seccomp", str(tmp_path / "odd.json"))
    assert code == 1
    assert out == ""
    assert "/linux/seccomp/defaultAction" in err


def test_docker_profile_from_shared_data(capsys: pytest.CaptureFixture[str]) -> None:
    moby = SHARED / "seccomp" / "moby-default.json"
    plain = stdout_config(capsys, "--seccomp", str(moby), "--arch", "x86_64")["linux"]["seccomp"]
    admin = stdout_config(capsys, "--seccomp", str(moby), "--arch", "x86_64",
                          "--cap-add", "SYS_ADMIN")["linux"]["seccomp"]  # fmt: skip
    names = {n for r in plain["syscalls"] for n in r["names"]}
    admin_names = {n for r in admin["syscalls"] for n in r["names"]}
    assert "read" in names and "mount" not in names
    assert "mount" in admin_names  # Docker's profile opens mount for CAP_SYS_ADMIN
    assert plain["architectures"][0] == "SCMP_ARCH_X86_64"


def test_hardened_uses_the_shipped_policy(capsys: pytest.CaptureFixture[str]) -> None:
    data = stdout_config(capsys, "--profile", "hardened", "--userns", "yes")
    assert data["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    assert "user" in [ns["type"] for ns in data["linux"]["namespaces"]]
    data = stdout_config(capsys, "--profile", "hardened", "--userns", "no")
    assert "user" not in [ns["type"] for ns in data["linux"]["namespaces"]]
    data = stdout_config(capsys, "--profile", "hardened", "--seccomp", "unconfined")
    assert "seccomp" not in data["linux"]


def test_detect_userns(tmp_path: Path) -> None:
    (tmp_path / "sys" / "user").mkdir(parents=True)
    (tmp_path / "sys" / "kernel").mkdir(parents=True)
    assert detect_userns(tmp_path, 0) is False  # no file: not allowed
    (tmp_path / "sys" / "user" / "max_user_namespaces").write_text("0\n")
    assert detect_userns(tmp_path, 0) is False
    (tmp_path / "sys" / "user" / "max_user_namespaces").write_text("15000\n")
    assert detect_userns(tmp_path, 0) is True
    assert detect_userns(tmp_path, 1000) is True  # no Debian switch: allowed
    (tmp_path / "sys" / "kernel" / "unprivileged_userns_clone").write_text("0\n")
    assert detect_userns(tmp_path, 1000) is False
    assert detect_userns(tmp_path, 0) is True


def test_runc_spelling_rootless_and_b(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """runc spec --rootless -b DIR: the rootless profile, written into DIR."""
    code, _, err = spec(capsys, "--rootless", "-b", str(tmp_path))
    assert code == 0, err
    written = json.loads((tmp_path / "config.json").read_text())
    assert written == stdout_config(capsys, "--profile", "rootless")
    assert "user" in [n["type"] for n in written["linux"]["namespaces"]]
    code, _, err = spec(capsys, "--rootless", "--profile", "hardened", "-o", "-")
    assert code == 2 and "--rootless" in err
