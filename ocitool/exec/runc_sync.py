"""Let ``create`` exit only once the init no longer depends on it.

The executor's init runs with PR_SET_PDEATHSIG(SIGKILL) while it is set up
(it must die with a runtime that dies half-way), and clears it just after
reporting "created", before it blocks opening the exec fifo. A ``create``
that exits in that window takes the container with it. Until the executor
clears the signal before its report, ``create`` waits here until the
kernel shows the init sleeping in the fifo's open (``wait_for_partner``),
which happens after the clear.
"""

from __future__ import annotations

import os
import time

FIFO_WAIT = b"wait_for_partner"


def wait_for_fifo_open(pid: int, timeout: float = 2.0) -> bool:
    """True once ``pid`` sleeps in a fifo open; False on timeout or if it is gone."""
    deadline = time.monotonic() + timeout
    delay = 0.0002
    path = f"/proc/{pid}/wchan"
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            wchan = os.read(fd, 64)
        finally:
            os.close(fd)
        if wchan == FIFO_WAIT:
            return True
        if wchan in (b"", b"0") and delay > 0.01:
            return False  # wchan hidden by the kernel: nothing to wait for
        if time.monotonic() > deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.005)
