"""runc-style logging: ``--log FILE``, ``--log-format text|json``, ``--debug``.

containerd's shim and conmon read the runtime's log after a failure: with
``--log-format json`` every line is ``{"level":...,"msg":...,"time":...}``
(RFC 3339 UTC), the last error line being the message they show. As runc
does, an error is also printed as plain text on stderr when the log goes
to a file, so a human running the command sees it too.
"""

from __future__ import annotations

import os
import sys
import time

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _quote(text: str) -> str:
    if text and all(c.isalnum() or c in "-_./:" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# O_NONBLOCK: a --log FIFO with no reader fails at once (ENXIO) instead of
# blocking the runtime forever in open(2); on a regular file it changes nothing.
_LOG_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NONBLOCK


class Logger:
    """Writes log lines to the --log file (appending) or to stderr."""

    def __init__(self, path: str | None = None, fmt: str = "text", debug: bool = False) -> None:
        self.path = path
        self.fmt = fmt
        self.level = LEVELS["debug"] if debug else LEVELS["warning"]

    def check(self) -> str | None:
        """Why the --log file cannot be opened for appending (None: it can). runc fails
        with exit status 1 before running the command; so do we (ocitool-runc main)."""
        if not self.path:
            return None
        try:
            os.close(os.open(self.path, _LOG_FLAGS, 0o644))
        except OSError as exc:
            return f"open {self.path}: {(exc.strerror or 'cannot open').lower()}"
        except ValueError:  # a NUL byte in the path
            return f"open {self.path!r}: invalid argument"
        return None

    def line(self, level: str, msg: str) -> str:
        if self.fmt == "json":
            import json

            line = {"level": level, "msg": msg, "time": _now()}
            return json.dumps(line, separators=(",", ":")) + "\n"
        return f"time={_quote(_now())} level={level} msg={_quote(msg)}\n"

    def _write(self, data: str) -> None:
        if self.path:
            try:
                fd = os.open(self.path, _LOG_FLAGS, 0o644)
            except OSError:
                sys.stderr.write(data)
                return
            try:
                os.write(fd, data.encode("utf-8", "backslashreplace"))
            except OSError:  # a full FIFO (EAGAIN): the line still reaches stderr
                sys.stderr.write(data)
            finally:
                os.close(fd)
        else:
            sys.stderr.write(data)
            sys.stderr.flush()

    def log(self, level: str, msg: str) -> None:
        if LEVELS[level] >= self.level:
            self._write(self.line(level, msg))

    def debug(self, msg: str) -> None:
        self.log("debug", msg)

    def warning(self, msg: str) -> None:
        self.log("warning", msg)

    def error(self, msg: str) -> None:
        """Log an error; with a log file (or text format on stderr) also print it plainly."""
        if self.path is None and self.fmt == "text":
            sys.stderr.write(f"ocitool-runc: {msg}\n")
            sys.stderr.flush()
            return
        self._write(self.line("error", msg))
        if self.path is not None:
            sys.stderr.write(f"ocitool-runc: {msg}\n")
            sys.stderr.flush()
