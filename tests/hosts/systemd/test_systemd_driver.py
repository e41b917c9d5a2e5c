"""The systemd cgroup driver against a real systemd (PID 1 of the guest), runc beside it.

Runs inside the systemd test host (see conftest.py). Every container here is
made with ``--systemd-cgroup`` and a ``slice:prefix:name`` cgroupsPath, as podman,
containerd and CRI-O pass them on systemd hosts; what systemd made of it is read
back with ``systemctl show`` and from the cgroup files, so a property the runtime
sent wrongly (name, type, unit) fails here even where the fake systemd of the
unit tests accepted it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.v2.test_v2_runtime import (
    LOOP,
    RUNTIMES,
    MiB,
    Runtime,
    bundle,
    expected_weight,
    ocitool,
    ocitool_runc,
    read,
)

pytestmark = pytest.mark.integration

CGROUP = Path("/sys/fs/cgroup")
SHORT = {"ocitool-runc": "oci", "runc": "runc"}
SHOWN = (
    "LoadState",
    "ActiveState",
    "ControlGroup",
    "Slice",
    "Delegate",
    "MemoryMax",
    "TasksMax",
    "CPUWeight",
    "CPUQuotaPerSecUSec",
    "CPUQuotaPeriodUSec",
    "AllowedCPUs",
    "AllowedMemoryNodes",
    "DevicePolicy",
    "TimeoutStopUSec",
)


def show(unit: str, *props: str) -> dict[str, str]:
    """``systemctl show`` of ``unit``: {property: value} (a missing unit: LoadState not-found)."""
    out = subprocess.run(
        ["systemctl", "show", *(f"--property={p}" for p in props or SHOWN), "--", unit],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def wait_stopped(rt: Runtime, cid: str, cg: Path, timeout: float = 30) -> str:
    """The status once the scope emptied; systemd may remove an empty scope's cgroup at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            if "populated 1" in read(cg, "cgroup.events"):
                time.sleep(0.05)
                continue
        break
    return rt.wait_status(cid, "stopped", timeout)


def gone(unit: str, timeout: float = 20) -> bool:
    """The unit was unloaded (systemd collects a stopped transient unit)."""
    deadline = time.monotonic() + timeout
    while show(unit, "LoadState")["LoadState"] != "not-found":
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_systemd_is_pid1_and_answers_on_the_bus() -> None:
    """The guest is what the other tests need: systemd as init, its D-Bus API reachable,
    and ``features`` says the driver is there."""
    assert Path("/proc/1/comm").read_text().strip() == "systemd"
    assert Path("/run/systemd/system").is_dir()
    assert show("-.slice", "ActiveState")["ActiveState"] == "active"
    features = subprocess.run(
        [*ocitool_runc(), "features"], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(features.stdout)["linux"]["cgroup"]["systemd"] is True


@pytest.fixture(params=list(RUNTIMES))
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime that passes --systemd-cgroup (a global flag, before the command)."""
    (tmp_path / "logs").mkdir()
    runtime = Runtime(request.param, tmp_path / "root", tmp_path / "logs")
    runtime.argv.append("--systemd-cgroup")
    yield runtime
    runtime.cleanup()


def test_unit_properties_cgroup_and_lifecycle(rt: Runtime, tmp_path: Path) -> None:
    """create makes ``prefix-name.scope`` in the nested slice with the limits as properties;
    the init is in it; pause/resume/update/kill/delete work and delete unloads the unit."""
    tag = SHORT[rt.name]
    cid = f"life-{tag}"
    unit = f"sdtest-{cid}.scope"
    cgroup = f"/sdtest.slice/sdtest-{tag}.slice/{unit}"
    resources = {
        "devices": [{"allow": False, "access": "rwm"}],
        "memory": {"limit": 64 * MiB},
        "pids": {"limit": 64},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "1", "mems": "0"},
    }
    b = bundle(
        tmp_path,
        "b",
        LOOP,
        linux={"cgroupsPath": f"sdtest-{tag}.slice:sdtest:{cid}", "resources": resources},
        annotations={"org.systemd.property.TimeoutStopSec": "uint64 17"},
    )
    rt.create(b, cid)
    props = show(unit)
    assert props["LoadState"] == "loaded" and props["ActiveState"] == "active", props
    assert props["ControlGroup"] == cgroup, props
    assert props["Slice"] == f"sdtest-{tag}.slice" and props["Delegate"] == "yes", props
    assert props["MemoryMax"] == str(64 * MiB) and props["TasksMax"] == "64", props
    assert int(props["CPUWeight"]) in expected_weight(rt.name, 512), props
    assert props["CPUQuotaPerSecUSec"] == "500ms", props
    assert props["CPUQuotaPeriodUSec"] == "100ms", props
    assert props["AllowedCPUs"] == "1" and props["AllowedMemoryNodes"] == "0", props
    assert props["DevicePolicy"] == "strict", props
    assert props["TimeoutStopUSec"] == "17s", props  # from the annotation
    pid = json.loads(rt.ok("state", cid))["pid"]
    assert Path(f"/proc/{pid}/cgroup").read_text().strip() == f"0::{cgroup}"
    cg = CGROUP / cgroup.lstrip("/")
    assert read(cg, "memory.max") == str(64 * MiB) and read(cg, "pids.max") == "64"
    assert read(cg, "cpu.max") == "50000 100000" and read(cg, "cpuset.cpus") == "1"

    rt.ok("start", cid)
    assert rt.wait_status(cid, "running") == "running"
    rt.ok("pause", cid)
    assert read(cg, "cgroup.freeze") == "1" and rt.status(cid) == "paused"
    rt.ok("resume", cid)
    assert read(cg, "cgroup.freeze") == "0" and rt.status(cid) == "running"

    rt.ok("update", "--memory", str(128 * MiB), "--pids-limit", "100", cid)
    props = show(unit, "MemoryMax", "TasksMax")
    assert props == {"MemoryMax": str(128 * MiB), "TasksMax": "100"}
    assert read(cg, "memory.max") == str(128 * MiB) and read(cg, "pids.max") == "100"

    rt.ok("kill", cid, "KILL")
    assert wait_stopped(rt, cid, cg) == "stopped"
    rt.ok("delete", cid)
    assert gone(unit), show(unit)
    assert not cg.exists()


def test_default_unit_and_delete_force_of_a_running_container(rt: Runtime, tmp_path: Path) -> None:
    """No cgroupsPath: ``runc-<id>.scope`` in system.slice, as runc names it. ``delete
    --force`` of the running container stops the unit at once: processes and scope go."""
    cid = f"force-{SHORT[rt.name]}"
    unit = f"runc-{cid}.scope"
    rt.create(bundle(tmp_path, "b", LOOP), cid)
    rt.ok("start", cid)
    pid = json.loads(rt.ok("state", cid))["pid"]
    props = show(unit, "ActiveState", "ControlGroup")
    assert props == {"ActiveState": "active", "ControlGroup": f"/system.slice/{unit}"}
    assert Path(f"/proc/{pid}/cgroup").read_text().strip() == f"0::/system.slice/{unit}"
    deleted = rt("delete", "--force", cid)
    # no warning: the init is killed before the unit is stopped, so systemd's stop job
    # ends at once (stopped first, the init ignores SIGTERM and the job outlasts our wait)
    assert deleted.returncode == 0 and "warn" not in deleted.stderr, deleted.stderr
    assert gone(unit), show(unit)
    assert not Path(f"/proc/{pid}").exists()
    assert not (CGROUP / "system.slice" / unit).exists()


def test_killed_create_leaves_no_unit(tmp_path: Path) -> None:
    """ocitool-runc SIGKILLed mid-create (its createRuntime hook runs, the unit exists):
    no undo runs, but the init dies with it (parent death signal) and systemd collects
    the empty scope; ``delete --force`` then removes the state."""
    runtime = Runtime("ocitool-runc", tmp_path / "root", tmp_path)
    hook_pid = tmp_path / "hook.pid"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\necho $$ > {hook_pid}\nexec sleep 120\n")
    hook.chmod(0o755)
    cid = "half-oci"
    unit = f"sdtest-{cid}.scope"
    b = bundle(
        tmp_path,
        "b",
        ["true"],
        linux={"cgroupsPath": f"system.slice:sdtest:{cid}"},
        hooks={"createRuntime": [{"path": str(hook)}]},
    )
    create = subprocess.Popen(
        [*runtime.argv, "--systemd-cgroup", "create", "--bundle", str(b), cid],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not hook_pid.exists() or not hook_pid.read_text().strip():
            assert time.monotonic() < deadline and create.poll() is None
            time.sleep(0.1)
        assert show(unit, "ActiveState")["ActiveState"] == "active"
        os.kill(create.pid, signal.SIGKILL)
        create.wait(30)
    finally:
        if hook_pid.exists() and hook_pid.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(hook_pid.read_text()), signal.SIGKILL)
    assert gone(unit), show(unit)
    assert not (CGROUP / "system.slice" / unit).exists()
    runtime.ok("delete", "--force", cid)
    assert not (tmp_path / "root" / cid).exists()


def test_ocitool_exec_systemd_cgroup(tmp_path: Path) -> None:
    """``ocitool exec --systemd-cgroup``: the container runs in its scope, which goes after."""
    unit = "sdtest-exec.scope"
    b = bundle(
        tmp_path,
        "b",
        ["cat", "/proc/self/cgroup"],
        linux={"cgroupsPath": "system.slice:sdtest:exec", "resources": {"pids": {"limit": 32}}},
    )
    proc = subprocess.run(
        [*ocitool(), "exec", "--systemd-cgroup", "--root", str(tmp_path / "root"), str(b)],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"0::/system.slice/{unit}"
    assert gone(unit), show(unit)


# ------------------------------------------------------------------ podman
IMAGE = "localhost/bb"


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """podman with its default (systemd) cgroup manager and ocitool-runc as runtime.

    Storage: vfs under the guest's /tmp (a tmpfs; overlayfs there would stack on
    the guest's own overlay root). No registry: a busybox image is imported.
    """
    from tests.helpers_exec.bundle import make_rootfs
    from tests.integration.test_runc_lifecycle import runtime_binary

    assert shutil.which("podman"), "podman is not installed"
    base = tmp_path_factory.mktemp("podman")
    cmd = [
        "podman",
        "--root",
        str(base / "root"),
        "--runroot",
        str(base / "runroot"),
        "--storage-driver",
        "vfs",
        "--events-backend",
        "file",
        "--cgroup-manager",
        "systemd",
        "--runtime",
        runtime_binary(base),
    ]
    rootfs = make_rootfs(base / "rootfs")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(
        [*cmd, "import", "-", IMAGE], stdin=tar.stdout, capture_output=True, text=True, timeout=300
    )
    tar.wait()
    assert imported.returncode == 0, imported.stderr
    yield cmd
    subprocess.run(
        [*cmd, "rm", "--all", "--force", "--time", "0"], capture_output=True, timeout=300
    )


def podman_run(cmd: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, "run", "--rm", "--network", "none", "--log-driver", "k8s-file", *args],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def libpod_units() -> list[str]:
    out = subprocess.run(
        ["systemctl", "list-units", "--all", "--plain", "--no-legend", "libpod-*"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def test_podman_systemd_cgroup_manager_runs_rm_containers(podman: list[str]) -> None:
    """``podman --cgroup-manager systemd --runtime ocitool-runc run --rm``: the container
    is in ``machine.slice/libpod-<id>.scope``, exit codes come back, no unit is left."""
    proc = podman_run(podman, "--cgroupns", "host", IMAGE, "cat", "/proc/self/cgroup")
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"0::/machine\.slice/libpod-[0-9a-f]{64}\.scope", proc.stdout.strip()), (
        proc.stdout
    )
    limited = podman_run(
        podman,
        *("--memory", "64m", "--pids-limit", "50", IMAGE),
        *("sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; exit 3"),
    )
    assert limited.returncode == 3, limited.stderr
    assert limited.stdout.split() == [str(64 * MiB), "50"], limited.stdout
    deadline = time.monotonic() + 20
    while libpod_units() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert libpod_units() == []
