"""One bounded reader for every file (or standard input) a user hands to ocitool.

WHY: a config, a process or resources JSON, a seccomp profile or policy, a
state file: each was read whole with ``f.read()``, so a ``config.json`` that
is a symlink to ``/dev/zero`` took gigabytes of memory before failing, and a
FIFO blocked forever. Here the file is opened without blocking, must be a
regular file (stdin is read as given when the command allows ``-``), and at
most ``MAX_INPUT_BYTES`` are read: a larger input is refused with a coded
error at once. runc refuses a character device as config.json at once too
(its JSON decoder stops at the first NUL byte).

Hot path (create, exec and state read through here): only the builtin posix
module at import time; the error classes are imported when there is an error.
"""

from __future__ import annotations

import os
import sys

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from ocitool.errors import UsageError

#: The largest input ocitool reads. A podman config.json is about 10 KiB, Docker's
#: default seccomp profile about 20 KiB; 16 MiB leaves room for generated profiles
#: with thousands of argument rules while keeping a mistake or an attack cheap.
MAX_INPUT_BYTES = 16 << 20

NO_SUCH_FILE = "OCI001"
IS_A_DIRECTORY = "OCI002"
UNREADABLE = "OCI003"
TOO_LARGE = "OCI004"
NOT_REGULAR = "OCI005"

_S_IFMT = 0o170000
_KINDS = {
    0o040000: "a directory",
    0o020000: "a character device",
    0o060000: "a block device",
    0o010000: "a FIFO",
    0o140000: "a socket",
}


def _error(message: str, code: str, path: str, hint: str | None = None) -> UsageError:
    from ocitool.errors import UsageError

    return UsageError(message=message, code=code, path=path, hint=hint)


def too_large(path: str, what: str) -> UsageError:
    return _error(
        f"{path}: {what} is larger than {MAX_INPUT_BYTES >> 20} MiB",
        TOO_LARGE,
        path,
        hint=f"ocitool reads at most {MAX_INPUT_BYTES} bytes of any input",
    )


def read_input(
    path: str, what: str = "input", *, stdin: bool = False, limit: int = MAX_INPUT_BYTES
) -> bytes:
    """The bytes of the regular file ``path`` (``-``: standard input when ``stdin``).

    Raises UsageError: OCI001 missing, OCI002 a directory, OCI003 unreadable,
    OCI004 larger than ``limit``, OCI005 not a regular file (device, FIFO, socket).
    """
    if stdin and path == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise _error("standard input is closed", UNREADABLE, "<stdin>")
        try:
            data: bytes = stream.read(limit + 1)
        except OSError as exc:
            raise _error(
                f"cannot read standard input: {exc.strerror}", UNREADABLE, "<stdin>"
            ) from None
        if len(data) > limit:
            raise too_large("<stdin>", what)
        return data
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        raise _error(f"no such file: {path}", NO_SUCH_FILE, path) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = getattr(exc, "strerror", None) or "invalid path"
        raise _error(f"cannot read {path}: {reason}", UNREADABLE, path) from None
    try:
        mode = os.fstat(fd).st_mode & _S_IFMT
        if mode == 0o040000:
            raise _error(f"is a directory: {path}", IS_A_DIRECTORY, path)
        if mode != 0o100000:
            kind = _KINDS.get(mode, "not a regular file")
            raise _error(
                f"{path} is {kind}, not a regular file",
                NOT_REGULAR,
                path,
                hint=f"give the {what} as a regular file",
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _error(f"cannot read {path}: {exc.strerror}", UNREADABLE, path) from None
    finally:
        os.close(fd)
    if size > limit:
        raise too_large(path, what)
    return b"".join(chunks)
