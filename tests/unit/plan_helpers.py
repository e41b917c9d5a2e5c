"""Shared helpers for the lowering tests: build a Spec from a dict and lower it purely."""

from __future__ import annotations

import copy
import json
from typing import Any

from ocitool.lower import lower
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.plan import Plan
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text
from ocitool.spec.model import Spec

BASE: dict[str, Any] = {
    "ociVersion": "1.2.0",
    "process": {
        "user": {"uid": 0, "gid": 0},
        "cwd": "/",
        "args": ["sh"],
        "env": ["PATH=/bin"],
        "capabilities": {
            "bounding": ["CAP_KILL"],
            "effective": ["CAP_KILL"],
            "permitted": ["CAP_KILL"],
        },
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs"},
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}]},
}


def config(**changes: Any) -> dict[str, Any]:
    """BASE with top-level members replaced (``process``/``linux`` are merged one level)."""
    doc = copy.deepcopy(BASE)
    for key, value in changes.items():
        if key in ("process", "linux") and isinstance(value, dict):
            doc[key].update(value)
        elif value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def spec_of(data: dict[str, Any]) -> Spec:
    return build_spec(parse_text(json.dumps(data, indent=2), "config.json"))


def ctx_for(spec: Spec, host: HostInfo | None = None) -> LowerContext:
    return LowerContext(
        spec=spec, host=host or HostInfo.preset("v2"), container_id="c1", bundle="/bundle"
    )


def plan_of(data: dict[str, Any], host: HostInfo | None = None) -> Plan:
    return lower(spec_of(data), host or HostInfo.preset("v2"), container_id="c1", bundle="/bundle")


def names(plan: Plan) -> list[str]:
    return [op.name for op in plan.ops]


def texts(plan: Plan) -> list[str]:
    return [op.text() for op in plan.ops]
