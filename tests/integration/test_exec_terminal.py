"""process.terminal: with a terminal on stdin, the container gets a pty of its own."""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import ocitool_exec_cmd

pytestmark = pytest.mark.integration


def test_foreground_pty(bundle_factory: Callable[..., Path], state_root: Path) -> None:
    bundle = bundle_factory(
        ["sh", "-c", "test -t 0 && test -t 1 && echo TTY-OK; stty size; echo done"],
        process={"terminal": True, "consoleSize": {"height": 30, "width": 100}},
    )
    status, text = _run_on_pty(ocitool_exec_cmd(bundle, state_root))
    assert status == 0, text
    assert "TTY-OK" in text and "done" in text, text


def _run_on_pty(cmd: list[str], rows: int = 0, cols: int = 0) -> tuple[int, str]:
    """Run ``cmd`` with a pty (from the ``pty`` module) as its stdio: (status, output)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(
        cmd, stdin=slave, stdout=slave, stderr=slave, close_fds=True, start_new_session=True
    )
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 60
    try:
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
    finally:
        os.close(master)
    return proc.wait(timeout=30), out.decode(errors="replace")


def test_foreground_pty_comes_from_the_containers_devpts(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    """As runc: the pty is allocated in the container's devpts, so ttyname() finds it."""
    bundle = bundle_factory(
        ["sh", "-c", "tty; ls /dev/pts; stty size; echo done"],
        process={"terminal": True, "consoleSize": {"height": 30, "width": 100}},
    )
    cmd = ocitool_exec_cmd(bundle, state_root)
    code, text = _run_on_pty(cmd)
    assert code == 0, text
    lines = text.replace("\r", "").split("\n")
    assert lines[0] == "/dev/pts/0", text
    assert lines[1].split() == ["0", "ptmx"], text  # only the container's own pty
    assert lines[2] == "30 100" and "done" in text, text  # a 0x0 terminal: consoleSize
    code, text = _run_on_pty(cmd, rows=50, cols=132)
    assert code == 0 and "\n50 132\r\n" in text, text  # the user's terminal size wins
