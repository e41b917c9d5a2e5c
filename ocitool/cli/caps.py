"""``ocitool caps``: decode capability bitmaps and parse libcap capability text.

``decode`` prints what ``capsh --decode`` prints, so output can be compared
line for line; ``--pid`` decodes the five sets of a running process (for
checking what a container really got). ``parse`` shows the five bitmaps a
capability text turns into, the same mapping ``ocitool spec --caps`` uses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ocitool.capabilities import CAPABILITIES, cap_name
from ocitool.cli.common import ArgumentParser
from ocitool.errors import UsageError

# /proc/<pid>/status field -> our name for the set
PROC_FIELDS = (
    ("CapInh", "inheritable"),
    ("CapPrm", "permitted"),
    ("CapEff", "effective"),
    ("CapBnd", "bounding"),
    ("CapAmb", "ambient"),
)

_HEX = re.compile(r"[0-9a-fA-F]+")

MEANING = {
    "effective": "checked by the kernel on each privileged operation",
    "permitted": "the most the process may make effective (or give away)",
    "inheritable": "kept across execve for programs whose file capabilities ask for them",
    "bounding": "the limit on what execve can ever grant",
    "ambient": "kept across execve even for programs without file capabilities",
}


def decode_line(mask: int) -> str:
    """``0x%016x=names`` exactly as ``capsh --decode`` prints it (unnamed bits as numbers)."""
    names = [
        cap_name(n).lower() if n < len(CAPABILITIES) else str(n)
        for n in range(mask.bit_length())
        if mask >> n & 1
    ]
    return f"0x{mask:016x}=" + ",".join(names)


def parse_hex(value: str, what: str = "HEX") -> int:
    """A capability bitmap given in hex, with or without ``0x``; at most 64 bits."""
    digits = value.strip()
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    if not _HEX.fullmatch(digits):  # int(x, 16) alone would take '-1', '1_0' and '١٢'
        raise UsageError(
            message=f"{what}: {value!r} is not a hexadecimal bitmap",
            code="OCI045",
            path="ocitool caps decode",
            expected="hex digits, e.g. 0x00000000a80425fb or a80425fb",
        )
    mask = int(digits, 16)
    if mask >> 64:
        raise UsageError(
            message=f"{what}: {value!r} is wider than 64 bits",
            code="OCI045",
            path="ocitool caps decode",
            expected="a 64-bit capability bitmap",
        )
    return mask


def read_proc_sets(pid: int, proc: Path = Path("/proc")) -> dict[str, int]:
    """The five capability sets of process ``pid`` from ``/proc/<pid>/status``."""
    status = proc / str(pid) / "status"
    try:
        text = status.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            message=f"--pid {pid}: cannot read {status}: {exc.strerror or exc}",
            code="OCI046",
            path="ocitool caps decode",
            hint="is the process still running?",
        ) from None
    fields = dict(
        line.split(":", 1) for line in text.splitlines() if line.startswith("Cap") and ":" in line
    )
    sets: dict[str, int] = {}
    for field, name in PROC_FIELDS:
        if field in fields:
            sets[name] = parse_hex(fields[field].strip(), field)
    return sets


def _decode(args: list[str], pid: int | None, as_json: bool) -> int:
    if pid is not None:
        if args:
            raise UsageError(
                message="caps decode: give HEX values or --pid, not both", code="OCI010"
            )
        sets = read_proc_sets(pid)
        if as_json:
            print(json.dumps({name: _set_json(mask) for name, mask in sets.items()}, indent=2))
            return 0
        field_of = {name: field for field, name in PROC_FIELDS}
        for name, mask in sets.items():
            print(f"{field_of[name]}:\t{decode_line(mask)}")
        return 0
    if not args:
        raise UsageError(message="caps decode: give a HEX bitmap or --pid PID", code="OCI010")
    masks = [parse_hex(value) for value in args]
    if as_json:
        print(json.dumps([_set_json(mask) for mask in masks], indent=2))
        return 0
    for mask in masks:
        print(decode_line(mask))
    return 0


def _set_json(mask: int) -> dict[str, object]:
    return {
        "hex": f"0x{mask:016x}",
        "names": [
            cap_name(n) if n < len(CAPABILITIES) else n
            for n in range(mask.bit_length())
            if mask >> n & 1
        ],
    }


def _parse(text: str, as_json: bool) -> int:
    from ocitool.captext import parse_captext

    sets = parse_captext(text, source="TEXT")
    masks = {
        "effective": sets.effective,
        "permitted": sets.permitted,
        "inheritable": sets.inheritable,
        "bounding": sets.permitted | sets.inheritable,
        "ambient": 0,
    }
    if as_json:
        out: dict[str, object] = {"text": text, "canonical": sets.to_text()}
        out.update({name: _set_json(mask) for name, mask in masks.items()})
        print(json.dumps(out, indent=2))
        return 0
    print(f"text:        {text}")
    print(f"canonical:   {sets.to_text()}")
    for name, mask in masks.items():
        print(f"{name:<12} {decode_line(mask)}")
        note = MEANING[name]
        if name == "bounding":
            note += " (derived: permitted | inheritable)"
        elif name == "ambient":
            note += " (the text form has none: empty)"
        print(f"{'':<12} {note}")
    if sets.effective & ~sets.permitted:
        extra = decode_line(sets.effective & ~sets.permitted).split("=", 1)[1]
        print(f"warning: effective but not permitted ({extra}): a process cannot hold these")
    return 0


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="ocitool caps", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True, metavar="{decode,parse}")
    dec = sub.add_parser(
        "decode", help="names of the capabilities in a bitmap (like capsh --decode)"
    )
    dec.add_argument("values", nargs="*", metavar="HEX", help="bitmap(s), e.g. 0x00000000a80425fb")
    dec.add_argument("--pid", type=int, help="decode the five sets of a running process")
    dec.add_argument("--json", action="store_true", help="machine-readable output")
    par = sub.add_parser("parse", help="the five bitmaps a libcap capability text means")
    par.add_argument("text", metavar="TEXT", help="e.g. 'cap_chown,cap_kill=ep cap_net_raw+i'")
    par.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    if args.action == "decode":
        return _decode(args.values, args.pid, args.json)
    return _parse(args.text, args.json)
