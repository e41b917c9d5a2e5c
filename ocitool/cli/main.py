"""``ocitool`` entry point: a lazy dispatcher over one module per command.

Each command lives in ``ocitool/cli/<name>.py`` and exposes
``main(argv: list[str]) -> int``. Only the chosen command's module is
imported, so a command's start-up cost is its own (DESIGN.md rule 6).
"""

from __future__ import annotations

import sys

# command name -> (module, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "spec": ("ocitool.cli.spec", "generate a config.json from a profile and flags"),
    "check": (
        "ocitool.cli.check",
        "preflight: will this bundle start on this host, and if not, why",
    ),
    "validate": (
        "ocitool.cli.validate",
        "check config.json against ocitool's runtime-spec 1.3 schema",
    ),
    "lint": ("ocitool.cli.lint", "security and correctness rules for bundle configs (CI step)"),
    "plan": ("ocitool.cli.plan", "dry run: print every operation a run would make"),
    "exec": ("ocitool.cli.exec", "run a bundle's container in the foreground"),
    "seccomp": ("ocitool.cli.seccomp", "compile, disassemble, emulate and explain seccomp filters"),
    "caps": ("ocitool.cli.caps", "decode and parse capability sets"),
    "demo": ("ocitool.cli.demo", "build a demo bundle and run it with the hardened profile"),
}


def usage() -> str:
    lines = ["usage: ocitool [--version] COMMAND [ARGS...]", "", "commands:"]
    for name, (_, summary) in COMMANDS.items():
        lines.append(f"  {name:<10} {summary}")
    lines.append("")
    lines.append("Run 'ocitool COMMAND --help' for a command's options.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if args else 2
    if args[0] == "--version":
        from ocitool import __version__

        print(f"ocitool {__version__}")
        return 0
    name = args[0]
    if name == "exec" and argv is None:
        # Run as a program: hand over to the container-start fast path, which
        # imports neither argparse nor the shared error renderer unless needed
        # and ends the process itself (os._exit) once stdio is flushed.
        from ocitool.cli.exec import fast_main

        sys.argv = ["ocitool exec", *args[1:]]
        return fast_main()
    if name not in COMMANDS:
        print(f"ocitool: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    from importlib import import_module

    from ocitool.cli.common import run_command

    module = import_module(COMMANDS[name][0])
    return run_command(module.main, args[1:])


if __name__ == "__main__":
    sys.exit(main())
