"""What every command shares: error rendering and exit statuses, with no heavy imports."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable

from ocitool.errors import InternalError, OciToolError, UsageError
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size()`` gives it: $COLUMNS, else the
    width of the tty on stdout, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns or 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter with argparse's own width, found without importing shutil:
    argparse makes a formatter for every ``add_argument`` call, and shutil's import
    (fnmatch, zlib, bz2, lzma) was a measurable share of a short command such as
    ``check`` (bench/README.md, "check")."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_columns() - 2)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of exiting with its own text."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(
            message=f"{self.prog}: {message}", code="OCI010", hint=f"see '{self.prog} --help'"
        )


def render_error(err: OciToolError) -> None:
    print(err.render(), file=sys.stderr)


def printable_streams() -> None:
    """Text that cannot be UTF-8 (a path from argv holding undecodable bytes, kept by
    Python as lone surrogates) is printed with backslash escapes, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def run_command(fn: Callable[[list[str]], int], argv: list[str]) -> int:
    """Run a command's main; turn every failure into a message and an exit status.

    No input may produce a traceback. A bug in ocitool itself is reported as
    an internal error (set OCITOOL_DEBUG=1 to see the traceback).
    """
    printable_streams()
    try:
        return fn(argv)
    except UsageError as err:
        render_error(err)
        return EXIT_USAGE
    except InternalError as err:
        render_error(err)
        return EXIT_INTERNAL
    except OciToolError as err:
        render_error(err)
        return EXIT_FINDINGS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return EXIT_FINDINGS
    except SystemExit as exc:  # --help and --version from argparse
        return exc.code if isinstance(exc.code, int) else 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("OCITOOL_DEBUG"):
            raise
        print(
            f"ocitool: internal error: {type(exc).__name__}: {exc}\n"
            "  this is a bug in ocitool; rerun with OCITOOL_DEBUG=1 for the traceback",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
