"""``ocitool validate PATH...``: check documents against ocitool's runtime-spec 1.3 schemas.

Exit status: 0 when every file is valid (warnings allowed), 1 when any file
has an error, 2 for usage or I/O errors (a missing file, an unreadable one).
A file that is not JSON at all is reported like any other defect (status 1).
"""

from __future__ import annotations

import sys

from ocitool.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, ArgumentParser
from ocitool.errors import LoadError, UsageError
from ocitool.inputs import read_input
from ocitool.render.diagnostics import FileReport, render_json, render_text
from ocitool.spec.load import Document, config_path, decode_bytes, load, parse_text
from ocitool.spec.schema import KINDS, sort_diagnostics, validate_document


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="ocitool validate",
        description="Check config.json (or state.json / features.json) against ocitool's own "
        "JSON Schema of runtime-spec 1.0-1.3, with located, specific messages.",
        epilog="exit status: 0 every file is valid (warnings allowed), 1 a file has an error, "
        "2 usage or I/O error (a missing or unreadable file)",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="bundle directory, JSON file, or '-' for stdin"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default="config",
        help="document kind: config.json (default), a state document, or a features document",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="text: do not list files that are valid"
    )
    parser.add_argument(
        "--no-snippet", action="store_true", help="text: do not show the source lines"
    )
    color = parser.add_mutually_exclusive_group()
    color.add_argument("--color", dest="color", action="store_true", default=None,
                       help="text: colour even when not on a terminal")  # fmt: skip
    color.add_argument("--no-color", dest="color", action="store_false",
                       help="text: never colour (NO_COLOR is honoured too)")  # fmt: skip
    return parser


def check_one(target: str, kind: str) -> tuple[FileReport, bool]:
    """The report for one input, and whether it was an I/O problem (exit status 2)."""
    shown = "<stdin>" if target == "-" else config_path(target)
    stdin_text: str | None = None
    try:
        if target == "-":
            raw = read_input("-", "config", stdin=True)
            stdin_text = raw.decode("utf-8", "replace")
            doc = parse_text(decode_bytes(raw, shown), shown)
        else:
            doc = load(target)
    except UsageError as err:
        return FileReport(shown, err.as_diagnostics()), True
    except LoadError as err:
        diags = [d.with_path(d.path or shown) for d in err.as_diagnostics()]
        text = stdin_text if stdin_text is not None else _read_for_snippet(shown)
        source = Document(data=None, text=text, path=shown) if text else None
        return FileReport(shown, sort_diagnostics(diags), source), False
    return FileReport(doc.path or shown, validate_document(doc, kind), doc), False


def _read_for_snippet(path: str) -> str | None:
    """The file's text, decoded leniently, only to show context around a load error
    (Document.snippet shows nothing of a text that does not look like JSON)."""
    try:
        return read_input(path, "config").decode("utf-8", "replace")
    except UsageError:
        return None


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.paths.count("-") > 1:
        raise UsageError(message="'-' (standard input) may be given only once", code="OCI011")
    reports: list[FileReport] = []
    io_error = False
    for target in args.paths:
        report, failed = check_one(target, args.kind)
        reports.append(report)
        io_error = io_error or failed
    if args.format == "json":
        render_json(reports, sys.stdout)
    else:
        render_text(
            reports,
            sys.stdout,
            color=args.color,
            show_valid=not args.quiet,
            snippets=not args.no_snippet,
        )
    if io_error:
        return EXIT_USAGE
    return EXIT_OK if all(r.valid for r in reports) else EXIT_FINDINGS
