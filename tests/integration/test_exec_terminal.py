"""process.terminal: with a terminal on stdin, the container gets a pty of its own."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_foreground_pty(bundle_factory: Callable[..., Path], state_root: Path) -> None:
    bundle = bundle_factory(
        ["sh", "-c", "test -t 0 && test -t 1 && echo TTY-OK; stty size; echo done"],
        process={"terminal": True, "consoleSize": {"height": 30, "width": 100}},
    )
    master, slave = os.openpty()
    cmd = [sys.executable, "-m", "ocitool.cli.main", "exec", "--root", str(state_root), str(bundle)]
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    assert proc.wait(timeout=30) == 0, out
    text = out.decode(errors="replace")
    assert "TTY-OK" in text and "done" in text, text
