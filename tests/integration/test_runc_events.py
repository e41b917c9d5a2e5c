"""``ocitool-runc events``: ``--stats`` in runc's JSON shape, streaming with ``--interval``,
OOM notifications, and the end of the stream when the container stops."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_runc_lifecycle import (
    LOOP,
    Runtime,
    S,
    runtime_command,
    wait_file,
)

pytestmark = pytest.mark.integration

LIMITS = {"memory": {"limit": 16 << 20, "swap": 16 << 20}, "pids": {"limit": 50}}


def shape(value: Any) -> Any:
    """Keys and value types, the lists reduced to their first element's shape."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_stats_has_runcs_shape(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    runc = shutil.which("runc")
    assert runc, "runc is not installed"
    bundle = bundle_factory(LOOP, linux={"resources": LIMITS})
    cid = f"ev{S}"
    out, _ = rt.create(bundle, cid)
    assert rt("start", cid).returncode == 0
    wait_file(out, "started")
    ours = rt("events", "--stats", cid)
    assert ours.returncode == 0, ours.stderr
    event = json.loads(ours.stdout)
    assert (event["type"], event["id"]) == ("stats", cid)
    data = event["data"]
    assert data["memory"]["usage"]["limit"] == 16 << 20 and data["pids"]["limit"] == 50
    assert data["pids"]["current"] == 2  # sh and its sleep
    root = tmp_path / "real-runc-root"
    rid = f"evr{S}"
    with open(tmp_path / "runc.out", "w") as log:
        started = subprocess.run(
            [runc, "--root", str(root), "run", "-d", rid],
            cwd=bundle,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            timeout=60,
        )
    assert started.returncode == 0, (tmp_path / "runc.out").read_text()
    try:
        wait_file(tmp_path / "runc.out", "started")
        theirs = subprocess.run(
            [runc, "--root", str(root), "events", "--stats", rid],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert theirs.returncode == 0, theirs.stderr
    finally:
        subprocess.run([runc, "--root", str(root), "delete", "--force", rid], capture_output=True)
    assert shape(data) == shape(json.loads(theirs.stdout)["data"])


def test_stream_oom_and_end(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    cid = f"evs{S}"
    out, _ = rt.create(bundle_factory(LOOP, linux={"resources": LIMITS}), cid)
    assert rt("start", cid).returncode == 0
    wait_file(out, "started")
    cmd = [*runtime_command(), "--root", str(rt.root), "events", "--interval", "300ms", cid]
    stream = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        hog = rt("exec", cid, "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
        assert hog.returncode == 137, hog.stderr  # the OOM killer's SIGKILL
        time.sleep(0.7)
        assert rt("kill", cid, "KILL").returncode == 0
        stdout, stderr = stream.communicate(timeout=30)
    finally:
        if stream.poll() is None:
            stream.kill()
            stream.wait()
    assert stream.returncode == 0, stderr
    events = [json.loads(line) for line in stdout.splitlines()]
    kinds = [e["type"] for e in events]
    # v1 signals each OOM the memcg enters (often several for one allocation), as runc shows
    assert kinds.count("oom") >= 1 and kinds.count("stats") >= 2, kinds
    assert all(e["id"] == cid for e in events)
    stopped = rt("events", "--stats", cid)
    assert stopped.returncode != 0 and "is not running" in stopped.stderr
    bad = rt("events", "--interval", "0s", cid)
    assert bad.returncode != 0 and "greater than 0" in bad.stderr
