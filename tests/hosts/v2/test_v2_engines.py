"""What engines call beyond the lifecycle, on a pure cgroup v2 kernel with AppArmor:
``events`` (``--stats`` and the stream with OOM notifications) and AppArmor profiles,
each for ocitool-runc and runc side by side.

Runs inside the QEMU test host (see conftest.py), whose Debian kernel has AppArmor
enabled (``/sys/module/apparmor/parameters/enabled`` is ``Y``); this machine has
no AppArmor, so only here can a profile be written for real.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.hosts.v2.test_v2_runtime import LOOP, RUNTIMES, Runtime, bundle
from tests.hosts.v2.test_v2_runtime import rt as rt  # noqa: F401 - the fixture, each runtime

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
LIMITS = {"memory": {"limit": 16 * MiB, "swap": 16 * MiB}, "pids": {"limit": 50}}


def started(rt: Runtime, tmp_path: Path, cid: str, **changes: Any) -> None:
    """A running LOOP container with LIMITS in its own cgroup, past its first output."""
    b = bundle(tmp_path, cid, LOOP, linux={"resources": LIMITS, **changes})
    rt.create(b, cid)
    rt.ok("start", cid)
    out = rt.logs / f"out{rt.n}"
    deadline = time.monotonic() + 60
    while "started" not in out.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "started" in out.read_text()


def missing(ours: Any, theirs: Any, at: str = "") -> list[str]:
    """The paths of runc's JSON that ours lacks or types differently. Ours may carry
    more: the fields newer runc reads on v2 (psi, cpuset's cpus/mems, memory.peak as
    usage.max), which runc 1.1 does not."""
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [at or "/"]
        return [p for k, v in theirs.items() for p in missing(ours.get(k), v, f"{at}/{k}")]
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [at]
        return missing(ours[0], theirs[0], f"{at}/0") if theirs and ours else []
    return [] if type(ours) is type(theirs) else [at]


# ------------------------------------------------------------------ events --stats
def test_events_stats_reads_the_v2_cgroup(tmp_path: Path) -> None:
    """One stats event each, read from the v2 files (memory.max, pids.max, pids.current),
    and ours has every field of runc's, with the same JSON types."""
    data = {}
    for name in RUNTIMES:
        (tmp_path / name / "logs").mkdir(parents=True)
        rt = Runtime(name, tmp_path / name / "root", tmp_path / name / "logs")
        try:
            cid = f"evst-{name}"
            started(rt, tmp_path / name, cid)
            event = json.loads(rt.ok("events", "--stats", cid))
            assert (event["type"], event["id"]) == ("stats", cid), event
            got = event["data"]
            assert got["memory"]["usage"]["limit"] == 16 * MiB, (name, got["memory"])
            assert got["memory"]["usage"]["usage"] > 0, (name, got["memory"])
            assert got["pids"] == {"current": 2, "limit": 50}, (name, got["pids"])  # sh, sleep
            assert got["cpu"]["usage"]["total"] > 0, (name, got["cpu"])
            data[name] = got
        finally:
            rt.cleanup()
    assert missing(data["ocitool-runc"], data["runc"]) == []


# ------------------------------------------------------------------ events stream, OOM
def test_events_stream_reports_oom_and_ends(rt: Runtime, tmp_path: Path) -> None:
    """``events --interval``: stats ticks and an ``oom`` event when the OOM killer acts in
    the container (memory.events' oom_kill), and the stream ends when it stops."""
    cid = f"evoom-{rt.name}"
    started(rt, tmp_path, cid)
    stream = subprocess.Popen(
        [*rt.argv, "events", "--interval", "1s", cid],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)  # the stream is set up (slow under TCG) before the OOM
        hog = rt("exec", cid, "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
        assert hog.returncode == 137, hog.stderr  # the OOM killer's SIGKILL
        time.sleep(3)
        if rt.status(cid) != "stopped":  # the OOM may have taken the shell too
            rt.ok("kill", cid, "KILL")
        stdout, stderr = stream.communicate(timeout=120)
    finally:
        if stream.poll() is None:
            stream.kill()
            stream.wait()
    events = [json.loads(line) for line in stdout.splitlines()]
    kinds = [e["type"] for e in events]
    assert "oom" in kinds and "stats" in kinds, (kinds, stderr)
    assert all(e["id"] == cid for e in events)
    assert stream.returncode == 0, stderr  # the stream ends, cleanly, when the container does


# ------------------------------------------------------------------ AppArmor
def test_apparmor_is_enabled_in_this_guest() -> None:
    """The premise of the two tests below (Debian's kernel enables AppArmor by default)."""
    assert Path("/sys/module/apparmor/parameters/enabled").read_text().strip() == "Y"


def test_missing_apparmor_profile_fails_create(rt: Runtime, tmp_path: Path) -> None:
    """A profile the kernel has not loaded fails ``create`` (as runc's and crun's), with
    the profile named, and leaves no container behind; not the process after ``start``."""
    cid = f"aamiss-{rt.name}"
    b = bundle(tmp_path, cid, ["true"], process={"apparmorProfile": "ocitool-no-such-profile"})
    proc = rt("create", "--bundle", str(b), cid)
    assert proc.returncode != 0, proc.stderr
    if rt.name == "ocitool-runc":
        assert "/proc/self/attr/apparmor/exec" in proc.stderr, proc.stderr
        assert "ENOENT" in proc.stderr and "/process/apparmorProfile" in proc.stderr, proc.stderr
    assert cid not in rt("list", "-q").stdout.split()


def test_unconfined_apparmor_profile_is_applied(rt: Runtime, tmp_path: Path) -> None:
    """``unconfined`` always exists: the process runs under it (its own attr says so)."""
    cid = f"aaunc-{rt.name}"
    b = bundle(
        tmp_path,
        cid,
        ["cat", "/proc/self/attr/current"],
        process={"apparmorProfile": "unconfined"},
    )
    rt.create(b, cid)
    rt.ok("start", cid)
    assert rt.wait_status(cid, "stopped", timeout=60) == "stopped"
    assert (rt.logs / f"out{rt.n}").read_text().strip() == "unconfined"
