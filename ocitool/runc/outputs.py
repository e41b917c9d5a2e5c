"""The outputs a command will write or connect to, checked before anything starts.

WHY: ``exec --pid-file /missing/dir/p`` used to start the process, fail to
write the pid file, exit with an internal error and leave the process running.
runc kills what it started when the pid file cannot be written; we go one
step further and refuse before starting, so a bad flag starts nothing. What
can still fail late (a full disk, a socket that stops listening) is handled by
the caller, which kills and reaps what it started (docs/runc.md).
"""

from __future__ import annotations

import os

from ocitool.runc.errs import usage_error

PID_FILE = "OCI006"
CONSOLE_SOCKET = "OCI007"

_S_IFMT = 0o170000
_S_IFDIR = 0o040000
_S_IFSOCK = 0o140000


def check_pid_file(path: str | None) -> None:
    """The pid file's directory exists and the name is not a directory (runc's wording)."""
    if not path:
        return
    full = os.path.abspath(path)
    directory = os.path.dirname(full)
    try:
        mode = os.stat(directory).st_mode & _S_IFMT
    except OSError as exc:
        raise usage_error(
            f"open {full}: {exc.strerror.lower() if exc.strerror else 'cannot open'}",
            code=PID_FILE,
            hint="--pid-file must name a file in an existing directory",
        ) from None
    if mode != _S_IFDIR:
        raise usage_error(f"open {full}: not a directory", code=PID_FILE)
    if os.path.isdir(full):
        raise usage_error(f"open {full}: is a directory", code=PID_FILE)


def pid_file_error(path: str, exc: OSError) -> Exception:
    """The error for a pid file that could not be written after all (ENOSPC, EACCES)."""
    reason = exc.strerror.lower() if exc.strerror else "write failed"
    return usage_error(f"write {os.path.abspath(path)}: {reason}", code=PID_FILE)


def check_console_socket(path: str | None) -> None:
    """The console socket exists and is a socket (runc: "dial unix PATH: connect: ...")."""
    if not path:
        return
    full = os.path.abspath(path)
    try:
        mode = os.stat(full).st_mode & _S_IFMT
    except OSError as exc:
        reason = exc.strerror.lower() if exc.strerror else "cannot connect"
        raise usage_error(f"dial unix {full}: connect: {reason}", code=CONSOLE_SOCKET) from None
    if mode != _S_IFSOCK:
        raise usage_error(
            f"dial unix {full}: connect: connection refused (not a socket)", code=CONSOLE_SOCKET
        )


def console_error(path: str, exc: OSError) -> Exception:
    reason = exc.strerror.lower() if exc.strerror else "connect failed"
    return usage_error(f"dial unix {os.path.abspath(path)}: connect: {reason}", code=CONSOLE_SOCKET)
