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

from ocitool.ids import check_id
from ocitool.inputs import read_input
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


def _usage_error(message: str) -> Exception:
    from ocitool.errors import UsageError

    return UsageError(message=message, code="OCI010", hint=USAGE)


USAGE = (
    "usage: ocitool exec [--id ID] [--root DIR] [--dry-run] [--validate] [--check] "
    "[--systemd-cgroup] BUNDLE"
)
HELP = f"""{USAGE}

Run the container of BUNDLE in the foreground and exit with its status.

options:
  --id ID       container id (default: the bundle's directory name + our pid)
  --root DIR    state directory (default: /run/ocitool; rootless: $XDG_RUNTIME_DIR/ocitool)
  --dry-run     print the plan (strace-like) instead of running it
  --validate    check config.json against the schema first (slower start)
  --check       run the preflight (ocitool check) first; do not start on errors
  --systemd-cgroup  let systemd make the cgroup (a transient unit), as runc's driver
"""


def _parse(argv: list[str]) -> dict[str, object]:
    """A tiny argv parser: argparse alone costs milliseconds on every container start."""
    opts: dict[str, object] = {
        "id": None,
        "root": None,
        "dry_run": False,
        "validate": False,
        "check": False,
        "systemd_cgroup": False,
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
        elif arg == "--check":
            opts["check"] = True
        elif arg == "--systemd-cgroup":
            opts["systemd_cgroup"] = True
        elif arg in ("--id", "--root"):
            value = next(it, None)
            if value is None:
                raise _usage_error(f"ocitool exec: {arg} needs a value")
            opts[arg[2:]] = value
        elif arg.startswith(("--id=", "--root=")):
            key, _, value = arg[2:].partition("=")
            opts[key] = value
        elif arg.startswith("-") and arg != "-":
            raise _usage_error(f"ocitool exec: unknown option {arg}")
        elif opts["bundle"] is None:
            opts["bundle"] = arg
        else:
            raise _usage_error(f"ocitool exec: unexpected argument {arg!r}")
    if opts["bundle"] is None:
        raise _usage_error("ocitool exec: missing BUNDLE")
    return opts


def main(argv: list[str]) -> int:
    opts = _parse(argv)
    bundle = os.path.abspath(str(opts["bundle"]))
    cid = str(opts["id"] or f"{os.path.basename(bundle.rstrip('/')) or 'ctr'}-{os.getpid()}")
    check_id(cid)  # before the plan cache, which substitutes the id into stored ops
    if opts["dry_run"]:
        _, plan, _ = _lower(bundle, cid, bool(opts["validate"]), bool(opts["systemd_cgroup"]))
        from ocitool.render.plan_text import render_strace

        render_strace(plan, sys.stdout)
        return 0
    from ocitool.exec import sealed
    from ocitool.exec.linux import LinuxSyscalls

    sealed.resume(LinuxSyscalls())  # stage 2 of a run that had to seal (below)
    if opts["check"]:
        _preflight(bundle, cid)
    from ocitool.exec.stateroot import resolve_root

    root = resolve_root(opts["root"])  # type: ignore[arg-type]
    try:
        ops, meta = _plan_ops(
            bundle, cid, root, bool(opts["validate"]), bool(opts["systemd_cgroup"])
        )
    except Exception as err:  # a lowering error: name its place in config.json too
        if getattr(err, "pointer", None) is not None:
            from ocitool.check.explain import locate

            locate(err, bundle)  # type: ignore[arg-type]
        raise
    if sealed.observable(ops):
        sealed.ensure(LinuxSyscalls())  # re-executes from a read-only copy (does not return)
    elif not sealed.is_sealed():
        sealed.waive()  # the init is alone in its pid namespace until it execs

    from ocitool.exec import lifecycle
    from ocitool.exec.context import ExecContext
    from ocitool.exec.state import StateStore

    ctx = ExecContext(
        sys=LinuxSyscalls(), container_id=cid, bundle=bundle, rootfs=str(meta["rootfs"])
    )
    relay = None
    if meta.get("terminal") and os.isatty(0):
        from ocitool.exec.tty import HostPty

        relay = HostPty()
        ctx.fds["pty_slave"] = relay.slave
    try:
        return lifecycle.run(ops, ctx, StateStore(root), relay=relay)
    except Exception as err:
        from ocitool.check.explain import annotate, locate

        annotate(err, ops, bundle, cid)
        if getattr(err, "pointer", None) is not None:
            locate(err, bundle)  # type: ignore[arg-type]
        raise


def _preflight(bundle: str, cid: str) -> None:
    """``--check``: the preflight's errors stop the start (warnings are only printed)."""
    from ocitool.check.engine import context_for, run, sort, to_diagnostic
    from ocitool.errors import ExecError
    from ocitool.spec.load import load

    doc = load(bundle)
    found = sort(to_diagnostic(r, doc) for r in run(context_for(doc, container_id=cid)))
    for diag in found:
        if diag.severity != "error":
            print(diag.render(), file=sys.stderr)
    errors = [d for d in found if d.severity == "error"]
    if errors:
        raise ExecError(
            message=f"the preflight found {len(errors)} error(s); the container was not started",
            code="OCI530",
            hint="fix them, or run without --check to see the failure itself",
            diagnostics=errors,
        )


def _lower(
    bundle: str, cid: str, validate: bool, systemd_cgroup: bool = False
) -> tuple[Any, Any, dict[str, Any]]:
    from ocitool.lower import lower
    from ocitool.lower.host import HostInfo
    from ocitool.spec.pipeline import load_spec

    doc, spec = load_spec(bundle, validate=validate)
    plan = lower(
        spec, HostInfo.detect(), container_id=cid, bundle=bundle, systemd_cgroup=systemd_cgroup
    )
    proc = spec.process
    meta = {"rootfs": _rootfs(spec, bundle), "terminal": bool(proc is not None and proc.terminal)}
    return doc, plan, meta


def _plan_ops(
    bundle: str, cid: str, root: str, validate: bool, systemd_cgroup: bool = False
) -> tuple[Any, dict[str, Any]]:
    """The plan's ops: from the plan cache when this config was lowered before on this host."""
    from ocitool.plan import cache

    config = b""
    if os.path.isdir(bundle):
        config = read_input(os.path.join(bundle, "config.json"), "config")
    options = cache.lowering_options(systemd_cgroup)
    key = None if validate else cache.request_key(config, bundle, cid, options)
    if key is not None:
        hit = cache.load(root, key)
        if hit is not None:
            return hit
    _, plan, meta = _lower(bundle, cid, validate, systemd_cgroup)
    if key is not None:
        try:  # noqa: SIM105
            cache.store(root, key, plan.ops, meta)
        except OSError:
            pass  # a read-only root only costs speed
    return plan.ops, meta


def _rootfs(spec: object, bundle: str) -> str:
    root = getattr(spec, "root", None)
    path = getattr(root, "path", None) or "rootfs"
    return os.path.normpath(os.path.join(bundle, path))


def fast_main() -> int:
    """Entry point without the dispatcher: ``python3 -S -c "from ocitool.cli.exec import
    fast_main; fast_main()" BUNDLE`` (see docs/exec.md). Errors are still rendered by
    the shared CLI code, which is imported only when there is one. The process ends
    with os._exit once stdio is flushed: interpreter teardown is pure overhead here."""
    import gc

    gc.disable()  # a short-lived process: collection cycles only cost time
    argv = sys.argv[1:]
    try:
        code = main(argv)
    except BaseException as exc:  # noqa: BLE001 - handed to the shared renderer below
        from ocitool.cli.common import run_command

        failure = exc

        def again(_argv: list[str]) -> int:
            raise failure

        code = run_command(again, argv)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":
    fast_main()
