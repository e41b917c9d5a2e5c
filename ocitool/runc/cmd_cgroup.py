"""pause, resume, update: the container's cgroup, changed while it runs."""

from __future__ import annotations

import copy
import json
from typing import Any

from ocitool import lightos as os
from ocitool.runc import container as C
from ocitool.runc.args import VALUE, Flag, parse
from ocitool.runc.common import (
    Globals,
    exactly_one,
    live_status,
    load_state,
    read_json_object,
)
from ocitool.runc.errs import state_error, usage_error

# runc update's single-value flags -> (path in linux.resources, type)
UPDATE_VALUES: dict[str, tuple[tuple[str, ...], type]] = {
    "memory": (("memory", "limit"), int),
    "memory-reservation": (("memory", "reservation"), int),
    "memory-swap": (("memory", "swap"), int),
    "kernel-memory": (("memory", "kernel"), int),
    "cpu-shares": (("cpu", "shares"), int),
    "cpu-quota": (("cpu", "quota"), int),
    "cpu-period": (("cpu", "period"), int),
    "cpu-rt-runtime": (("cpu", "realtimeRuntime"), int),
    "cpu-rt-period": (("cpu", "realtimePeriod"), int),
    "cpuset-cpus": (("cpu", "cpus"), str),
    "cpuset-mems": (("cpu", "mems"), str),
    "blkio-weight": (("blockIO", "weight"), int),
    "pids-limit": (("pids", "limit"), int),
}
UPDATE_FLAGS: tuple[Flag, ...] = (
    Flag(("resources", "r"), VALUE, help="a LinuxResources JSON file, or - for stdin"),
)
UPDATE_FLAGS += tuple(
    Flag((name,), VALUE, help=f"set {'.'.join(path)}") for name, (path, _) in UPDATE_VALUES.items()
)


def _running(g: Globals, cid: str) -> Any:
    st = load_state(g.store(), cid)
    return st, live_status(st)


def cmd_pause(g: Globals, argv: list[str]) -> int:
    from ocitool.runc.cgroup import set_frozen

    cid = exactly_one("pause", parse(argv, ()).args)
    st, status = _running(g, cid)
    if status != "running":
        raise state_error(message="container not running", code="OCI606")
    set_frozen(C.cgroup_dirs(st), True)
    return 0


def cmd_resume(g: Globals, argv: list[str]) -> int:
    from ocitool.runc.cgroup import set_frozen

    cid = exactly_one("resume", parse(argv, ()).args)
    st, status = _running(g, cid)
    if status != "paused":
        raise state_error(message="container not paused", code="OCI610")
    set_frozen(C.cgroup_dirs(st), False)
    return 0


def _memory_value(text: str) -> int:
    """runc accepts -1 and byte counts, also with k/m/g suffixes (docker units)."""
    t = text.strip().lower()
    mult = 1
    for suffix, m in (("k", 1024), ("m", 1024**2), ("g", 1024**3)):
        if t.endswith((suffix, suffix + "b")):
            t, mult = t.rstrip("b")[:-1], m
            break
    return int(t) * mult


def requested_resources(p: Any) -> dict[str, Any]:
    """The LinuxResources object asked for: --resources file/stdin, then the single flags."""
    res: dict[str, Any] = {}
    src = p.value("resources")
    if src:
        res = read_json_object(src, "resources", dash_is_stdin=True)
    for name, (path, kind) in UPDATE_VALUES.items():
        raw = p.value(name.replace("-", "_"))
        if raw is None:
            continue
        try:
            value: Any = (
                kind(raw)
                if kind is str
                else (_memory_value(raw) if path[0] == "memory" else int(raw))
            )
        except ValueError:
            raise usage_error(
                message=f"invalid value for --{name}: {raw!r}", code="OCI010"
            ) from None
        res.setdefault(path[0], {})[path[1]] = value
    return res


def merge(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def limit_writes(plan: Any, dirs: list[str]) -> list[tuple[str, str]]:
    """The plan's limit writes into the container's own cgroup, minus the device policy."""
    writes = []
    for op in plan.ops:
        if op.name != "cgroup_write" or op.phase.value != "create.runtime":
            continue
        name = os.path.basename(op.path)
        if name.startswith("devices.") or name == "cgroup.subtree_control":
            continue
        if any(op.path.startswith(d.rstrip("/") + "/") for d in dirs):
            writes.append((op.path, op.value))
    return writes


def cmd_update(g: Globals, argv: list[str]) -> int:
    p = parse(argv, UPDATE_FLAGS)
    cid = exactly_one("update", p.args)
    store = g.store()
    st = load_state(store, cid)
    if live_status(st) == "stopped":
        raise state_error(message="container not running", code="OCI606")
    res = requested_resources(p)
    config = C.saved_config(store, st)
    linux = dict(config.get("linux") or {})
    linux["resources"] = merge(linux.get("resources") or {}, res)
    config = dict(config)
    config["linux"] = linux
    _, spec = C.spec_from_data(config, os.path.join(st.bundle, "config.json"))
    plan = C.lower_spec(spec, cid, st.bundle)
    from ocitool.runc.cgroup import write_values
    from ocitool.runc.files import write_atomic

    write_values(limit_writes(plan, C.cgroup_dirs(st)))
    write_atomic(C.saved_config_path(store, cid), json.dumps(config).encode(), 0o600)
    return 0
