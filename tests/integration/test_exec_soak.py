"""Soak: 200 sequential runs and 8 concurrent lifecycles leave nothing behind.

Counted before and after: the driver's open fds, zombies, the containers'
cgroup directories, host mounts, state directories. Bounded to about a minute.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import REPO

pytestmark = pytest.mark.integration

DRIVER = str(REPO / "tests" / "helpers_exec" / "soak.py")
ENV = {"PYTHONPATH": str(REPO), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def _host_counts(prefix: str, bundle: Path) -> tuple[int, int]:
    """Host mounts that involve the bundle (other tests may mount elsewhere meanwhile)
    and the containers' cgroup directories."""
    with open("/proc/self/mountinfo") as f:
        mounts = sum(1 for line in f if str(bundle) in line)
    return mounts, len(glob.glob(f"/sys/fs/cgroup/*/ocitool/{prefix}*"))


def test_200_sequential_runs(bundle_factory: Callable[..., Path], state_root: Path) -> None:
    bundle = bundle_factory(["sh", "-c", "exit 7"])
    prefix = f"soak{os.getpid()}-"  # cgroup paths are host-wide: unique to this test run
    mounts_before, _ = _host_counts(prefix, bundle)
    proc = subprocess.run(
        [sys.executable, DRIVER, "seq", str(bundle), str(state_root), "200", prefix],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["codes"] == [7]
    assert report["fds"][0] == report["fds"][1], "fds leaked in the runtime"
    assert report["zombies"] == 0
    assert _host_counts(prefix, bundle) == (mounts_before, 0)
    assert list(state_root.iterdir()) == []


def test_8_concurrent_lifecycles(bundle_factory: Callable[..., Path], state_root: Path) -> None:
    bundle = bundle_factory(["sh", "-c", "sleep 0.3; exit 5"])
    prefix = f"conc{os.getpid()}-"  # cgroup paths are host-wide: unique to this test run
    mounts_before, _ = _host_counts(prefix, bundle)
    procs = [
        subprocess.Popen(
            [sys.executable, DRIVER, "lifecycle", str(bundle), str(state_root), f"{prefix}{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for i in range(8)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        report = json.loads(out)
        assert report["statuses"] == ["created", "running", "stopped"]
        assert report["exit"] == 5
        assert report["problems"] == []
        assert report["zombies"] == 0
    assert _host_counts(prefix, bundle) == (mounts_before, 0)
    assert list(state_root.iterdir()) == []
