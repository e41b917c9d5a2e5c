"""list, ps, features: read-only views of containers and of the runtime."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from ocitool.runc import container as C
from ocitool.runc.args import BOOL, VALUE, Flag, parse
from ocitool.runc.cmd_lifecycle import state_dict
from ocitool.runc.common import Globals, at_least_one, live_status, load_state
from ocitool.runc.errs import state_error, usage_error

LIST_FLAGS = (
    Flag(("format", "f"), VALUE, "table", help="table or json"),
    Flag(("quiet", "q"), BOOL, help="print only the container ids"),
)
PS_FLAGS = (Flag(("format", "f"), VALUE, "table", help="table or json"),)


def _format(p: Any) -> str:
    fmt = p.value("format") or "table"
    if fmt not in ("table", "json"):
        raise usage_error(
            message=f"invalid format option {fmt!r}", code="OCI010", hint="table or json"
        )
    return fmt


def cmd_list(g: Globals, argv: list[str]) -> int:
    p = parse(argv, LIST_FLAGS)
    fmt = _format(p)
    store = g.store()
    rows: list[dict[str, Any]] = []
    for cid in store.ids():
        if cid.startswith("."):
            continue  # not a container (e.g. the executor's plan cache)
        try:
            st = load_state(store, cid)
        except Exception:
            continue  # removed meanwhile, or unreadable: list what can be listed
        rows.append(state_dict(st, live_status(st)))
    if p.on("quiet"):
        sys.stdout.write("".join(r["id"] + "\n" for r in rows))
    elif fmt == "json":
        # runc encodes a nil slice: "null" when there is nothing
        sys.stdout.write(json.dumps(rows or None) + "\n")
    else:
        table = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
        table += [
            [r["id"], str(r["pid"]), r["status"], r["bundle"], r["created"], r["owner"]]
            for r in rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        for row in table:
            sys.stdout.write(
                "   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
            )
    return 0


def cmd_ps(g: Globals, argv: list[str]) -> int:
    p = parse(argv, PS_FLAGS)
    fmt = _format(p)
    at_least_one("ps", p.args)
    cid, ps_args = p.args[0], p.args[1:]
    st = load_state(g.store(), cid)
    if live_status(st) == "stopped":
        raise state_error(message="container not running", code="OCI606")
    from ocitool.runc.cgroup import pids

    found = pids(C.cgroup_dirs(st))
    if fmt == "json":
        sys.stdout.write(json.dumps(found) + "\n")
        return 0
    # runc: run ps(1) with the given arguments (default -ef) and keep the header and our pids
    try:
        out = subprocess.run(
            ["ps", *(ps_args or ["-ef"])], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise state_error(message=f"ps: {exc}", code="OCI609") from None
    lines = out.splitlines()
    if not lines:
        return 0
    header = lines[0].split()
    if "PID" not in header:
        raise state_error(message="couldn't find PID field in ps output", code="OCI609")
    col = header.index("PID")
    keep = set(found)
    sys.stdout.write(lines[0] + "\n")
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > col and fields[col].isdigit() and int(fields[col]) in keep:
            sys.stdout.write(line + "\n")
    return 0


def cmd_features(g: Globals, argv: list[str]) -> int:
    p = parse(argv, ())
    if p.args:
        raise usage_error(message='"features" takes no arguments', code="OCI010")
    from ocitool import __version__
    from ocitool.exec.apply import APPLIERS
    from ocitool.runc.features import features

    sys.stdout.write(json.dumps(features(APPLIERS, __version__), indent=4) + "\n")
    return 0
