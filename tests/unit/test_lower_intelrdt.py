"""linux.intelRdt -> resctrl group: mkdir, schemata, tasks, monitoring group; refused without resctrl."""

from __future__ import annotations

import pytest

from ocitool.errors import LoweringError
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Phase
from tests.unit.plan_helpers import config, plan_of

RDT = {
    "closID": "gold",
    "l3CacheSchema": "L3:0=7f0;1=1f",
    "memBwSchema": "MB:0=20;1=70",
    "schemata": ["L2:0=f;1=f"],
    "enableMonitoring": True,
}


def rdt_ops(plan):  # type: ignore[no-untyped-def]
    return [op for op in plan.ops if "resctrl" in str(getattr(op, "path", ""))]


def test_resctrl_group() -> None:
    plan = plan_of(config(linux={"intelRdt": RDT}), HostInfo.preset("v2", "x86_64"))
    ops = [(op.name, op.phase, op.to_json()["path"]) for op in rdt_ops(plan)]
    assert ops == [
        ("cgroup_mkdir", Phase.CREATE_RUNTIME, "/sys/fs/resctrl/gold"),
        ("cgroup_write", Phase.CREATE_RUNTIME, "/sys/fs/resctrl/gold/schemata"),
        ("cgroup_mkdir", Phase.CREATE_RUNTIME, "/sys/fs/resctrl/gold/mon_groups/c1"),
        # no user namespace: the init joins itself (lower/spawn.py)
        ("cgroup_join", Phase.CREATE_NAMESPACES, "/sys/fs/resctrl/gold/tasks"),
        ("cgroup_join", Phase.CREATE_NAMESPACES, "/sys/fs/resctrl/gold/mon_groups/c1/tasks"),
        ("cgroup_remove", Phase.DELETE, "/sys/fs/resctrl/gold/mon_groups/c1"),
    ]
    schemata = next(op for op in rdt_ops(plan) if op.name == "cgroup_write").to_json()
    assert schemata["value"] == "L3:0=7f0;1=1f\nMB:0=20;1=70\nL2:0=f;1=f\n"
    names = [op.name for op in plan.ops]
    join = next(
        i for i, op in enumerate(plan.ops) if op.to_json().get("path", "").endswith("gold/tasks")
    )
    assert names.index("clone") < join


def test_default_clos_is_container_id_and_removed() -> None:
    plan = plan_of(config(linux={"intelRdt": {"l3CacheSchema": "L3:0=f"}}))
    paths = [(op.name, op.to_json()["path"]) for op in rdt_ops(plan)]
    assert ("cgroup_mkdir", "/sys/fs/resctrl/c1") in paths
    assert ("cgroup_remove", "/sys/fs/resctrl/c1") in paths
    assert ("cgroup_remove", "/sys/fs/resctrl/gold") not in paths


def test_no_resctrl_is_an_error() -> None:
    with pytest.raises(LoweringError) as info:
        plan_of(config(linux={"intelRdt": RDT}), HostInfo.preset("v2", "aarch64"))
    assert info.value.pointer == "/linux/intelRdt" and info.value.code == "OCI343"
    ok = plan_of(
        config(linux={"intelRdt": RDT}), HostInfo.parse_overrides("arch=aarch64,resctrl=1")
    )
    assert rdt_ops(ok)


def test_bad_schemata_line() -> None:
    with pytest.raises(LoweringError) as info:
        plan_of(config(linux={"intelRdt": {"schemata": ["L3:0=f", "garbage"]}}))
    assert info.value.pointer == "/linux/intelRdt/schemata/1"
