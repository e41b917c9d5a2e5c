"""Every signal back to its default action before a container process (or hook) execs.

WHY: an ignored signal stays ignored across execve. Python ignores SIGPIPE and
SIGXFSZ, and a runtime started with SIGINT or SIGQUIT ignored (a shell's
background job, nohup) passed that on, so the container process never saw the
SIGINT ``ocitool exec`` forwarded to it. runc's init is a Go program that
catches every signal, so under runc the container process starts with no
signal ignored (its /proc/self/status shows ``SigIgn: 0``); so does ours.
"""

from __future__ import annotations

import _signal as signal  # the C module: "signal" imports enum (hot path)

_UNCATCHABLE = (signal.SIGKILL, signal.SIGSTOP)


def reset_dispositions() -> None:
    """SIG_DFL for every catchable signal, and an empty signal mask."""
    for sig in signal.valid_signals():
        if sig in _UNCATCHABLE:
            continue
        try:  # noqa: SIM105 - contextlib is an import on the hot path
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):  # 32, 33: reserved by the C library
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
