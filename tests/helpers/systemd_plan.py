"""The plan of a config lowered with the systemd cgroup driver (shared by its tests)."""

from __future__ import annotations

import json
from typing import Any

from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.plan.plan import Plan
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text

SYSTEMD_V2 = HostInfo.parse_overrides("cgroup=v2,systemd=1")


def systemd_plan(cfg: dict[str, Any], host: HostInfo = SYSTEMD_V2, cid: str = "web") -> Plan:
    spec = build_spec(parse_text(json.dumps(cfg), "config.json"))
    return lower(spec, host, container_id=cid, bundle=f"/run/bundles/{cid}", systemd_cgroup=True)


def op_named(plan: Plan, name: str) -> Any:
    return next(op for op in plan.ops if op.name == name)
