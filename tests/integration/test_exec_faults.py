"""Fault injection: make each op of a rich plan fail in turn; nothing may be left behind.

For every op index k, FaultSyscalls fails op k (in whichever process applies
it). The run must fail with an error naming op k, and leave no cgroup
directory, state directory, host mount or process behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers_exec.bundle import rich_changes
from tests.integration.conftest import REPO, ocitool_exec_cmd

TERM1 = f"term1-{os.getpid()}"  # cgroup paths are host-wide: unique per run

pytestmark = pytest.mark.integration


def test_every_op_fails_cleanly(bundle_factory: Callable[..., Path], state_root: Path) -> None:
    bundle = bundle_factory(["sh", "-c", "echo hi"], **rich_changes())
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "tests" / "helpers_exec" / "faults.py"),
            str(bundle),
            str(state_root),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) > 100  # the rich plan has well over a hundred ops
    phases = {r["phase"] for r in rows}
    assert {
        "create.runtime",
        "create.spawn",
        "create.init",
        "create.pivot",
        "exec",
        "delete",
    } <= phases
    for r in rows:
        where = f"op #{r['k']} {r['op']} ({r['text']})"
        if r["op"] == "hook" and r["phase"] in ("hooks.poststart", "hooks.poststop"):
            # runtime-spec: a failing poststart/poststop hook is a warning; its pipe failed
            assert r["rc"] == 0, f"{where}: a failing {r['phase']} hook stopped the run"
            assert "hook: ocitool: error OCI501: pipe2(0x80000) failed: EIO" in proc.stderr
        else:
            assert r["rc"] is None, f"{where}: the run succeeded despite the fault"
            assert f"op #{r['k']} {r['op']} " in r["error"], f"{where}: error was {r['error']!r}"
        assert r["cgroups"] == [], f"{where}: leftover cgroups {r['cgroups']}"
        assert not r["state"], f"{where}: leftover state"
        assert r["mounts"] == 0, f"{where}: host mount count changed by {r['mounts']}"
        assert r["children"] == [], f"{where}: leftover processes {r['children']}"


def test_sigterm_during_create_unwinds(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    """SIGTERM while a createRuntime hook runs: the hook is killed and everything undone."""
    import glob
    import signal
    import time

    bundle = bundle_factory(
        ["true"],
        hooks={
            "createRuntime": [
                {
                    "path": "/bin/sh",
                    "args": [
                        "sh",
                        "-c",
                        "echo hooked > $0; exec sleep 29.4317",
                        str(state_root / "marker"),
                    ],
                }
            ]
        },
    )
    cmd = ocitool_exec_cmd(bundle, state_root, "--id", TERM1)
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not (state_root / "marker").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (state_root / "marker").exists(), "the hook never ran"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert glob.glob(f"/sys/fs/cgroup/*/ocitool/{TERM1}") == []
    assert not (state_root / TERM1).exists()
    sleepers = subprocess.run(["pgrep", "-f", "sleep 29.4317"], capture_output=True)
    assert sleepers.stdout == b""
