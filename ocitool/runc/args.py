"""A tiny runc-style argument parser (urfave/cli semantics, no argparse on the hot path).

runc's command line: global flags, a command, the command's flags, then its
positional arguments. As in Go's ``flag`` package a flag may be written
``-name`` or ``--name``, with its value as the next word or after ``=``;
boolean flags take ``--name=false``. Flag parsing stops at the first
positional argument (``exec ID sh -c ...`` passes ``-c`` to sh) or at ``--``.
"""

from __future__ import annotations

from ocitool.runc.errs import usage_error

BOOL, VALUE, MULTI = "bool", "value", "multi"


class Flag:
    """One flag: its names (first is canonical), kind and default.

    A plain class, not a dataclass: importing dataclasses costs more than
    parsing every command line runc engines send.
    """

    __slots__ = ("names", "kind", "default", "help", "dest")

    def __init__(
        self, names: tuple[str, ...], kind: str = BOOL, default: object = None, help: str = ""
    ) -> None:  # noqa: A002 - argparse's name for it
        self.names = names
        self.kind = kind
        self.default = default
        self.help = help
        self.dest = names[0].replace("-", "_")


class Parsed:
    """Flag values by dest, plus the positional arguments."""

    __slots__ = ("flags", "args")

    def __init__(self) -> None:
        self.flags: dict[str, object] = {}
        self.args: list[str] = []

    def get(self, name: str) -> object:
        return self.flags.get(name)

    def value(self, name: str) -> str | None:
        value = self.flags.get(name)
        return None if value is None else str(value)

    def on(self, name: str) -> bool:
        return bool(self.flags.get(name))

    def values(self, name: str) -> list[str]:
        value = self.flags.get(name)
        return [str(v) for v in value] if isinstance(value, list) else []


def _truth(text: str, flag: str) -> bool:
    low = text.lower()
    if low in ("1", "t", "true", "yes"):
        return True
    if low in ("0", "f", "false", "no"):
        return False
    raise usage_error(f"invalid boolean value {text!r} for flag -{flag}")


def parse(
    argv: list[str],
    flags: tuple[Flag, ...],
    *,
    stop_at_positional: bool = True,
    prog: str = "ocitool-runc",
) -> Parsed:
    """Parse ``argv`` against ``flags``; unknown flags are usage errors."""
    table: dict[str, Flag] = {}
    for fl in flags:
        for name in fl.names:
            table[name] = fl
    out = Parsed()
    for fl in flags:
        if fl.kind == MULTI:
            out.flags[fl.dest] = list(fl.default or [])  # type: ignore[call-overload]
        else:
            out.flags[fl.dest] = fl.default
    i = 0
    n = len(argv)
    while i < n:
        arg = argv[i]
        i += 1
        if arg == "--":
            out.args.extend(argv[i:])
            break
        if not arg.startswith("-") or arg == "-":
            out.args.append(arg)
            if stop_at_positional:
                out.args.extend(argv[i:])
                break
            continue
        name, eq, value = arg.lstrip("-").partition("=")
        found = table.get(name)
        if found is None:
            raise usage_error(
                f"flag provided but not defined: -{name}", hint=f"see '{prog} --help'"
            )
        fl = found
        if fl.kind == BOOL:
            out.flags[fl.dest] = _truth(value, name) if eq else True
            continue
        if not eq:
            if i >= n:
                raise usage_error(f"flag needs an argument: -{name}")
            value = argv[i]
            i += 1
        if fl.kind == MULTI:
            values = out.flags[fl.dest]
            assert isinstance(values, list)
            values.append(value)
        else:
            out.flags[fl.dest] = value
    return out


def help_text(usage: str, summary: str, flags: tuple[Flag, ...]) -> str:
    lines = [f"usage: {usage}", "", summary, ""]
    if flags:
        lines.append("options:")
        for fl in flags:
            names = ", ".join(("-" if len(n) == 1 else "--") + n for n in fl.names)
            if fl.kind != BOOL:
                names += " value"
            lines.append(f"  {names:<28} {fl.help}")
    return "\n".join(lines) + "\n"
