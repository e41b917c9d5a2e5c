"""``ocitool plan BUNDLE|CONFIG``: dry run; print every operation a run would make.

The config is loaded, validated with the same schema and messages as
``ocitool validate`` (an invalid config prints those diagnostics, no plan, and
exits 1), built into the typed model and lowered for a host: this machine by
default, or a deterministic preset changed by ``--host k=v,...``. Lowering
warnings go to stderr; the plan goes to stdout.
"""

from __future__ import annotations

import os
import re
import sys

from ocitool.cli.common import EXIT_FINDINGS, EXIT_OK, ArgumentParser
from ocitool.errors import Diagnostic, InternalError, LoadError, OciToolError, UsageError
from ocitool.spec.load import Document, config_path, load

FORMATS = ("tree", "strace", "json")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="ocitool plan",
        description="Compile a bundle's config.json into the ordered list of operations a run "
        "would make, and print it without touching anything.",
    )
    parser.add_argument("target", metavar="BUNDLE|CONFIG", help="bundle dir, config file or '-'")
    parser.add_argument("--format", choices=FORMATS, default="tree", help="output (default tree)")
    parser.add_argument(
        "--host",
        metavar="K=V,...",
        help="plan for a preset host instead of this one: cgroup=v1|v2|hybrid, arch=, kernel=, "
        "last_cap=, namespaces=a+b, lsms=a+b, controllers=a+b, euid=, rootless=1, systemd=1",
    )
    parser.add_argument(
        "--systemd-cgroup",
        action="store_true",
        help="plan the systemd cgroup driver (a transient unit, as ocitool-runc --systemd-cgroup)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="show each op's source pointer and config line"
    )
    parser.add_argument("--id", dest="container_id", help="container id (default: bundle name)")
    parser.add_argument(
        "--no-pivot",
        action="store_true",
        help="the plan of ocitool-runc create --no-pivot (MS_MOVE + chroot, not pivot_root)",
    )
    parser.add_argument(
        "--no-new-keyring",
        action="store_true",
        help="the plan of ocitool-runc create --no-new-keyring (no session keyring of its own)",
    )
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="skip the JSON Schema (the model builder still type-checks)",
    )
    color = parser.add_mutually_exclusive_group()
    color.add_argument("--color", dest="color", action="store_true", default=None)
    color.add_argument("--no-color", dest="color", action="store_false")
    return parser


def _bundle_of(target: str) -> str:
    if target == "-":
        return os.getcwd()
    if os.path.isdir(target):
        return target
    return os.path.dirname(target) or "."


def _report(diags: list[Diagnostic], doc: Document | None, path: str, color: bool | None) -> None:
    from ocitool.render.diagnostics import FileReport, render_text

    report = FileReport(path, diags, doc)
    render_text([report], sys.stderr, color=color, summary=False)


def _fail(err: OciToolError, doc: Document | None, path: str, fmt: str, color: bool | None) -> int:
    diags = [d.with_path(d.path or path) for d in err.as_diagnostics()]
    if doc is not None:
        diags = [doc.locate(d) if d.line is None and d.pointer else d for d in diags]
    if fmt == "json":
        from ocitool.render.diagnostics import FileReport, render_json

        render_json([FileReport(path, diags, doc)], sys.stdout)
    else:
        _report(diags, doc, path, color)
    return EXIT_FINDINGS


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from ocitool.lower import lower
    from ocitool.lower.host import HostInfo
    from ocitool.spec.build import build_spec

    host = HostInfo.parse_overrides(args.host) if args.host else HostInfo.detect()
    shown = "<stdin>" if args.target == "-" else config_path(args.target)
    try:
        doc = load(args.target)
    except UsageError:
        raise
    except LoadError as err:
        return _fail(err, None, shown, args.format, args.color)
    if not args.no_validate:
        from ocitool.spec.schema import validate_config

        errors = [d for d in validate_config(doc) if d.severity == "error"]
        if errors:
            invalid = OciToolError(message=errors[0].message, diagnostics=errors)
            return _fail(invalid, doc, doc.path or shown, args.format, args.color)
    bundle = _bundle_of(args.target)
    default_id = re.sub(r"[^\w+\-.]", "-", os.path.basename(os.path.abspath(bundle)), flags=re.A)
    container_id = args.container_id or default_id.strip(".") or "container"
    try:
        spec = build_spec(doc)
        plan = lower(
            spec,
            host,
            container_id=container_id,
            bundle=bundle,
            systemd_cgroup=args.systemd_cgroup,
            no_pivot=args.no_pivot,
            no_new_keyring=args.no_new_keyring,
        )
    except (UsageError, InternalError):
        raise
    except OciToolError as err:
        return _fail(err, doc, doc.path or shown, args.format, args.color)

    if plan.diagnostics and args.format != "json":
        located = [doc.locate(d) for d in plan.diagnostics]
        _report(located, doc, doc.path or shown, args.color)
    if args.format == "json":
        from ocitool.render.plan_json import render_json

        render_json(plan, sys.stdout, doc, explain=args.explain)
    elif args.format == "strace":
        from ocitool.render.plan_text import render_strace

        render_strace(plan, sys.stdout, explain=args.explain)
    else:
        from ocitool.render.plan_tree import render_tree

        render_tree(plan, sys.stdout, doc, explain=args.explain, color=args.color)
    return EXIT_OK
