"""ocitool seccomp compile | disasm | emulate | explain | convert | test, through the dispatcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocitool.cli.main import main
from ocitool.resources import resource_path
from ocitool.seccomp.docker import docker_to_oci

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "seccomp"
MOBY = str(DATA / "moby-default.json")
DEFAULT_POLICY = str(resource_path("profiles", "seccomp/default.policy"))

POLICY = """\
default errno(EPERM)
arch x86_64
allow read write exit_group
allow clone if arg0 & CLONE_NEWUSER == 0
errno(ENOSYS) clone3
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["seccomp", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def policy(tmp_path: Path) -> str:
    p = tmp_path / "small.policy"
    p.write_text(POLICY)
    return str(p)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    seccomp = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}],
    }
    (tmp_path / "config.json").write_text(
        json.dumps({"ociVersion": "1.2.0", "linux": {"seccomp": seccomp}})
    )
    return tmp_path


def test_compile_formats(capsys: pytest.CaptureFixture[str], policy: str, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "compile", policy, "--arch", "x86_64")
    assert code == 0
    assert out.startswith("; ocitool seccomp filter:")
    assert "; ERRNO(ENOSYS)" in out
    bpf = tmp_path / "f.bpf"
    code, out, _ = run(
        capsys, "compile", policy, "--arch", "x86_64", "--format", "raw", "-o", str(bpf)
    )
    assert code == 0 and out == ""
    code, out, _ = run(capsys, "compile", policy, "--arch", "x86_64", "--format", "json")
    data = json.loads(out)
    assert data["input"]["kind"] == "policy"
    assert data["length"] * 8 == bpf.stat().st_size == len(data["instructions"]) * 8


def test_compile_every_input_kind(
    capsys: pytest.CaptureFixture[str], bundle: Path, tmp_path: Path
) -> None:
    kinds = {}
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW"}))
    for target in (str(bundle), str(bundle / "config.json"), str(bare), MOBY, DEFAULT_POLICY):
        code, out, _ = run(capsys, "compile", target, "--arch", "x86_64", "--format", "json")
        assert code == 0, target
        kinds[target] = json.loads(out)["input"]["kind"]
    assert list(kinds.values()) == ["config", "config", "oci", "docker", "policy"]


def test_caps_change_a_docker_profile(capsys: pytest.CaptureFixture[str]) -> None:
    lengths = []
    for caps in ([], ["--caps", "+CAP_SYS_ADMIN"]):
        code, out, _ = run(capsys, "compile", MOBY, "--arch", "x86_64", "--format", "json", *caps)
        assert code == 0
        lengths.append(json.loads(out)["length"])
    assert lengths[0] != lengths[1]
    code, out, _ = run(
        capsys, "emulate", MOBY, "--arch", "x86_64", "--syscall", "mount", "--caps", "+sys_admin"
    )
    assert "ALLOW" in out.splitlines()[0]
    code, out, _ = run(capsys, "emulate", MOBY, "--arch", "x86_64", "--syscall", "mount")
    assert "ERRNO(EPERM)" in out.splitlines()[0]


def test_disasm_and_emulate_raw_program(
    capsys: pytest.CaptureFixture[str], policy: str, tmp_path: Path
) -> None:
    bpf = tmp_path / "f.bpf"
    run(capsys, "compile", policy, "--arch", "x86_64", "--format", "raw", "-o", str(bpf))
    code, out, _ = run(capsys, "disasm", str(bpf), "--arch", "x86_64")
    assert code == 0
    assert "ld   arch" in out and "; x86_64" in out
    code, out, _ = run(
        capsys, "emulate", str(bpf), "--arch", "x86_64", "--syscall", "clone", "--args", "0x11"
    )
    assert code == 0
    first = out.splitlines()[0]
    assert first == "clone(0x11) on x86_64 [nr 56]: ALLOW  (ret 0x7fff0000)"
    assert "path:" in out and "ld   args[0]" in out
    code, out, _ = run(
        capsys,
        "emulate", str(bpf), "--arch", "x86_64", "--syscall", "56",
        "--args", "CLONE_NEWUSER|CLONE_VM", "--format", "json",
    )  # fmt: skip
    data = json.loads(out)
    assert data["syscall"] == "clone" and data["args"] == [0x10000100]
    assert data["verdict"] == "ERRNO(EPERM)" and data["errno"] == 1
    assert data["path"][0] == 0


def test_emulate_policy_directly(capsys: pytest.CaptureFixture[str], policy: str) -> None:
    code, out, _ = run(capsys, "emulate", policy, "--arch", "x86_64", "--syscall", "clone3")
    assert code == 0
    assert out.splitlines()[0].endswith("ERRNO(ENOSYS)  (ret 0x00050026)")


def test_explain(capsys: pytest.CaptureFixture[str], bundle: Path, policy: str) -> None:
    code, out, _ = run(capsys, "explain", str(bundle), "--arch", "x86_64", "--syscall", "ptrace")
    assert code == 0
    assert (
        "why: ptrace: no rule names it → defaultAction SCMP_ACT_ERRNO (EPERM) at "
        "/linux/seccomp/defaultAction" in out
    )
    assert "(agrees)" in out
    code, out, _ = run(
        capsys, "explain", policy, "--arch", "x86_64", "--syscall", "clone", "--args", "0x11",
        "--format", "json",
    )  # fmt: skip
    data = json.loads(out)
    assert data["pointer"] == "/syscalls/1"
    assert data["source"].endswith("small.policy:4: allow clone if arg0 & CLONE_NEWUSER == 0")
    assert data["bpf"]["agrees"] is True


def test_convert(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "oci.json"
    code, out, _ = run(
        capsys, "convert", MOBY, "--arch", "aarch64", "--caps", "CAP_SYS_ADMIN", "-o", str(out_file)
    )
    assert code == 0
    moby = json.loads(Path(MOBY).read_text())
    assert json.loads(out_file.read_text()) == docker_to_oci(moby, ["CAP_SYS_ADMIN"], "aarch64")


def test_test_subcommand(capsys: pytest.CaptureFixture[str], policy: str, tmp_path: Path) -> None:
    expect = tmp_path / "small.expect"
    expect.write_text(
        "# syscall(args) verdict\nread ALLOW\nclone(0x11) ALLOW\n"
        "clone(CLONE_NEWUSER) ERRNO(EPERM)\nclone3 ERRNO(ENOSYS)\nmount ERRNO(EPERM)\n"
    )
    code, out, _ = run(capsys, "test", policy, "--arch", "x86_64", "--expect", str(expect))
    assert code == 0
    assert "5/5 expectations hold" in out
    expect.write_text("mount ALLOW\n")
    code, out, _ = run(capsys, "test", policy, "--arch", "x86_64", "--expect", str(expect))
    assert code == 1
    assert "FAIL" in out and "want ALLOW, got ERRNO(EPERM)" in out


def test_shipped_default_expectations(capsys: pytest.CaptureFixture[str]) -> None:
    expect = str(resource_path("profiles", "seccomp/default.expect"))
    code, out, _ = run(capsys, "test", DEFAULT_POLICY, "--arch", "x86_64", "--expect", expect)
    assert code == 0, out
    code, out2, _ = run(capsys, "test", MOBY, "--arch", "x86_64", "--expect", expect)
    assert code == 0, out2


@pytest.mark.parametrize(
    ("argv", "status", "words"),
    [
        (["compile", "/nonexistent/x.policy"], 2, "no such file"),
        (["emulate", "{policy}", "--arch", "x86_64", "--syscall", "nosuch"], 2, "not a syscall"),
        (["emulate", "{policy}", "--arch", "x86_64", "--syscall", "read", "--args", "x"], 2,
         "--args"),
        (["compile", "{bad}", "--arch", "x86_64"], 1, "bad.policy:2:20: error OCI450"),
        (["compile", "{policy}", "--arch", "vax"], 1, "unsupported seccomp architecture"),
        (["explain", "{policy}"], 2, "--syscall"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)  # fmt: skip
def test_errors_are_messages_not_tracebacks(
    capsys: pytest.CaptureFixture[str], policy: str, tmp_path: Path, argv: list[str],
    status: int, words: str,
) -> None:  # fmt: skip
    bad = tmp_path / "bad.policy"
    bad.write_text("default allow\nallow read if arg0 =\n")
    argv = [a.format(policy=policy, bad=str(bad)) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == status
    assert words in err
    assert "Traceback" not in err


def test_strict_refuses_unknown_names(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = tmp_path / "typo.policy"
    p.write_text("default allow\nerrno(EPERM) mount\n  umount3\n")
    code, _, err = run(capsys, "compile", str(p), "--arch", "x86_64")
    assert code == 0
    assert "typo.policy:2: warning OCI400" in err and "umount3" in err
    code, _, err = run(capsys, "compile", str(p), "--arch", "x86_64", "--strict")
    assert code == 1
    assert "typo.policy:2: error OCI400" in err


def test_compiler_errors_point_at_the_json_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_text(
        '{"ociVersion": "1.2.0", "linux": {"seccomp": {\n'
        '  "defaultAction": "SCMP_ACT_ERRNO",\n'
        '  "syscalls": [{"names": ["read"],\n'
        '     "action": "SCMP_ACT_BOGUS"}]}}}\n'
    )
    code, _, err = run(capsys, "compile", str(cfg), "--arch", "x86_64")
    assert code == 1
    assert err.startswith(f"{cfg}:4:16: error OCI403 at /linux/seccomp/syscalls/0/action")
    profile = tmp_path / "docker.json"
    profile.write_text(
        '{"defaultAction": "SCMP_ACT_ERRNO",\n "syscalls": [\n'
        '  {"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "x"}}]}\n'
    )
    code, _, err = run(capsys, "convert", str(profile))
    assert code == 1
    assert err.startswith(f"{profile}:3:") and "OCI460" in err


def test_explain_by_number(capsys: pytest.CaptureFixture[str], bundle: Path) -> None:
    code, out, _ = run(capsys, "explain", str(bundle), "--arch", "x86_64", "--syscall", "39")
    assert code == 0
    assert out.splitlines()[0] == "getpid on x86_64 [nr 39]: ALLOW"
    assert "decided by /linux/seccomp/syscalls/0" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--syscall", "\u00b2"], "is not a syscall"),
        (["--syscall", "4294967296"], "does not fit the 32-bit nr"),
        (["--syscall", ""], "--syscall: empty"),
        (["--arch", ""], "unsupported seccomp architecture ''"),
    ],
)
def test_emulate_refuses_odd_syscalls(
    capsys: pytest.CaptureFixture[str], bundle: Path, argv: list[str], needle: str
) -> None:
    base = ["emulate", str(bundle), "--syscall", "read", "--arch", "x86_64"]
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        base[base.index(flag) + 1] = value
    code, out, err = run(capsys, *base)
    assert code in (1, 2) and needle in err and out == ""


def test_emulate_top_syscall_number(capsys: pytest.CaptureFixture[str], bundle: Path) -> None:
    code, out, _ = run(
        capsys, "emulate", str(bundle), "--syscall", "0xffffffff", "--arch", "x86_64"
    )
    assert code == 0 and "[nr 4294967295]" in out


def test_unknown_caps_for_docker_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "convert", MOBY, "--caps", "CAP_CHOWN,CAP_WIZARD")
    assert code == 2 and "unknown capability 'CAP_WIZARD'" in err
    code, plain, _ = run(capsys, "convert", MOBY, "--arch", "x86_64")
    code, admin, _ = run(capsys, "convert", MOBY, "--caps", "+sys_admin", "--arch", "x86_64")
    names = [{n for r in json.loads(out)["syscalls"] for n in r["names"]} for out in (plain, admin)]
    assert code == 0 and "mount" in names[1] - names[0]  # libcap spelling, added to the default


def test_wrong_json_types_are_located(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    profile = tmp_path / "oci.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW",\n "syscalls": [{"names": "read",\n'
                       ' "action": "SCMP_ACT_ERRNO"}]}\n')  # fmt: skip
    for cmd in ("compile", "explain", "emulate"):
        extra = [] if cmd == "compile" else ["--syscall", "pread64"]
        code, out, err = run(capsys, cmd, str(profile), "--arch", "x86_64", *extra)
        assert code == 1 and out == ""
        assert f"{profile}:2:25: error OCI460 at /syscalls/0/names" in err


def test_input_errors_name_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    short = tmp_path / "short.bpf"
    short.write_bytes(b"\x06\x00\x00")
    for argv in (["disasm", str(short)], ["emulate", str(short), "--syscall", "0"]):
        code, _, err = run(capsys, *argv, *(["--arch", "x86_64"] if argv[0] == "emulate" else []))
        assert code == 1 and err.startswith(f"{short}: error OCI420")
    cfg = tmp_path / "config.json"
    cfg.write_text('{"ociVersion": "1.2.0",\n "linux": {"seccomp": 5}}\n')
    code, _, err = run(capsys, "compile", str(cfg), "--arch", "x86_64")
    assert code == 1
    assert err.startswith(f"{cfg}:2:23: error OCI470 at /linux/seccomp: linux.seccomp is not")


def test_text_only_stdout(monkeypatch: pytest.MonkeyPatch, policy: str) -> None:
    """Embedded callers may give a StringIO: text output works, a raw program is refused."""
    import io

    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    assert main(["seccomp", "compile", policy, "--arch", "x86_64"]) == 0
    assert out.getvalue().startswith("; ocitool seccomp filter:")
    assert main(["seccomp", "compile", policy, "--arch", "x86_64", "--format", "raw"]) == 2
