"""``ocitool exec BUNDLE``: run a bundle's container in the foreground.

create + start + wait + delete in one process, stdio passed through (a pty
when ``process.terminal`` is set and stdin is a terminal); the exit status is
the container's (128+N when it was killed by signal N). ``--dry-run``
prints the plan that would run instead. Hot path: no jsonschema, rich, lark
or argparse imports.
"""

from __future__ import annotations

import os
import sys

from ocitool.errors import OciToolError, UsageError

USAGE = "usage: ocitool exec [--id ID] [--root DIR] [--dry-run] [--validate] BUNDLE"
HELP = f"""{USAGE}

Run the container of BUNDLE in the foreground and exit with its status.

options:
  --id ID       container id (default: the bundle's directory name + our pid)
  --root DIR    state directory (default: /run/ocitool)
  --dry-run     print the plan (strace-like) instead of running it
  --validate    check config.json against the schema first (slower start)
"""


def _parse(argv: list[str]) -> dict[str, object]:
    """A tiny argv parser: argparse alone costs milliseconds on every container start."""
    opts: dict[str, object] = {
        "id": None,
        "root": "/run/ocitool",
        "dry_run": False,
        "validate": False,
        "bundle": None,
    }
    it = iter(argv)
    for arg in it:
        if arg in ("-h", "--help"):
            print(HELP, end="")
            raise SystemExit(0)
        if arg == "--dry-run":
            opts["dry_run"] = True
        elif arg == "--validate":
            opts["validate"] = True
        elif arg in ("--id", "--root"):
            value = next(it, None)
            if value is None:
                raise UsageError(
                    message=f"ocitool exec: {arg} needs a value", code="OCI010", hint=USAGE
                )
            opts[arg[2:]] = value
        elif arg.startswith(("--id=", "--root=")):
            key, _, value = arg[2:].partition("=")
            opts[key] = value
        elif arg.startswith("-") and arg != "-":
            raise UsageError(
                message=f"ocitool exec: unknown option {arg}", code="OCI010", hint=USAGE
            )
        elif opts["bundle"] is None:
            opts["bundle"] = arg
        else:
            raise UsageError(
                message=f"ocitool exec: unexpected argument {arg!r}", code="OCI010", hint=USAGE
            )
    if opts["bundle"] is None:
        raise UsageError(message="ocitool exec: missing BUNDLE", code="OCI010", hint=USAGE)
    return opts


def main(argv: list[str]) -> int:
    opts = _parse(argv)
    bundle = os.path.abspath(str(opts["bundle"]))
    cid = str(opts["id"] or f"{os.path.basename(bundle.rstrip('/')) or 'ctr'}-{os.getpid()}")

    from ocitool.lower import lower
    from ocitool.lower.host import HostInfo
    from ocitool.spec.pipeline import load_spec

    doc, spec = load_spec(bundle, validate=bool(opts["validate"]))
    plan = lower(spec, HostInfo.detect(), container_id=cid, bundle=bundle)
    if opts["dry_run"]:
        from ocitool.render.plan_text import render_strace

        render_strace(plan, sys.stdout)
        return 0

    from ocitool.exec import lifecycle
    from ocitool.exec.context import ExecContext
    from ocitool.exec.linux import LinuxSyscalls
    from ocitool.exec.state import StateStore

    ctx = ExecContext(
        sys=LinuxSyscalls(), container_id=cid, bundle=bundle, rootfs=_rootfs(spec, bundle)
    )
    relay = None
    if spec.process is not None and spec.process.terminal and os.isatty(0):
        from ocitool.exec.tty import HostPty

        relay = HostPty()
        ctx.fds["pty_slave"] = relay.slave
    try:
        return lifecycle.run(plan.ops, ctx, StateStore(str(opts["root"])), relay=relay)
    except OciToolError as err:
        if err.pointer is not None and err.line is None:
            pos = doc.position(err.pointer)
            if pos is not None:
                err.line, err.column = pos
                err.path = doc.path
        raise


def _rootfs(spec: object, bundle: str) -> str:
    root = getattr(spec, "root", None)
    path = getattr(root, "path", None) or "rootfs"
    return os.path.normpath(os.path.join(bundle, path))
