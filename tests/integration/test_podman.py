"""podman drives ocitool-runc unchanged (``--runtime``): run, exit codes, exec, stop, limits.

podman 4 calls the runtime through conmon with no ``--root``, so the state
goes to the default ``/run/ocitool``. Storage is private to the test (its
own ``--root``/``--runroot`` under a temp dir) and is reset at the end.
Root here lacks CAP_SYS_RESOURCE, hence the explicit ulimits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_runc_lifecycle import runtime_binary

pytestmark = pytest.mark.integration

ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]
IMAGE = "localhost/bb"


class Podman:
    def __init__(self, base: Path, runtime: str) -> None:
        self.cmd = [
            "podman",
            "--root",
            str(base / "root"),
            "--runroot",
            str(base / "runroot"),
            "--cgroup-manager",
            "cgroupfs",
            "--runtime",
            runtime,
        ]

    def __call__(
        self, *args: str, timeout: float = 120, **kw: object
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.cmd, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            **kw,
        )  # type: ignore

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self("run", "--network", "none", *ULIMITS, *args)


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    if os.geteuid() != 0 and not os.environ.get("CI"):
        pytest.skip("needs root (runs real containers)")
    assert shutil.which("podman"), "podman is not installed"
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.helpers_exec.bundle import make_rootfs

    base = tmp_path_factory.mktemp("podman")
    rootfs = make_rootfs(base / "rootfs")
    pm = Podman(base, runtime_binary(base))
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(
        [*pm.cmd, "import", "-", IMAGE],
        stdin=tar.stdout,
        capture_output=True,
        text=True,
        timeout=120,
    )
    tar.wait()
    assert imported.returncode == 0, imported.stderr
    try:
        yield pm
    finally:
        pm("rm", "--all", "--force", "--time", "0")
        pm("system", "reset", "--force")
        shutil.rmtree(base, ignore_errors=True)


def test_run_rm_true_and_exit_codes(podman: Podman) -> None:
    ok = podman.run("--rm", IMAGE, "true")
    assert ok.returncode == 0, ok.stderr
    three = podman.run("--rm", IMAGE, "sh", "-c", "echo hello; exit 3")
    assert three.returncode == 3 and three.stdout == "hello\n", three.stderr
    missing = podman.run("--rm", IMAGE, "/no/such/binary")
    assert missing.returncode in (126, 127), missing.stderr


def test_exec_stop_and_limits(podman: Podman) -> None:
    name = f"ocit-{os.getpid()}"
    started = podman.run(
        "-d", "--name", name, "--memory", "64m", "--pids-limit", "50", IMAGE, "sleep", "1000"
    )
    assert started.returncode == 0, started.stderr
    try:
        limits = podman(
            "exec",
            name,
            "sh",
            "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max",
        )
        assert limits.returncode == 0, limits.stderr
        assert limits.stdout.split() == [str(64 << 20), "50"]
        code = podman("exec", name, "sh", "-c", "echo in-exec; exit 5")
        assert code.returncode == 5 and code.stdout == "in-exec\n"
        ps = podman("top", name)
        assert "sleep 1000" in ps.stdout, ps.stderr
        # PID 1 `sleep` ignores SIGTERM: podman stop escalates to SIGKILL after the timeout
        stop = podman("stop", "--time", "1", name)
        assert stop.returncode == 0, stop.stderr
        exit_code = podman("inspect", "--format", "{{.State.ExitCode}}", name)
        assert exit_code.stdout.strip() == "137"
    finally:
        podman("rm", "--force", "--time", "0", name)
    assert podman("inspect", name).returncode != 0
    assert not Path("/run/ocitool").joinpath(name).exists()


def test_stop_delivers_sigterm(podman: Podman) -> None:
    name = f"ocit-term-{os.getpid()}"
    script = "trap 'exit 42' TERM; while :; do sleep 0.1; done"
    started = podman.run("-d", "--name", name, IMAGE, "sh", "-c", script)
    assert started.returncode == 0, started.stderr
    try:
        stop = podman("stop", "--time", "10", name)
        assert stop.returncode == 0, stop.stderr
        code = podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        assert code == "42"  # SIGTERM reached the trap: no SIGKILL was needed
        ids = podman("inspect", "--format", "{{.Id}}", name).stdout.strip()
    finally:
        podman("rm", "--force", "--time", "0", name)
    assert ids and not Path("/run/ocitool", ids).exists()


def test_pause_unpause_and_exec_tty(podman: Podman) -> None:
    name = f"ocit-pause-{os.getpid()}"
    started = podman.run("-d", "--name", name, IMAGE, "sleep", "1000")
    assert started.returncode == 0, started.stderr
    try:
        assert podman("pause", name).returncode == 0
        status = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
        assert status == "paused"
        assert podman("unpause", name).returncode == 0
        status = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
        assert status == "running"
        # -t: conmon passes --tty --console-socket; the pty comes from the container's devpts
        tty = podman("exec", "-t", name, "sh", "-c", "tty; echo tty-ok")
        assert tty.returncode == 0, tty.stderr
        assert "/dev/pts/0" in tty.stdout and "tty-ok" in tty.stdout
    finally:
        podman("rm", "--force", "--time", "0", name)


@pytest.mark.parametrize("flags", [["--privileged"], ["--device", "/dev/ptmx"]])
def test_privileged_and_device_ptmx(podman: Podman, flags: list[str]) -> None:
    """/dev/ptmx in linux.devices (every host device with --privileged) is the
    pts/ptmx symlink, as runc makes it; a terminal still works there."""
    script = "readlink /dev/ptmx; tty"
    proc = podman.run("--rm", "-t", *flags, IMAGE, "sh", "-c", script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["pts/ptmx", "/dev/pts/0"]
