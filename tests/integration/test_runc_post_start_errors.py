"""A detached container whose init fails after ``start`` says why on its stderr.

After ``create`` returns nobody reads the init's report pipe: engines collect the
container's output instead (conmon's log, the shim's fifos), so that is where the
failure of an exec-phase op must appear, naming the op, rather than nowhere.
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


def _runc(root: Path, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocitool.cli.runc", "--root", str(root), *args],
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
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 10
        while "vanishing" not in err.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        text = err.read_text()
        assert f"ocitool: container {cid}: op #" in text, text
        assert "execve" in text and "/bin/vanishing" in text and "ENOENT" in text, text
    finally:
        _runc(state_root, "delete", "--force", cid, capture_output=True)
