"""Failures of the ops that run after ``start`` are not silent.

What can be checked at create is checked there, as runc's create does (the
executable, and capabilities the runtime cannot grant). What still fails after
``start`` fails ``start`` itself (the init reports it on the exec fifo that
``start`` reads to EOF; test_check_after_start.py checks the explanation), and is
also written to the container's stderr, where engines collect the container's
output (conmon's log, the shim's fifos).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import REPO

pytestmark = pytest.mark.integration


def _runc(
    root: Path, *args: str, prefix: tuple[str, ...] = (), **kw: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "ocitool.cli.runc", "--root", str(root), *args],
        text=True,
        timeout=60,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        **kw,  # type: ignore[call-overload]
    )


def test_exec_phase_failure_after_start_reaches_the_container_stderr(
    bundle_factory: Callable[..., Path], state_root: Path, tmp_path: Path
) -> None:
    bundle = bundle_factory(["/bin/vanishing"])
    exe = bundle / "rootfs" / "bin" / "vanishing"
    os.link(bundle / "rootfs" / "bin" / "busybox", exe)
    cid = f"poststart{os.getpid()}"
    err = tmp_path / "container-stderr"
    with open(err, "w") as f:
        made = _runc(state_root, "create", "--bundle", str(bundle), cid, stdout=f, stderr=f)
    assert made.returncode == 0, err.read_text()  # the executable exists at create
    try:
        exe.unlink()  # ... and is gone by the time the init looks for it again
        started = _runc(state_root, "start", cid, capture_output=True)
        assert started.returncode == 1, started.stderr
        assert "execve" in started.stderr and "ENOENT" in started.stderr, started.stderr
        deadline = time.monotonic() + 10
        while "vanishing" not in err.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        text = err.read_text()
        assert f"ocitool: container {cid}: op #" in text, text
        assert "execve" in text and "/bin/vanishing" in text and "ENOENT" in text, text
    finally:
        _runc(state_root, "delete", "--force", cid, capture_output=True)


def test_create_refuses_capabilities_the_runtime_does_not_hold(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    caps = ["CAP_CHOWN", "CAP_SYS_NICE"]
    sets = {k: caps for k in ("bounding", "effective", "permitted")}
    bundle = bundle_factory(["true"], process={"capabilities": sets})
    cid = f"capsfail{os.getpid()}"
    # the runtime runs without CAP_SYS_NICE (as root here lacks CAP_SYS_RESOURCE)
    without = ("setpriv", "--bounding-set", "-sys_nice", "--")
    made = _runc(
        state_root, "create", "--bundle", str(bundle), cid, prefix=without, capture_output=True
    )
    try:
        assert made.returncode == 1, made.stderr
        assert "unable to apply caps" in made.stderr and "CAP_SYS_NICE" in made.stderr
        assert "capabilities" in made.stderr, made.stderr  # the op is named
        gone = _runc(state_root, "state", cid, capture_output=True)
        assert gone.returncode == 1 and "does not exist" in gone.stderr  # nothing left
    finally:
        _runc(state_root, "delete", "--force", cid, capture_output=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # the init keeps them
    ok = _runc(state_root, "create", "--bundle", str(bundle), cid, **quiet)
    try:  # the same config with a runtime that holds the cap is fine
        assert ok.returncode == 0
    finally:
        _runc(state_root, "delete", "--force", cid, capture_output=True)
