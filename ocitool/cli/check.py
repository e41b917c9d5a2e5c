"""``ocitool check BUNDLE...``: will this bundle start on this host, and if not, why.

Lowers each config for the detected host and checks every op's
preconditions against the machine without running anything (see
ocitool.check). Reports with lint's reporters.

Exit status: 0 clean, 1 findings (errors or warnings), 2 usage error.
"""

from __future__ import annotations

import sys

from ocitool.cli.common import EXIT_FINDINGS, EXIT_OK, ArgumentParser
from ocitool.errors import OciToolError, UsageError


def _parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="ocitool check",
        description="Preflight: lower each bundle's config for this host and check every "
        "operation's preconditions (paths, executable, ids, capabilities, kernel features, "
        "seccomp, resource values) without running anything.",
        epilog="Exit status: 0 clean, 1 findings, 2 usage error.",
    )
    p.add_argument("paths", nargs="*", metavar="BUNDLE", help="bundle dir or config file")
    p.add_argument(
        "--format", choices=("text", "json", "sarif", "github"), default="text", help="(text)"
    )
    p.add_argument("--explain", metavar="CODE", help="print a check's rationale and fix")
    p.add_argument("--list-checks", action="store_true", help="list every check, then exit")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from ocitool.check.registry import all_checks, get_check

    if args.list_checks:
        for c in all_checks():
            print(f"{c.code}  {c.severity:<7}  {c.name:<30} {c.summary}")
        return EXIT_OK
    if args.explain:
        rule = get_check(args.explain)
        if rule is None:
            raise UsageError(message=f"no check {args.explain!r}", code="OCI011",
                             hint="see --list-checks")  # fmt: skip
        print(rule.explain(), end="")
        return EXIT_OK
    if not args.paths:
        raise UsageError(message="ocitool check: no BUNDLE given", code="OCI010",
                         hint="name a bundle directory or a config.json ('.')")  # fmt: skip
    from ocitool.check.engine import check_document
    from ocitool.lint.report import renderer
    from ocitool.lint.result import FileResult
    from ocitool.spec.load import load

    results = []
    for target in args.paths:
        try:
            doc = load(target)
        except UsageError:
            raise
        except OciToolError as err:
            results.append(FileResult(target, [d.with_path(d.path or target)
                                               for d in err.as_diagnostics()]))  # fmt: skip
            continue
        results.append(FileResult(doc.path or target, check_document(doc), doc))
    renderer(args.format)(results, sys.stdout)
    return EXIT_FINDINGS if any(r.findings for r in results) else EXIT_OK
