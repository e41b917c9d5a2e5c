"""How a detached init tells ``start`` that it failed after the release.

After ``start`` opens the exec fifo, the init runs the plan's exec phase (user,
capabilities, cwd, seccomp, execve) while ``start`` reads the fifo to EOF: the
init holds the write end, close-on-exec, so EOF means the process was executed
or the init died. Without a report, an init that died there left ``start``
returning 0 and the engine with nothing to show. So the init writes, after the
``0`` that marks the release, one record naming the op that failed, and
``start`` turns it into the same error ``ocitool exec`` gives (op, config
pointer, then the check's explanation with line:col).

The record is ``F<op index>\\0<errno>\\0<config pointer>\\0<message>`` in UTF-8
(the message as :func:`~ocitool.exec.syscalls.op_error` words it in the init, which
has the plan it ran): plain bytes, because after pivot_root the init may no longer
import json.
"""

from __future__ import annotations

import os

RELEASED = b"0"
_FAILED = b"F"
_MAX_TEXT = 16384


class InitFailure:
    """What the init reported: the failed op's index (-1: none), errno, pointer, message."""

    __slots__ = ("index", "errno", "pointer", "message")

    def __init__(self, index: int, errno: int, pointer: str, message: str) -> None:
        self.index, self.errno, self.pointer, self.message = index, errno, pointer, message


def report_after_start(fd: int, index: int, errno: int, pointer: str, message: str) -> None:
    """In the init, on its way out: write the failure record (best effort: the init is
    dying, and the container's stderr still gets the message)."""
    if fd < 0:
        return
    record = f"{index}\0{errno}\0{pointer}\0{message}"
    body = record.encode("utf-8", "surrogateescape")[:_MAX_TEXT]
    data = _FAILED + body
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        pass


def read_to_eof(fd: int) -> bytes:
    """In ``start``: everything the init wrote to the fifo until it executed or died."""
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def parse(data: bytes) -> InitFailure | None:
    """The failure in what ``read_to_eof`` returned, or None (released and executed).

    Anything that is not a well-formed record after the release byte is reported
    as a failure of an unknown op rather than ignored.
    """
    rest = data[len(RELEASED) :] if data.startswith(RELEASED) else data
    if not rest:
        return None
    if rest.startswith(_FAILED):
        parts = rest[len(_FAILED) :].split(b"\0", 3)
        if len(parts) == 4 and parts[0].lstrip(b"-").isdigit() and parts[1].isdigit():
            pointer, message = (x.decode("utf-8", "replace") for x in parts[2:])
            return InitFailure(int(parts[0]), int(parts[1]), pointer, message)
    what = f"unexpected bytes from the init on the exec fifo: {rest[:64]!r}"
    return InitFailure(-1, 0, "", what)
