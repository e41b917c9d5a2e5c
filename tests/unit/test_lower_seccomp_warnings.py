"""Compiler warnings (unknown syscall names) reach the plan's diagnostics, pointed into the config."""

from __future__ import annotations

import json
from pathlib import Path

from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_syscall_name_is_a_located_plan_warning() -> None:
    config = json.loads((ROOT / "examples/busybox/config.json").read_text())
    config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["read", "no_such_syscall_xyz"], "action": "SCMP_ACT_ALLOW"}],
    }
    doc = parse_text(json.dumps(config, indent=2), "config.json")
    plan = lower(build_spec(doc), HostInfo.preset("v1"), container_id="w", bundle="/b")
    warnings = [d for d in plan.diagnostics if "no_such_syscall_xyz" in d.message]
    assert len(warnings) == 1
    assert warnings[0].severity == "warning"
    assert warnings[0].pointer.startswith("/linux/seccomp/syscalls/0")
    assert plan.find("seccomp_load")
