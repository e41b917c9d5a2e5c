"""containerd's runc v2 shim drives ocitool-runc unchanged (``ctr --runc-binary``).

The test starts its own containerd (own config, root, state and sockets, no
CRI plugin), imports an OCI image archive built from the busybox rootfs, and
checks create/start (``ctr run``), exec, kill, delete and exit statuses. The
shim passes ``--root /run/containerd/runc/<namespace> --log ... --log-format
json``; a namespace unique to this run keeps it apart from anything else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_runc_lifecycle import runtime_binary

pytestmark = pytest.mark.integration

NAMESPACE = f"ocitool-test-{os.getpid()}"
IMAGE = "localhost/bb:latest"


class Ctr:
    def __init__(self, sock: Path, runtime: str) -> None:
        self.base = ["ctr", "-a", str(sock), "-n", NAMESPACE]
        self.runtime = runtime

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.base, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def task_status(self, cid: str) -> str:
        for line in self("task", "ls").stdout.splitlines()[1:]:
            fields = line.split()
            if fields and fields[0] == cid:
                return fields[-1]
        return ""

    def wait_status(self, cid: str, want: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        status = self.task_status(cid)
        while status != want and time.monotonic() < deadline:
            time.sleep(0.1)
            status = self.task_status(cid)
        return status


def _unmount_under(path: Path) -> None:
    with open("/proc/self/mountinfo") as f:
        targets = [line.split()[4] for line in f]
    for target in sorted(targets, key=len, reverse=True):
        if target.startswith(str(path)):
            subprocess.run(["umount", "-l", target], capture_output=True)


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctr]:
    if os.geteuid() != 0 and not os.environ.get("CI"):
        pytest.skip("needs root (runs real containers)")
    assert shutil.which("containerd") and shutil.which("ctr"), "containerd is not installed"
    repo = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(repo))
    from tests.helpers_exec.bundle import make_rootfs
    from tests.integration.oci_image import build_oci_archive

    base = tmp_path_factory.mktemp("containerd")
    sock = base / "containerd.sock"
    config = base / "config.toml"
    config.write_text(
        "version = 2\n"
        f'root = "{base / "root"}"\n'
        f'state = "{base / "state"}"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        f'[grpc]\n  address = "{sock}"\n'
        f'[ttrpc]\n  address = "{sock}.ttrpc"\n'
    )
    log = open(base / "containerd.log", "w")  # noqa: SIM115 - closed at teardown
    daemon = subprocess.Popen(
        ["containerd", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert daemon.poll() is None, (base / "containerd.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "containerd did not come up"
            time.sleep(0.05)
        c = Ctr(sock, runtime_binary(base))
        archive = base / "bb.tar"
        build_oci_archive(make_rootfs(base / "rootfs"), archive, IMAGE, ["sh"])
        imported = c("images", "import", str(archive))
        assert imported.returncode == 0, imported.stderr
        yield c
        for line in c("task", "ls", "-q").stdout.split():
            c("task", "kill", "-s", "SIGKILL", line)
            c("task", "delete", "--force", line)
        for line in c("containers", "ls", "-q").stdout.split():
            c("containers", "rm", line)
    finally:
        daemon.terminate()
        try:
            daemon.wait(15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        _unmount_under(base)
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(f"/run/containerd/runc/{NAMESPACE}", ignore_errors=True)


def test_run_rm_exit_status(ctr: Ctr) -> None:
    cid = f"exit-{os.getpid()}"
    proc = ctr(
        "run", "--rm", "--runc-binary", ctr.runtime, IMAGE, cid, "sh", "-c", "echo via-shim; exit 4"
    )
    assert proc.returncode == 4, proc.stderr
    assert "via-shim" in proc.stdout
    assert ctr("containers", "ls", "-q").stdout.split().count(cid) == 0
    assert not Path(f"/run/containerd/runc/{NAMESPACE}/{cid}").exists()


def test_create_start_exec_kill_delete(ctr: Ctr) -> None:
    cid = f"life-{os.getpid()}"
    started = ctr("run", "-d", "--runc-binary", ctr.runtime, IMAGE, cid, "sleep", "1000")
    assert started.returncode == 0, started.stderr
    try:
        assert ctr.wait_status(cid, "RUNNING") == "RUNNING"
        state_dir = Path(f"/run/containerd/runc/{NAMESPACE}/{cid}")
        assert (state_dir / "state.json").exists()  # the shim's --root is ours
        ex = ctr(
            "task",
            "exec",
            "--exec-id",
            "e1",
            cid,
            "sh",
            "-c",
            "echo hi-from-exec; cat /proc/1/cmdline | tr '\\0' ' '; exit 6",
        )
        assert ex.returncode == 6, ex.stderr
        assert "hi-from-exec" in ex.stdout and "sleep 1000" in ex.stdout
        ps = ctr("task", "ps", cid)
        assert ps.returncode == 0 and len(ps.stdout.splitlines()) >= 2
        killed = ctr("task", "kill", "-s", "SIGKILL", cid)
        assert killed.returncode == 0, killed.stderr
        assert ctr.wait_status(cid, "STOPPED") == "STOPPED"
        deleted = ctr("task", "delete", cid)
        assert deleted.returncode == 0, deleted.stderr
        assert not state_dir.exists()
        assert ctr.task_status(cid) == ""
    finally:
        ctr("task", "delete", "--force", cid)
        ctr("containers", "rm", cid)
    assert not Path(f"/sys/fs/cgroup/pids/{NAMESPACE}/{cid}").exists()


def test_run_privileged(ctr: Ctr) -> None:
    """``ctr run --privileged`` passes every host device, /dev/ptmx among them (runc's
    rule: no node there, the pts/ptmx symlink instead)."""
    cid = f"priv-{os.getpid()}"
    script = "readlink /dev/ptmx; test -c /dev/kmsg && echo kmsg-node"
    proc = ctr(
        "run", "--rm", "--privileged", "--runc-binary", ctr.runtime, IMAGE, cid, "sh", "-c", script
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["pts/ptmx", "kmsg-node"]
