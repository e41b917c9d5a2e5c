"""``ocitool spec`` against the real runc: same output as ``runc spec``, and every profile runs.

The bundles use a busybox rootfs copied from the host (/bin/busybox), so
nothing is downloaded. Running containers needs root; these tests skip only
when not root AND CI is unset (in CI a missing prerequisite is a failure).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocitool.cli.main import main
from ocitool.spec.load import parse_text
from ocitool.spec.profiles import default_spec, rootless_spec
from ocitool.spec.schema import validate_config

pytestmark = pytest.mark.integration

SHARED = Path(__file__).resolve().parents[2] / "tests" / "data"
APPLETS = ["sh", "true", "id", "cat", "grep", "hostname", "ls", "echo", "touch", "head", "test"]
# what a rootfs needs for runc to mount onto when container root is not host root
ROOTFS_DIRS = ["proc", "dev", "sys", "tmp", "etc", "run", "data"]


def need(condition: bool, reason: str) -> None:
    """Skip without the prerequisite, unless CI is set: then it is a failure."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this does not skip)")
    pytest.skip(reason)


def runc() -> str:
    path = shutil.which("runc")
    need(path is not None, "runc is not installed")
    assert path is not None
    return path


def diff(a: Any, b: Any, where: str = "") -> list[str]:
    """Every JSON pointer where two parsed documents differ (field by field)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{where}/{key}: only in {'ours' if key in a else 'runc'}")
            else:
                out += diff(a[key], b[key], f"{where}/{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in diff(x, y, f"{where}/{i}")]  # fmt: skip
    return [] if a == b and type(a) is type(b) else [f"{where}: {a!r} vs {b!r}"]


def runc_spec(directory: Path, *flags: str, user: int | None = None) -> tuple[dict[str, Any], str]:
    cmd = [runc(), "spec", *flags]
    if user is not None:
        need(shutil.which("setpriv") is not None, "setpriv is not installed")
        need(os.geteuid() == 0, "switching user needs root")
        directory.chmod(0o777)
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    subprocess.run(cmd, cwd=directory, check=True, capture_output=True, timeout=30)
    text = (directory / "config.json").read_text()
    return json.loads(text), text


def test_default_equals_runc_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "runc").mkdir()
    (tmp_path / "ours").mkdir()
    theirs, their_text = runc_spec(tmp_path / "runc")
    assert main(["spec", "--bundle", str(tmp_path / "ours")]) == 0
    our_text = (tmp_path / "ours" / "config.json").read_text()
    assert diff(json.loads(our_text), theirs) == []
    assert diff(default_spec(), theirs) == []
    assert our_text == their_text  # even byte for byte: same key order and tab indent


def test_rootless_equals_runc_spec_rootless(tmp_path: Path) -> None:
    (tmp_path / "runc").mkdir()
    (tmp_path / "ours").mkdir()
    theirs, _ = runc_spec(tmp_path / "runc", "--rootless")
    assert main(["spec", "--profile", "rootless", "--bundle", str(tmp_path / "ours")]) == 0
    ours = json.loads((tmp_path / "ours" / "config.json").read_text())
    assert diff(ours, theirs) == []
    assert theirs["linux"]["uidMappings"][0]["hostID"] == os.geteuid()


def test_rootless_for_another_user_equals_runc(tmp_path: Path) -> None:
    need(os.geteuid() == 0, "needs root to act as uid 1000")
    theirs, _ = runc_spec(tmp_path, "--rootless", user=1000)
    assert theirs["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 1000, "size": 1}]
    assert diff(rootless_spec(1000, 1000), theirs) == []


# ----------------------------------------------------------------- running


@pytest.fixture
def bundle() -> Iterator[Path]:
    """A busybox bundle in a world-searchable directory.

    With a user namespace, container root is an unprivileged host uid, and it
    must be able to reach the rootfs: pytest's tmp_path (under a 0700
    directory) would not do.
    """
    busybox = shutil.which("busybox") or "/bin/busybox"
    need(Path(busybox).exists(), "busybox is not installed")
    top = Path(tempfile.mkdtemp(prefix="ocitool-spec-"))
    top.chmod(0o755)
    try:
        yield _make_bundle(top / "bundle", Path(busybox))
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _make_bundle(where: Path, busybox: Path) -> Path:
    rootfs = where / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy2(busybox, rootfs / "bin" / "busybox")
    for applet in APPLETS:
        (rootfs / "bin" / applet).symlink_to("busybox")
    for name in ROOTFS_DIRS:
        (rootfs / name).mkdir()
    _copy_libraries(busybox, rootfs)
    return where


def _copy_libraries(binary: Path, rootfs: Path) -> None:
    """A dynamically linked busybox needs its loader and libraries in the rootfs."""
    result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    for line in result.stdout.splitlines():
        for word in line.split():
            if word.startswith("/") and Path(word).exists():
                dest = rootfs / word.lstrip("/")
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(word, dest)


def generate(bundle: Path, *argv: str) -> dict[str, Any]:
    assert main(["spec", "--bundle", str(bundle), "--force", "--no-terminal", *argv]) == 0
    text = (bundle / "config.json").read_text()
    diagnostics = [d.render() for d in validate_config(parse_text(text, "config.json"))]
    assert diagnostics == []
    data: dict[str, Any] = json.loads(text)
    return data


def run(bundle: Path, name: str) -> subprocess.CompletedProcess[str]:
    need(os.geteuid() == 0, "running containers with runc needs root")
    container = f"ocitool-spec-{name}-{os.getpid()}"
    try:
        return subprocess.run(
            [runc(), "run", "--bundle", str(bundle), container],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    finally:
        subprocess.run([runc(), "delete", "--force", container], capture_output=True)


def status_field(out: str, name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith(name))


SHOW = (
    "id; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; hostname; cat /proc/self/uid_map"
)


@pytest.mark.parametrize("profile", ["default", "rootless", "hardened"])
def test_profile_runs_true(bundle: Path, profile: str) -> None:
    generate(bundle, "--profile", profile, "--args", "/bin/true")
    result = run(bundle, f"true-{profile}")
    assert result.returncode == 0, result.stderr


def test_default_profile_process_state(bundle: Path) -> None:
    generate(bundle, "--args", f'/bin/sh -c "{SHOW}"')
    result = run(bundle, "default-state")
    assert result.returncode == 0, result.stderr
    assert "uid=0 gid=0" in result.stdout
    # CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE
    assert status_field(result.stdout, "CapEff") == "0000000020000420"
    assert status_field(result.stdout, "NoNewPrivs") == "1"
    assert status_field(result.stdout, "Seccomp") == "0"


def test_hardened_profile_process_state(bundle: Path) -> None:
    data = generate(bundle, "--profile", "hardened", "--userns", "yes",
                    "--args", f"/bin/sh -c \"{SHOW}; touch /etc/x || echo ro-root\"")  # fmt: skip
    result = run(bundle, "hardened-state")
    assert result.returncode == 0, result.stderr
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert status_field(result.stdout, field) == "0000000000000000"
    assert status_field(result.stdout, "NoNewPrivs") == "1"
    assert status_field(result.stdout, "Seccomp") == "2"  # a filter is loaded
    host_id = data["linux"]["uidMappings"][0]["hostID"]
    assert result.stdout.split()[result.stdout.split().index("0") + 1] == str(host_id)
    assert "ro-root" in result.stdout


def test_flags_take_effect(bundle: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello").write_text("from the host\n")
    script = (
        "cat /data/hello; touch /data/nope 2>/dev/null || echo bind-ro; "
        "echo $GREETING; pwd; id; hostname; "
        "grep CapEff /proc/self/status; "
        "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max; "
        "cat /sys/fs/cgroup/memory.max 2>/dev/null "
        "|| cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
        "cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us; "
        "touch /scratch/ok && echo tmpfs-rw; ls /sys/class/net"
    )
    generate(
        bundle,
        "--args", f"/bin/sh -c '{script}'",
        "--env", "GREETING=hi-there", "--cwd", "/tmp", "--user", "1000:1000",
        "--hostname", "flagged", "--caps", "cap_chown,cap_kill=ep",
        "--memory", "512M", "--cpus", "1.5", "--pids-limit", "77",
        "--bind", f"{shared}:/data:ro", "--tmpfs", "/scratch", "--net", "none",
    )  # fmt: skip
    result = run(bundle, "flags")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "from the host"
    assert "bind-ro" in lines
    assert "hi-there" in lines
    assert "/tmp" in lines
    assert "uid=1000 gid=1000" in lines
    assert "flagged" in lines
    # cap_chown | cap_kill; a non-root user keeps only what ambient carries: nothing
    assert status_field(result.stdout, "CapEff") == "0000000000000000"
    assert "77" in lines
    assert "536870912" in lines
    assert "150000 100000" in lines or "150000" in lines
    assert "tmpfs-rw" in lines
    assert lines[-1] == "lo"  # --net none: a new namespace with loopback only


def test_caps_text_and_host_network(bundle: Path) -> None:
    generate(bundle, "--caps", "cap_chown,cap_kill=ep", "--net", "host",
             "--args", "/bin/sh -c 'grep -E \"^Cap(Eff|Bnd)\" /proc/self/status; ls /sys/class/net'")  # fmt: skip
    result = run(bundle, "captext")
    assert result.returncode == 0, result.stderr
    assert status_field(result.stdout, "CapEff") == "0000000000000021"
    assert status_field(result.stdout, "CapBnd") == "0000000000000021"
    inside = {line for line in result.stdout.splitlines() if not line.startswith("Cap")}
    assert inside == set(os.listdir("/sys/class/net"))


def test_docker_seccomp_profile_runs(bundle: Path) -> None:
    moby = SHARED / "seccomp" / "moby-default.json"
    generate(bundle, "--seccomp", str(moby), "--args",
             "/bin/sh -c 'grep Seccomp: /proc/self/status'")  # fmt: skip
    result = run(bundle, "moby")
    assert result.returncode == 0, result.stderr
    assert status_field(result.stdout, "Seccomp") == "2"
