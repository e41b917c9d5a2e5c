"""``ocitool-runc``: the runc-compatible runtime (podman --runtime, containerd's runc shim).

Global flags come before the command, as with runc. Every failure becomes
one log line in runc's format and wording plus a non-zero exit, never a
traceback. Hot path: no argparse, jsonschema, rich or lark imports.
"""

from __future__ import annotations

import os
import sys

from ocitool.runc.args import BOOL, VALUE, Flag, help_text, parse
from ocitool.runc.common import DEFAULT_ROOT, Globals, runc_message
from ocitool.runc.errs import is_ocitool_error, usage_error
from ocitool.runc.log import Logger

GLOBAL_FLAGS = (
    Flag(("root",), VALUE, DEFAULT_ROOT, help=f"state directory (default: {DEFAULT_ROOT})"),
    Flag(("log",), VALUE, help="write log lines to this file (default: stderr)"),
    Flag(("log-format",), VALUE, "text", help="text or json"),
    Flag(("debug",), BOOL, help="log debug lines"),
    Flag(("systemd-cgroup",), BOOL, help="use systemd's cgroup driver (a transient unit)"),
    Flag(("criu",), VALUE, help="ignored (no checkpoint/restore)"),
    Flag(("rootless",), VALUE, "auto", help="ignored: rootless mode follows the euid"),
    Flag(("version", "v"), BOOL, help="print the version"),
    Flag(("help", "h"), BOOL, help="show this help"),
)

# command -> (module, function, summary)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "create": ("ocitool.runc.cmd_lifecycle", "cmd_create", "create a container"),
    "start": ("ocitool.runc.cmd_lifecycle", "cmd_start", "start a created container"),
    "run": ("ocitool.runc.cmd_lifecycle", "cmd_run", "create and start a container"),
    "state": ("ocitool.runc.cmd_lifecycle", "cmd_state", "print a container's state JSON"),
    "kill": ("ocitool.runc.cmd_lifecycle", "cmd_kill", "send a signal to a container's init"),
    "delete": ("ocitool.runc.cmd_lifecycle", "cmd_delete", "delete a container"),
    "exec": ("ocitool.runc.cmd_exec", "cmd_exec", "run a new process in a running container"),
    "list": ("ocitool.runc.cmd_info", "cmd_list", "list the containers under --root"),
    "ps": ("ocitool.runc.cmd_info", "cmd_ps", "list the processes of a container"),
    "features": ("ocitool.runc.cmd_info", "cmd_features", "print features.json"),
    "pause": ("ocitool.runc.cmd_cgroup", "cmd_pause", "freeze every process of a container"),
    "resume": ("ocitool.runc.cmd_cgroup", "cmd_resume", "thaw a paused container"),
    "update": ("ocitool.runc.cmd_cgroup", "cmd_update", "change a container's cgroup limits"),
    "events": ("ocitool.runc.cmd_events", "cmd_events", "container stats and OOM notifications"),
    "spec": ("ocitool.cli.spec", "main", "generate a config.json (same as 'ocitool spec')"),
}

# The commands that start a process a container can see (the init, an exec joiner): they
# run from a read-only copy of the runtime's files (ocitool/exec/sealed.py). `run` decides
# once it has the plan (cmd_run); it only finishes a re-execution here.
SEALED_COMMANDS = frozenset(("create", "exec"))


def usage() -> str:
    text = help_text(
        "ocitool-runc [global options] COMMAND [options] [arguments...]",
        "A runc-compatible OCI runtime built on ocitool's plan executor.",
        GLOBAL_FLAGS,
    )
    lines = [text, "commands:"]
    lines += [f"  {name:<10} {summary}" for name, (_, _, summary) in COMMANDS.items()]
    return "\n".join(lines) + "\n"


def _version() -> str:
    from ocitool import __version__

    return f"ocitool-runc version {__version__}\nspec: 1.3.0\n"


def main(argv: list[str] | None = None) -> int:
    """Run one command. As the console script (``argv`` None) the process ends with
    ``os._exit`` once stdio is flushed: for a short-lived runtime process the
    interpreter's teardown (and the garbage collector) is pure overhead."""
    if argv is None:
        import gc

        gc.disable()
        code = _main(sys.argv[1:])
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(code)
    return _main(list(argv))


def _main(args: list[str]) -> int:
    log = Logger()
    stdout_reconfigure = getattr(sys.stdout, "reconfigure", None)
    if stdout_reconfigure is not None:  # a bundle path with undecodable bytes: escaped
        stdout_reconfigure(errors="backslashreplace")
    try:
        g = parse(args, GLOBAL_FLAGS)
        fmt = g.value("log_format") or "text"
        log = Logger(g.value("log"), fmt if fmt in ("text", "json") else "text", g.on("debug"))
        if fmt not in ("text", "json"):
            raise usage_error(f"invalid log-format: {fmt}", hint="text or json")
        if g.on("version"):
            sys.stdout.write(_version())
            return 0
        if g.on("help") or not g.args:
            sys.stdout.write(usage())
            return 0 if g.on("help") else 2
        name, rest = g.args[0], g.args[1:]
        if name not in COMMANDS:
            raise usage_error(f"No help topic for '{name}'", hint="see 'ocitool-runc --help'")
        if rest[:1] in (["--help"], ["-h"]):
            sys.stdout.write(f"ocitool-runc {name}: {COMMANDS[name][2]}\n")
            return 0
        if name in SEALED_COMMANDS or name == "run":
            from ocitool.exec import sealed
            from ocitool.exec.linux import LinuxSyscalls

            if name == "run":
                sealed.resume(LinuxSyscalls())  # stage 2 of a run that had to seal
            else:
                sealed.ensure(LinuxSyscalls())  # stage 1 re-executes: it does not return
        # like runc, an unusable --log fails the command; checked only now because until
        # the sealed stage 2 has returned to the real root, every path is read-only
        problem = log.check()
        if problem is not None:
            log = Logger()
            log.error(problem)
            return 1
        module = COMMANDS[name][0]
        __import__(module)  # not importlib.import_module: importlib costs ~0.4 ms to import
        fn = getattr(sys.modules[module], COMMANDS[name][1])
        if name == "spec":
            return int(fn(rest))
        root = os.path.abspath(g.value("root") or DEFAULT_ROOT)
        g_ = Globals(root=root, log=log, debug=g.on("debug"), systemd_cgroup=g.on("systemd_cgroup"))
        return int(fn(g_, rest))
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback
        if is_ocitool_error(exc):
            log.error(runc_message(exc))  # type: ignore[arg-type]
            return 1
        if os.getenv("OCITOOL_DEBUG"):
            raise
        log.error(f"internal error: {type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
