"""ocitool/lower/joinedpid.py: a container that joins a pid namespace forks into it only
after its root switch, and mounts /proc from inside it; the verifier knows the rule.

The attack this prevents is tests/integration/test_exec_5736.py
(``test_init_joining_a_pid_namespace_exposes_no_writable_runtime_file``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ocitool.errors import LoweringError
from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.lower.joinedpid import in_proc, root_switched
from ocitool.lower.verify import joined_pid_problems
from ocitool.plan.ops.namespaces import Fork
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text
from ocitool.spec.model import Spec

REPO = Path(__file__).resolve().parents[2]
HOST = HostInfo.preset("hybrid")


def _config(join_pid: bool = True, mounts: list[dict[str, Any]] | None = None) -> Spec:
    data = copy.deepcopy(json.loads((REPO / "examples/busybox/config.json").read_text()))
    if join_pid:
        for ns in data["linux"]["namespaces"]:
            if ns["type"] == "pid":
                ns["path"] = "/proc/4242/ns/pid"
    data["mounts"] += mounts or []
    return build_spec(parse_text(json.dumps(data, indent=2), "config.json"))


def _fork_index(ops: list[Any]) -> int:
    return next(i for i, op in enumerate(ops) if isinstance(op, Fork))


@pytest.mark.parametrize("no_pivot", [False, True])
def test_the_fork_comes_after_the_root_switch_and_before_the_proc_mount(no_pivot: bool) -> None:
    ops = lower(_config(), HOST, container_id="j", bundle="/b", no_pivot=no_pivot).ops
    fork, switched = _fork_index(ops), root_switched(ops)
    assert switched >= 0 and fork > switched
    assert ops[switched].name == ("chroot" if no_pivot else "chdir")
    assert all(op.name == "chdir" for op in ops[switched + 1 : fork])  # chroot's chdir("/")
    assert not any(in_proc(op) for op in ops[:fork])  # nothing at /proc of the rootfs before
    proc = [op for op in ops if op.name == "mount" and getattr(op, "fstype", None) == "proc"]
    assert len(proc) == 1 and ops.index(proc[0]) > fork
    assert proc[0].root is None and proc[0].target == "/proc"  # /proc of the new root


def test_a_new_pid_namespace_keeps_its_order() -> None:
    """Nothing in a new pid namespace can see the init before create returns: no change."""
    ops = lower(_config(join_pid=False), HOST, container_id="n", bundle="/b").ops
    assert not any(isinstance(op, Fork) for op in ops)  # folded into the clone
    proc = next(op for op in ops if getattr(op, "fstype", None) == "proc")
    assert proc.root == "/b/rootfs" and ops.index(proc) < root_switched(ops)


def test_the_verifier_refuses_a_fork_before_the_root_switch() -> None:
    spec = _config()
    ops = list(lower(spec, HOST, container_id="j", bundle="/b").ops)
    assert joined_pid_problems(spec, ops) == []
    fork = ops.pop(_fork_index(ops))
    ops.insert(root_switched(ops) - 4, fork)  # before pivot_root: the old order
    assert any("before the root switch" in p for p in joined_pid_problems(spec, ops))
    proc = next(op for op in ops if getattr(op, "fstype", None) == "proc")
    early = [proc.__class__(**{**proc.__dict__, "root": "/b/rootfs"})]
    assert any("/proc is mounted" in p for p in joined_pid_problems(spec, early + ops))


def test_a_bind_mount_onto_proc_in_a_joined_pid_namespace_is_refused() -> None:
    lxcfs = {
        "destination": "/proc/cpuinfo",
        "type": "bind",
        "source": "/var/lib/lxcfs/proc/cpuinfo",
        "options": ["rbind"],
    }
    with pytest.raises(LoweringError) as info:
        lower(_config(mounts=[lxcfs]), HOST, container_id="j", bundle="/b")
    assert info.value.code == "OCI371"
    assert info.value.pointer.startswith("/mounts/")
    lower(_config(join_pid=False, mounts=[lxcfs]), HOST, container_id="n", bundle="/b")
