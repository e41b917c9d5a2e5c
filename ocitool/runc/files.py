"""Small host writes ocitool-runc makes: pid files and saved configs, both atomic.

conmon and containerd's shim read ``--pid-file`` as soon as the runtime
exits; a reader must never see a half-written pid, so (as runc does) the
file is written under a temporary name in the same directory and renamed.
"""

from __future__ import annotations

import os


def write_atomic(path: str, data: bytes, mode: int = 0o644) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, data)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.rename(tmp, path)


def write_pid_file(path: str, pid: int) -> None:
    """runc writes the bare pid with no newline."""
    write_atomic(os.path.abspath(path), str(pid).encode())
