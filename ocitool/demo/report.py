"""Compare what the plan promised with what the container saw from inside.

Promises are read from the Plan's canonical JSON (the same data ``ocitool
plan --format json`` prints), so the demo checks the real contract between
the plan and the executor rather than re-deriving it from the config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CAP_ROWS = (("bounding", "CapBnd"), ("permitted", "CapPrm"), ("effective", "CapEff"),
            ("inheritable", "CapInh"), ("ambient", "CapAmb"))  # fmt: skip


@dataclass(frozen=True)
class Row:
    what: str
    promised: str
    seen: str

    @property
    def ok(self) -> bool:
        return self.promised == self.seen


def _ops(plan_json: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [op for op in plan_json["ops"] if op["op"] == name]


def masked_paths(plan_json: dict[str, Any]) -> list[str]:
    return [op["path"] for op in _ops(plan_json, "mask_path")]


def compare(plan_json: dict[str, Any], seen: dict[str, str]) -> list[Row]:
    """One row per promise the plan makes that the probe can observe."""
    rows: list[Row] = []
    missing = "(not seen)"
    for op in _ops(plan_json, "sethostname")[:1]:
        rows.append(Row("hostname", op["name"], seen.get("hostname", missing)))
    uid = _ops(plan_json, "setresuid")
    gid = _ops(plan_json, "setresgid")
    if uid and gid:
        rows.append(Row("uid:gid", f"{uid[-1]['euid']}:{gid[-1]['egid']}", seen.get("id", missing)))
    for op in _ops(plan_json, "write_file"):
        if op["path"].endswith("/uid_map"):
            first = op["value"].splitlines()[0]
            rows.append(
                Row(
                    "uid_map",
                    " ".join(first.split()),
                    " ".join(seen.get("uid_map", missing).split()),
                )
            )
    for op in _ops(plan_json, "capabilities")[-1:]:
        for field, key in CAP_ROWS:
            rows.append(Row(key, f"{op[field]:016x}", seen.get(key, missing)))
    rows.append(Row("NoNewPrivs", "1" if _ops(plan_json, "no_new_privs") else "0",
                    seen.get("NoNewPrivs", missing)))  # fmt: skip
    filters = len(_ops(plan_json, "seccomp_load"))
    rows.append(Row("Seccomp", "2" if filters else "0", seen.get("Seccomp", missing)))
    if filters:
        rows.append(Row("Seccomp_filters", str(filters), seen.get("Seccomp_filters", missing)))
    for op in _ops(plan_json, "cgroup_write"):
        if op["path"].endswith(("memory.limit_in_bytes", "/memory.max")):
            rows.append(Row("memory limit", op["value"], seen.get("memory_limit", missing)))
    for path in masked_paths(plan_json):
        key = f"masked:{path}"
        if key in seen:
            observed = seen[key]
            empty = observed.startswith("0 ")
            rows.append(Row(f"masked {path}", "empty", "empty" if empty else observed))
    readonly_root = any(
        op["target"] == "/" and "MS_RDONLY" in op["flags"] for op in _ops(plan_json, "remount")
    )
    rows.append(
        Row("root writable", "no" if readonly_root else "yes", seen.get("root_writable", missing))
    )
    return rows
