"""ocitool on a pure cgroup v2 kernel, with runc beside it: every check runs for both.

Runs inside the QEMU test host (see conftest.py): the guest's PID 1 mounted cgroup2
at /sys/fs/cgroup with every controller enabled, as a systemd distribution does.
Each value is read back from the container's own cgroup files, so a difference
between ocitool-runc and runc (or between the plan and the kernel) shows up as a
failing parameter, not as a number nobody looks at.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocitool.lower.cgroups.convert import (
    blkio_weight_to_io_weight,
    shares_to_weight,
    shares_to_weight_linear,
)
from tests.helpers_exec.bundle import BASE_CONFIG, make_bundle

pytestmark = pytest.mark.integration

CGROUP = Path("/sys/fs/cgroup")
REPO = Path(__file__).resolve().parents[3]
MiB = 1024 * 1024
LOOP = ["sh", "-c", "echo started; while :; do sleep 0.05; done"]


def launcher(name: str, module: str) -> list[str]:
    """The installed launcher (python -S: seconds faster under TCG), else the module."""
    path = Path(sys.executable).with_name(name)
    return [str(path)] if path.exists() else [sys.executable, "-m", module]


def ocitool_runc() -> list[str]:
    return launcher("ocitool-runc", "ocitool.cli.runc")


def ocitool() -> list[str]:
    return launcher("ocitool", "ocitool.cli.main")


RUNTIMES = {"ocitool-runc": ocitool_runc, "runc": lambda: ["runc"]}


class Runtime:
    """One runtime under its own --root; containers get ids unique to the test."""

    def __init__(self, name: str, root: Path, logs: Path) -> None:
        self.name = name
        self.argv = [*RUNTIMES[name](), "--root", str(root)]
        self.logs = logs
        self.n = 0

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.argv, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def ok(self, *args: str, timeout: float = 120) -> str:
        proc = self(*args, timeout=timeout)
        assert proc.returncode == 0, f"{self.name} {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def create(self, bundle: Path, cid: str) -> None:
        """create with stdio on files: the container keeps them open after we return."""
        self.n += 1
        with (
            open(self.logs / f"out{self.n}", "w") as fo,
            open(self.logs / f"err{self.n}", "w") as fe,
        ):
            proc = subprocess.run(
                [*self.argv, "create", "--bundle", str(bundle), cid],
                stdout=fo,
                stderr=fe,
                stdin=subprocess.DEVNULL,
                timeout=120,
            )
        assert proc.returncode == 0, (self.logs / f"err{self.n}").read_text()

    def status(self, cid: str) -> str:
        return str(json.loads(self.ok("state", cid))["status"])

    def wait_status(self, cid: str, want: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        status = self.status(cid)
        while status != want and time.monotonic() < deadline:
            time.sleep(0.1)
            status = self.status(cid)
        return status

    def wait_stopped(self, cid: str, cg: Path, timeout: float = 30) -> str:
        """The status once the cgroup emptied: polling a file is cheaper than ``state``."""
        deadline = time.monotonic() + timeout
        while "populated 1" in read(cg, "cgroup.events") and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.wait_status(cid, "stopped", timeout)

    def cleanup(self) -> None:
        listed = self("list", "-q").stdout.split()
        for cid in listed:
            self("delete", "--force", cid, timeout=60)


@pytest.fixture(params=list(RUNTIMES))
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    (tmp_path / "logs").mkdir()
    runtime = Runtime(request.param, tmp_path / "root", tmp_path / "logs")
    yield runtime
    runtime.cleanup()


@pytest.fixture(scope="session")
def loop_device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(major, minor) of a loop device over a file in tmpfs, for io.max and io.weight."""
    if not Path("/sys/module/loop").exists():
        subprocess.run(["busybox", "modprobe", "loop"], check=True)
    backing = tmp_path_factory.mktemp("loop") / "disk.img"
    with open(backing, "wb") as f:
        f.truncate(16 * MiB)
    dev = subprocess.run(
        ["losetup", "--find", "--show", str(backing)], capture_output=True, text=True, check=True
    ).stdout.strip()
    rdev = os.stat(dev).st_rdev
    yield os.major(rdev), os.minor(rdev)
    subprocess.run(["losetup", "--detach", dev], check=False)


def bundle(tmp_path: Path, name: str, args: list[str], **changes: Any) -> Path:
    return make_bundle(tmp_path / name, args, **changes)


def with_namespace(extra: str) -> list[dict[str, str]]:
    return [*BASE_CONFIG["linux"]["namespaces"], {"type": extra}]


def read(cg: Path, name: str) -> str:
    return (cg / name).read_text().strip()


def expected_weight(runtime: str, shares: int) -> set[int]:
    """cpu.shares -> cpu.weight: ocitool's formula; runc's depends on its version."""
    if runtime == "runc":
        return {shares_to_weight_linear(shares), shares_to_weight(shares)}
    return {shares_to_weight(shares)}


# ------------------------------------------------------------------ limits, lifecycle, update
def test_lifecycle_limits_read_back(
    rt: Runtime, tmp_path: Path, loop_device: tuple[int, int]
) -> None:
    """create/start/state/exec/pause/resume/update/kill/delete with every v2 controller set, in a
    nested cgroupsPath whose parents enable the controllers in cgroup.subtree_control."""
    major, minor = loop_device
    cid = f"lim-{rt.name}"
    parent = f"v2test-{rt.name}"
    resources = {
        "devices": [{"allow": False, "access": "rwm"}],
        "memory": {"limit": 64 * MiB, "swap": 96 * MiB, "reservation": 32 * MiB},
        "pids": {"limit": 64},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "1", "mems": "0"},
        "blockIO": {
            "weight": 500,
            "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": MiB}],
            "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 1000}],
        },
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MiB}],
    }
    b = bundle(
        tmp_path,
        "b",
        LOOP,
        linux={"cgroupsPath": f"/{parent}/{cid}", "resources": resources},
    )
    rt.create(b, cid)
    assert rt.status(cid) == "created"
    cg = CGROUP / parent / cid
    enabled = set(read(CGROUP / parent, "cgroup.subtree_control").split())
    assert {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"} <= enabled
    rt.ok("start", cid)
    assert rt.wait_status(cid, "running") == "running"
    state = json.loads(rt.ok("state", cid))
    assert read(cg, "cgroup.procs").split()[0] == str(state["pid"])
    assert read(cg, "memory.max") == str(64 * MiB)
    assert read(cg, "memory.swap.max") == str(32 * MiB)
    assert read(cg, "memory.low") == str(32 * MiB)
    assert read(cg, "pids.max") == "64"
    assert read(cg, "cpu.max") == "50000 100000"
    assert int(read(cg, "cpu.weight")) in expected_weight(rt.name, 512)
    assert read(cg, "cpuset.cpus") == "1"
    assert read(cg, "cpuset.mems") == "0"
    assert f"default {blkio_weight_to_io_weight(500)}" in read(cg, "io.weight").splitlines()
    assert f"{major}:{minor} rbps={MiB} wbps=max riops=max wiops=1000" in read(cg, "io.max")
    assert read(cg, "hugetlb.2MB.max") == str(4 * MiB)
    if rt.name == "ocitool-runc":  # reservations too (kernel >= 5.7; runc 1.1 does not)
        assert read(cg, "hugetlb.2MB.rsvd.max") == str(4 * MiB)

    # exec joins the same v2 cgroup (no cgroup namespace here: the full path shows)
    assert rt.ok("exec", cid, "cat", "/proc/self/cgroup").split() == [f"0::/{parent}/{cid}"]

    rt.ok("pause", cid)
    assert rt.status(cid) == "paused"
    assert read(cg, "cgroup.freeze") == "1"
    assert "frozen 1" in read(cg, "cgroup.events").splitlines()
    rt.ok("resume", cid)
    assert rt.status(cid) == "running"
    assert "frozen 0" in read(cg, "cgroup.events").splitlines()

    rt.ok(
        "update",
        "--memory",
        str(128 * MiB),
        "--memory-swap",
        str(192 * MiB),
        "--pids-limit",
        "32",
        "--cpu-quota",
        "25000",
        "--cpu-period",
        "100000",
        cid,
    )
    assert read(cg, "memory.max") == str(128 * MiB)
    assert read(cg, "memory.swap.max") == str(64 * MiB)
    assert read(cg, "pids.max") == "32"
    assert read(cg, "cpu.max") == "25000 100000"

    rt.ok("kill", cid, "KILL")
    assert rt.wait_stopped(cid, cg) == "stopped"
    rt.ok("delete", cid)
    assert not cg.exists()


# ------------------------------------------------------------------ freezer and SIGKILL
def paused_container(rt: Runtime, tmp_path: Path, prefix: str) -> tuple[str, Path]:
    """(id, cgroup directory) of a started, then paused, container."""
    cid, cg = f"{prefix}-{rt.name}", CGROUP / f"v2{prefix}-{rt.name}"
    b = bundle(tmp_path, "b", LOOP, linux={"cgroupsPath": f"/{cg.name}"})
    rt.create(b, cid)
    rt.ok("start", cid)
    rt.ok("pause", cid)
    assert read(cg, "cgroup.freeze") == "1"
    return cid, cg


def test_sigkill_of_a_paused_container_kills_and_thaws(rt: Runtime, tmp_path: Path) -> None:
    cid, cg = paused_container(rt, tmp_path, "pk")
    rt.ok("kill", cid, "KILL")
    assert rt.wait_stopped(cid, cg) == "stopped"
    assert read(cg, "cgroup.freeze") == "0"  # thawed after the kill, as runc does
    assert read(cg, "cgroup.procs") == ""
    rt.ok("delete", cid)
    assert not cg.exists()


def test_delete_force_of_a_paused_container(rt: Runtime, tmp_path: Path) -> None:
    cid, cg = paused_container(rt, tmp_path, "pd")
    rt.ok("delete", "--force", cid, timeout=60)
    assert not cg.exists()
    assert cid not in rt("list", "-q").stdout.split()


# ------------------------------------------------------------------ the eBPF device program
BPF_PROG_QUERY = 16
BPF_CGROUP_DEVICE = 6
SYS_BPF = 321  # x86_64


def attached_device_programs(cgroup_dir: Path) -> int:
    """How many BPF_CGROUP_DEVICE programs are attached to the directory (BPF_PROG_QUERY)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        attr = (ctypes.c_uint32 * 30)()
        attr[0], attr[1] = fd, BPF_CGROUP_DEVICE  # target_fd, attach_type; prog_ids NULL
        if libc.syscall(SYS_BPF, BPF_PROG_QUERY, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
            raise OSError(ctypes.get_errno(), "BPF_PROG_QUERY")
        return int(attr[6])  # prog_cnt
    finally:
        os.close(fd)


DEVICE_PROBE = """
echo x > /dev/null && echo null-write-ok
mknod /tmp/z c 1 5 && head -c1 /tmp/z >/dev/null && echo zero-mknod-open-ok
mknod /tmp/f c 10 229 && echo fuse-mknod-ok
head -c1 /tmp/f 2>&1 >/dev/null | grep -q 'not permitted' && echo fuse-open-eperm
echo done
sleep 1000
"""


def test_device_program_attached_and_enforced(rt: Runtime, tmp_path: Path) -> None:
    """Allowed devices (/dev/null; c 1:5 made with mknod) open; c 10:229 (fuse) can be made
    (both runtimes allow mknod of any device, as runc always has) but opening it is EPERM."""
    cid = f"dev-{rt.name}"
    caps = ["CAP_MKNOD", "CAP_KILL", "CAP_AUDIT_WRITE"]
    b = bundle(
        tmp_path,
        "b",
        ["sh", "-c", DEVICE_PROBE],
        process={"capabilities": {k: caps for k in ("bounding", "effective", "permitted")}},
        mounts=[
            *BASE_CONFIG["mounts"],
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]},
        ],
        linux={"cgroupsPath": f"/v2dev-{rt.name}"},
    )
    rt.create(b, cid)
    cg = CGROUP / f"v2dev-{rt.name}"
    assert attached_device_programs(cg) >= 1
    rt.ok("start", cid)
    out = rt.logs / f"out{rt.n}"
    deadline = time.monotonic() + 60
    while "done" not in out.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    seen = out.read_text().split()
    expected = ["null-write-ok", "zero-mknod-open-ok", "fuse-mknod-ok", "fuse-open-eperm", "done"]
    assert seen == expected, (rt.logs / f"err{rt.n}").read_text()


# ------------------------------------------------------------------ inside view, OOM
INSIDE = "cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max"


RUNNERS = ("ocitool-exec", "ocitool-runc", "runc")


def run_foreground(
    runner: str, b: Path, root: Path, cid: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """``ocitool exec BUNDLE``, or ``run`` of a runc-compatible runtime, to the end."""
    if runner == "ocitool-exec":
        cmd = [*ocitool(), "exec", "--root", str(root), str(b)]
    else:
        cmd = [*RUNTIMES[runner](), "--root", str(root), "run", *extra, "--bundle", str(b), cid]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL
    )


@pytest.mark.parametrize("runner", RUNNERS)
def test_cgroup_namespace_inside_view(runner: str, tmp_path: Path) -> None:
    """With a cgroup namespace the container is at ``0::/`` and its /sys/fs/cgroup is cgroup2
    rooted at its own cgroup (its own memory.max and pids.max)."""
    b = bundle(
        tmp_path,
        "b",
        ["sh", "-c", INSIDE],
        linux={
            "namespaces": with_namespace("cgroup"),
            "cgroupsPath": f"/v2ns-{runner}",
            "resources": {"memory": {"limit": 48 * MiB}, "pids": {"limit": 20}},
        },
    )
    proc = run_foreground(runner, b, tmp_path / "root", f"ns-{runner}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0::/", str(48 * MiB), "20"]
    assert not (CGROUP / f"v2ns-{runner}").exists()


@pytest.mark.parametrize("runner", RUNNERS)
def test_oom_kill_is_exit_137(runner: str, tmp_path: Path) -> None:
    """The OOM killer's SIGKILL is the container's exit 137, and memory.events counts it
    (read from the cgroup a kept container still has)."""
    cid = f"oom-{runner}"
    b = bundle(
        tmp_path,
        "b",
        ["tail", "/dev/zero"],
        linux={
            "cgroupsPath": f"/v2oom-{runner}",
            "resources": {"memory": {"limit": 16 * MiB, "swap": 16 * MiB}},
        },
    )
    root = tmp_path / "root"
    keep = () if runner == "ocitool-exec" else ("--keep",)
    proc = run_foreground(runner, b, root, cid, *keep)
    assert proc.returncode == 137, proc.stderr
    if keep:
        events = dict(
            line.split() for line in read(CGROUP / f"v2oom-{runner}", "memory.events").splitlines()
        )
        assert int(events["oom_kill"]) >= 1
        subprocess.run(
            [*RUNTIMES[runner](), "--root", str(root), "delete", cid], check=True, timeout=60
        )
    assert not (CGROUP / f"v2oom-{runner}").exists()


# ------------------------------------------------------------------ the README's demo
def test_ocitool_demo() -> None:
    proc = subprocess.run(
        [*ocitool(), "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


# ------------------------------------------------------------------ the plan's idea of a v2 host
def test_detected_host_is_the_v2_preset() -> None:
    """The goldens and ``plan --host cgroup=v2`` use HostInfo.preset("v2"); a real v2 kernel
    must be detected as exactly that where cgroup lowering looks, or the printed plan is
    not the plan that runs here."""
    from ocitool.lower.host import HostInfo

    host, preset = HostInfo.detect(), HostInfo.preset("v2")
    for field in ("cgroup", "unified_mount", "unified_controllers"):
        assert getattr(host, field) == getattr(preset, field), field
    assert dict(host.cgroup_mounts) == dict(preset.cgroup_mounts) == {}
    assert host.kernel[:2] == preset.kernel[:2]
