"""The spawn pass: namespaces folded into the clone, the fork dropped, cgroup joins made
cheap -- all in the plan, so the printed plan is what the engine runs."""

from __future__ import annotations

import json
from typing import Any

from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.cgroup import CgroupJoin
from ocitool.plan.ops.namespaces import Clone, Fork, Unshare
from ocitool.records import replace
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text
from tests.unit.test_lower_cgroups import HYBRID_CI

V2 = HostInfo(cgroup="v2", unified_mount="/sys/fs/cgroup", unified_controllers=("memory", "pids"))


def _plan(namespaces: list[dict[str, str]], host: HostInfo = HYBRID_CI, **linux: Any) -> list[Op]:
    cfg = {
        "ociVersion": "1.2.0",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "linux": {"namespaces": namespaces, **linux},
    }
    spec = build_spec(parse_text(json.dumps(cfg)))
    return list(lower(spec, host, container_id="web", bundle="/b").ops)


def _one(ops: list[Op], kind: type[Op]) -> Any:
    (op,) = [op for op in ops if isinstance(op, kind)]
    return op


NS = [{"type": t} for t in ("mount", "pid", "cgroup", "uts")]


def test_leading_unshare_is_folded_into_the_clone_and_the_pid_fork_dropped() -> None:
    ops = _plan(NS)
    clone = _one(ops, Clone)
    assert clone.flags == ("CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWPID")
    # the cgroup namespace keeps its own unshare, after the cgroup join
    assert [op.flags for op in ops if isinstance(op, Unshare)] == [("CLONE_NEWCGROUP",)]
    assert not [op for op in ops if isinstance(op, Fork)]
    assert "CLONE_NEWPID" in clone.text()


def test_without_a_user_namespace_the_init_joins_its_v1_cgroups_itself() -> None:
    ops = _plan(NS)
    joins = [op for op in ops if isinstance(op, CgroupJoin)]
    assert joins and all(op.phase is Phase.CREATE_NAMESPACES and op.pid == "0" for op in joins)
    assert all(op.path.endswith("/tasks") for op in joins)
    # before anything else the init does, so host paths still resolve
    first_init = next(i for i, op in enumerate(ops) if op.phase.process == "init")
    assert ops[first_init] is joins[0]
    # the controller-less unified hierarchy: the clone starts the init there
    assert _one(ops, Clone).cgroup == "/sys/fs/cgroup/unified/ocitool/web"


def test_old_kernels_join_cgroup2_by_a_write_not_clone3() -> None:
    old = replace(HYBRID_CI, kernel=(5, 4, 0))
    ops = _plan(NS, host=old)
    assert _one(ops, Clone).cgroup == ""
    assert "/sys/fs/cgroup/unified/ocitool/web/cgroup.procs" in [
        op.path for op in ops if isinstance(op, CgroupJoin)
    ]


def test_with_a_user_namespace_the_runtime_writes_the_pid() -> None:
    maps = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    ops = _plan([*NS, {"type": "user"}], uidMappings=maps, gidMappings=maps)
    clone = _one(ops, Clone)
    assert clone.flags[0] == "CLONE_NEWUSER"
    joins = [op for op in ops if isinstance(op, CgroupJoin)]
    assert joins and all(op.phase is Phase.CREATE_SPAWN and op.pid == "{init}" for op in joins)


def test_a_setns_first_keeps_the_unshare_in_the_init() -> None:
    ops = _plan([*NS[:1], {"type": "ipc", "path": "/proc/1/ns/ipc"}, *NS[1:]])
    assert _one(ops, Clone).flags == ()
    assert any(isinstance(op, Unshare) and "CLONE_NEWPID" in op.flags for op in ops)
    assert _one(ops, Fork)  # the fork really forks


def test_a_time_namespace_keeps_the_pid_namespace_out_of_the_clone() -> None:
    """A new time namespace needs a real fork; CLONE_NEWPID then stays in the unshare,
    so the fork's child (not the exiting parent) is pid 1 of the new pid namespace."""
    ops = _plan([{"type": "mount"}, {"type": "pid"}, {"type": "time"}])
    assert _one(ops, Clone).flags == ("CLONE_NEWNS",)
    assert [op.flags for op in ops if isinstance(op, Unshare)] == [
        ("CLONE_NEWPID", "CLONE_NEWTIME")
    ]
    assert _one(ops, Fork)


def test_cgroup_v2_starts_the_init_in_its_cgroup() -> None:
    ops = _plan(NS, host=V2)
    assert _one(ops, Clone).cgroup == "/sys/fs/cgroup/ocitool/web"
    assert not [op for op in ops if isinstance(op, CgroupJoin)]
