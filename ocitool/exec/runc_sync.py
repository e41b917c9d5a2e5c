"""Kept for callers: ``create`` no longer needs to wait for the init after it returns.

The init used to clear PR_SET_PDEATHSIG only after reporting "created", so
a ``create`` that exited at once could take the container with it, and the
runtime polled ``/proc/PID/wchan`` until the init slept in the fifo's open.
Now :func:`ocitool.exec.lifecycle.create` returns only after the init has
cleared the signal and confirmed it (the ``K``/``C`` exchange in
:mod:`ocitool.exec.process`), so there is nothing left to wait for.
"""

from __future__ import annotations


def wait_for_fifo_open(pid: int, timeout: float = 2.0) -> bool:
    """No wait needed any more (see the module docstring); True while ``pid`` exists."""
    del timeout
    try:
        with open(f"/proc/{pid}/stat", "rb"):
            return True
    except OSError:
        return False
