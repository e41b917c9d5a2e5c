"""``ocitool lint PATH...``: validate configs, then run the lint rules; the CI step.

Exit status: 0 clean, 1 findings at or above --fail-on (info never fails),
2 usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ocitool.cli.common import EXIT_FINDINGS, EXIT_OK, ArgumentParser
from ocitool.errors import UsageError
from ocitool.lint.config import LintSettings, discover_settings, load_settings
from ocitool.lint.engine import LintOptions, discover, fails, lint_file
from ocitool.lint.registry import all_rules, get_rule
from ocitool.lint.result import FileResult
from ocitool.lint.selection import Selection, check_tokens, split_tokens

PROGRESS_THRESHOLD = 20


def _parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="ocitool lint",
        description="Check OCI bundle configs: schema validation, then security, correctness "
        "and portability rules.",
        epilog="Settings may live in pyproject.toml under [tool.ocitool.lint]; see docs/lint.md. "
        "Exit status: 0 clean, 1 findings at or above --fail-on (info never fails), 2 usage error.",
    )
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="bundle dir, config file, dir to search, or -"
    )
    p.add_argument(
        "--format", choices=("text", "json", "sarif", "github"), help="output format (text)"
    )
    p.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="CODES",
        help="only these rules: codes, prefixes (OCS), families (security) or names",
    )
    p.add_argument(
        "--ignore", action="append", default=[], metavar="CODES", help="skip these rules"
    )
    p.add_argument(
        "--fail-on", choices=("warning", "error"), help="lowest severity that fails (warning)"
    )
    p.add_argument(
        "--host-specific",
        action="store_true",
        default=None,
        help="also run rules that check this machine (AppArmor, cgroup controllers, ...)",
    )
    p.add_argument("--explain", metavar="CODE", help="print a rule's rationale and fix, then exit")
    p.add_argument("--list-rules", action="store_true", help="list every rule, then exit")
    p.add_argument("--config", metavar="PYPROJECT", help="read settings from this pyproject.toml")
    p.add_argument("--no-config", action="store_true", help="ignore pyproject.toml settings")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    return p


def _list_rules() -> int:
    for r in all_rules():
        scope = " [host]" if r.host_specific else ""
        print(f"{r.code}  {r.severity:<7}  {r.name:<36} {r.summary}{scope}")
    return EXIT_OK


def _explain(code: str) -> int:
    rule = get_rule(code)
    if rule is None:
        raise UsageError(message=f"no lint rule {code!r}", code="OCI011", hint="see --list-rules")
    print(rule.explain(), end="")
    return EXIT_OK


def _settings(args: object) -> LintSettings:
    if getattr(args, "no_config", False):
        return LintSettings()
    config = getattr(args, "config", None)
    return load_settings(config) if config else discover_settings()


def _lint_all(files: Sequence[str], options: LintOptions, progress: bool) -> list[FileResult]:
    if not progress:
        return [lint_file(f, options) for f in files]
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    results = []
    with Progress(
        TextColumn("linting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=len(files))
        for f in files:
            bar.update(task, description=f)
            results.append(lint_file(f, options))
            bar.advance(task)
    return results


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.list_rules:
        return _list_rules()
    if args.explain:
        return _explain(args.explain)
    if not args.paths:
        raise UsageError(
            message="ocitool lint: no PATH given",
            code="OCI010",
            hint="name bundle dirs, config files or directories to search ('.')",
        )
    settings = _settings(args)
    select = split_tokens(args.select) or settings.select
    ignore = settings.ignore + split_tokens(args.ignore)
    check_tokens(select, "--select")
    check_tokens(ignore, "--ignore")
    host_specific = settings.host_specific if args.host_specific is None else True
    host = None
    if host_specific:
        from ocitool.lint.host import detect

        host = detect()
    options = LintOptions(
        selection=Selection(select=select, ignore=ignore, host_specific=host_specific),
        severity=settings.severity,
        host=host,
    )
    fmt = args.format or settings.format or "text"
    fail_on = args.fail_on or settings.fail_on or "warning"
    files = discover(args.paths, settings.excluded)
    if not files:  # nothing to lint is a mistake (a wrong path), not a clean result
        raise UsageError(
            message=f"ocitool lint: no config.json found under {' '.join(args.paths)}",
            code="OCI001",
            hint="name a bundle directory, a config file, or a directory holding bundles",
        )
    progress = not args.no_progress and len(files) >= PROGRESS_THRESHOLD and sys.stderr.isatty()
    results = _lint_all(files, options, progress)

    from ocitool.lint.report import renderer

    render = renderer(fmt)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                render(results, out)
        except OSError as exc:
            raise UsageError(
                message=f"cannot write {args.output}: {exc.strerror}", code="OCI003"
            ) from None
    else:
        render(results, sys.stdout)
    findings = [d for r in results for d in r.findings]
    return EXIT_FINDINGS if fails(findings, fail_on) else EXIT_OK
