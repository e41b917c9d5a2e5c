"""pause, resume, update: the container's cgroup, changed while it runs.

What only ``update`` needs (json, copy) is imported there: pause and resume,
which engines call as often as kill, load this module too.
"""

from __future__ import annotations

import os

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
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

# runc update's single-value flags (runc's names) -> (path in linux.resources, type)
UPDATE_VALUES: dict[str, tuple[tuple[str, ...], type]] = {
    "memory": (("memory", "limit"), int),
    "memory-reservation": (("memory", "reservation"), int),
    "memory-swap": (("memory", "swap"), int),
    "kernel-memory": (("memory", "kernel"), int),
    "kernel-memory-tcp": (("memory", "kernelTCP"), int),
    "cpu-share": (("cpu", "shares"), int),
    "cpu-quota": (("cpu", "quota"), int),
    "cpu-period": (("cpu", "period"), int),
    "cpu-burst": (("cpu", "burst"), int),
    "cpu-idle": (("cpu", "idle"), int),
    "cpu-rt-runtime": (("cpu", "realtimeRuntime"), int),
    "cpu-rt-period": (("cpu", "realtimePeriod"), int),
    "cpuset-cpus": (("cpu", "cpus"), str),
    "cpuset-mems": (("cpu", "mems"), str),
    "blkio-weight": (("blockIO", "weight"), int),
    "pids-limit": (("pids", "limit"), int),
}
# older spellings still accepted (ocitool-runc's own before it followed runc's)
UPDATE_ALIASES = {"cpu-share": ("cpu-shares",)}
# runc update's Intel RDT flags -> field of linux.intelRdt
RDT_VALUES = {"l3-cache-schema": "l3CacheSchema", "mem-bw-schema": "memBwSchema"}

UPDATE_FLAGS: tuple[Flag, ...] = (
    Flag(("resources", "r"), VALUE, help="a LinuxResources JSON file, or - for stdin"),
)
UPDATE_FLAGS += tuple(
    Flag((name, *UPDATE_ALIASES.get(name, ())), VALUE, help=f"set {'.'.join(path)}")
    for name, (path, _) in UPDATE_VALUES.items()
)
UPDATE_FLAGS += tuple(
    Flag((name,), VALUE, help=f"set linux.intelRdt.{field}") for name, field in RDT_VALUES.items()
)


def requested_rdt(p: Any, config: dict[str, Any]) -> dict[str, Any] | None:
    """linux.intelRdt with --l3-cache-schema/--mem-bw-schema applied, or None when not asked.

    As runc: only a container created with intelRdt can have it updated.
    """
    asked = {field: p.value(name.replace("-", "_")) for name, field in RDT_VALUES.items()}
    asked = {k: v for k, v in asked.items() if v}
    if not asked:
        return None
    rdt = (config.get("linux") or {}).get("intelRdt")
    if not isinstance(rdt, dict):
        raise usage_error(
            message="updating a non-existent Intel RDT configuration is not supported",
            code="OCI010",
        )
    return {**rdt, **asked}


def _running(g: Globals, cid: str) -> Any:
    st = load_state(g.store(), cid)
    return st, live_status(st)


def _set_frozen(g: Globals, st: Any, frozen: bool) -> None:
    from ocitool.lower.host import HostInfo
    from ocitool.runc import live as L

    L.apply(g, st, L.freeze_ops(HostInfo.detect(), C.cgroup_dirs(st), frozen))


def cmd_pause(g: Globals, argv: list[str]) -> int:
    cid = exactly_one("pause", parse(argv, ()).args)
    st, status = _running(g, cid)
    if status != "running":
        raise state_error(message="container not running", code="OCI606")
    _set_frozen(g, st, True)
    return 0


def cmd_resume(g: Globals, argv: list[str]) -> int:
    cid = exactly_one("resume", parse(argv, ()).args)
    st, status = _running(g, cid)
    if status != "paused":
        raise state_error(message="container not paused", code="OCI610")
    _set_frozen(g, st, False)
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
    import copy

    out = copy.deepcopy(base)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def cmd_update(g: Globals, argv: list[str]) -> int:
    p = parse(argv, UPDATE_FLAGS)
    cid = exactly_one("update", p.args)
    store = g.store()
    st = load_state(store, cid)
    if live_status(st) == "stopped":
        raise state_error(message="container not running", code="OCI606")
    res = requested_resources(p)
    config = C.saved_config(store, st)
    rdt = requested_rdt(p, config)
    linux = dict(config.get("linux") or {})
    linux["resources"] = merge(linux.get("resources") or {}, res)
    if rdt is not None:
        linux["intelRdt"] = rdt
    config = dict(config)
    config["linux"] = linux
    _, spec = C.spec_from_data(config, os.path.join(st.bundle, "config.json"))
    plan = C.lower_spec(spec, cid, st.bundle, C.systemd_driver(st))
    import json

    from ocitool.runc import live as L
    from ocitool.runc.files import write_atomic

    L.apply(g, st, L.update_ops(plan.ops, C.cgroup_dirs(st), rdt is not None))
    write_atomic(C.saved_config_path(store, cid), json.dumps(config).encode(), 0o600)
    return 0
