"""Fail-closed lowering: a broken or silent concern makes ``lower()`` fail, never shortens the plan.

Three ways a plan could come out short, each tested for every concern:
* a concern module cannot be imported (``lower()`` raises the ImportError);
* a concern runs but returns nothing (the verifier refuses the plan, OCI398);
* an op the config asks for is removed after lowering (``verify_plan`` says which).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import ocitool.lower
from ocitool.errors import InternalError
from ocitool.lower import concerns as concerns_module
from ocitool.lower import lower
from ocitool.lower import seccomp as lower_seccomp
from ocitool.lower.concerns import CONCERNS
from ocitool.lower.host import HostInfo
from ocitool.lower.verify import needs, verify_plan
from ocitool.plan.ops.base import Op
from ocitool.plan.ops.security import SeccompLoad
from ocitool.plan.plan import Plan
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text
from ocitool.spec.model import Spec

REPO = Path(__file__).resolve().parents[2]
# examples/full asks for AppArmor and SELinux labels: plan for a host that has both.
HOST = HostInfo.parse_overrides("lsms=capability+apparmor+selinux", HostInfo.preset("v2", "x86_64"))


def _full(*, early_seccomp: bool = False) -> dict[str, Any]:
    """examples/full (every field) minus what a v2 host cannot honour."""
    data: dict[str, Any] = json.loads((REPO / "examples" / "full" / "config.json").read_text())
    data = copy.deepcopy(data)
    for key in ("realtimeRuntime", "realtimePeriod"):
        data["linux"]["resources"]["cpu"].pop(key, None)
    if early_seccomp:
        data["process"]["noNewPrivileges"] = False
        data["process"]["capabilities"]["effective"] = ["CAP_KILL"]
    return data


def _spec(data: dict[str, Any]) -> Spec:
    return build_spec(parse_text(json.dumps(data, indent=2), "config.json"))


def _lower(data: dict[str, Any]) -> Plan:
    return lower(_spec(data), HOST, container_id="c1", bundle="/bundle")


CONCERN_NAMES = [name for name, _ in CONCERNS]
MODULE_NAMES = sorted({name.split(".")[0] for name in CONCERN_NAMES})


def test_every_concern_module_is_listed() -> None:
    """The list is the lowering: every concern module of ocitool/lower is in it."""
    folder = REPO / "ocitool" / "lower"
    helpers = {"__init__", "concerns", "context", "host", "verify", "mount_options", "devices"}
    helpers.add("rootless")  # called by the cgroups and namespaces concerns
    passes = {"spawn", "nopivot", "joinedpid"}  # rewrite the merged plan; lower() runs them
    helpers |= passes
    on_disk = {p.stem for p in folder.glob("*.py")} - helpers
    on_disk |= {p.name for p in folder.iterdir() if (p / "__init__.py").exists()}
    assert on_disk == set(MODULE_NAMES)


@pytest.mark.parametrize("module", MODULE_NAMES)
def test_a_concern_that_cannot_be_imported_makes_lower_fail(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = f"ocitool.lower.{module}"
    monkeypatch.delattr(ocitool.lower, module)
    monkeypatch.setitem(sys.modules, full, None)  # "import of ... halted": an ImportError
    monkeypatch.delitem(sys.modules, "ocitool.lower.concerns")
    monkeypatch.delattr(ocitool.lower, "concerns")
    with pytest.raises(ImportError, match=full):
        _lower(_full())


def _spec_for(concern: str) -> dict[str, Any]:
    return _full(early_seccomp=concern == "seccomp.lower_seccomp_early")


@pytest.mark.parametrize("concern", CONCERN_NAMES)
def test_a_concern_that_returns_nothing_makes_lower_fail(
    concern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _spec_for(concern)
    spec = _spec(data)
    fn = dict(CONCERNS)[concern]
    from ocitool.lower.context import LowerContext

    ctx = LowerContext(spec=spec, host=HOST, container_id="c1", bundle="/bundle")
    assert fn(spec, HOST, ctx), f"{concern} emits nothing for the test config: the test is void"
    silent = tuple((n, (lambda s, h, c: []) if n == concern else f) for n, f in CONCERNS)
    monkeypatch.setattr(concerns_module, "CONCERNS", silent)
    with pytest.raises(InternalError) as err:
        _lower(data)
    assert err.value.code == "OCI398"
    assert concern.split(".")[0] in err.value.message


def test_a_short_plan_exits_70_from_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug caught by the verifier is an internal error (exit 70) with its code, no traceback."""
    from ocitool.cli.main import main

    silent = tuple(
        (n, (lambda s, h, c: []) if n == "mounts.lower_mounts" else f) for n, f in CONCERNS
    )
    monkeypatch.setattr(concerns_module, "CONCERNS", silent)
    status = main(["plan", "--host", "cgroup=v2,arch=x86_64", str(REPO / "examples" / "busybox")])
    err = capsys.readouterr().err
    assert status == 70
    assert "OCI398" in err and "pivot_root" in err and "Traceback" not in err


def test_the_full_config_lowers_and_verifies() -> None:
    for early in (False, True):
        data = _full(early_seccomp=early)
        plan = _lower(data)
        assert verify_plan(_spec(data), plan.ops, diagnostics=plan.diagnostics) == []


# Ops the verifier must require one by one: removing any single such op from the
# lowered plan of examples/full must be reported.
REQUIRED_KINDS = {
    "pivot_root",
    "umount2",
    "mask_path",
    "readonly_path",
    "seccomp_load",
    "unshare",
    "setns",
    "fork",
    "clone",
    "sethostname",
    "setdomainname",
    "capabilities",
    "setrlimit",
    "hook",
    "execve",
    "no_new_privs",
    "umask",
    "setgroups",
    "netdev_move",
    "personality",
    "set_mempolicy",
    "cgroup_mkdir",
    "cgroup_remove",
    "cgroup_device_program",
    "wait_start",
    "start",
    "kill",
}


def _required_op_cases() -> list[tuple[int, str]]:
    plan = _lower(_full())
    return [(i, op.name) for i, op in enumerate(plan.ops) if op.name in REQUIRED_KINDS]


@pytest.mark.parametrize(("index", "name"), _required_op_cases())
def test_removing_a_required_op_fails_verification(index: int, name: str) -> None:
    data = _full()
    plan = _lower(data)
    assert plan.ops[index].name == name
    short = plan.ops[:index] + plan.ops[index + 1 :]
    assert verify_plan(_spec(data), short, diagnostics=plan.diagnostics), name


def test_required_kinds_all_occur() -> None:
    """Every kind in REQUIRED_KINDS is in the full plan, so each is really tested."""
    assert {name for _, name in _required_op_cases()} == REQUIRED_KINDS


def test_removing_each_mount_entry_fails_verification() -> None:
    data = _full()
    spec = _spec(data)
    plan = _lower(data)
    for mount in spec.mounts:
        short = [op for op in plan.ops if op.source != mount.pointer]
        assert any(mount.pointer in p for p in verify_plan(spec, short)), mount.pointer


def test_a_missing_cgroup_limit_is_reported() -> None:
    data = _full()
    spec = _spec(data)
    plan = _lower(data)
    short = [op for op in plan.ops if op.source != "/linux/resources/memory/limit"]
    problems = verify_plan(spec, short, diagnostics=plan.diagnostics)
    assert problems == ["cgroups: no op or diagnostic for /linux/resources/memory/limit"]


def test_no_pivot_requires_a_chroot_instead() -> None:
    data = _full()
    spec = _spec(data)
    plan = _lower(data)
    problems = verify_plan(spec, plan.ops, diagnostics=plan.diagnostics, no_pivot=True)
    assert problems == ["mounts: missing chroot into the moved rootfs (--no-pivot)"]


def test_every_need_names_a_concern_that_exists() -> None:
    modules = set(MODULE_NAMES)
    for early in (False, True):
        for need in needs(_spec(_full(early_seccomp=early))):
            assert need.concern in modules


# --------------------------------------------------------------------------- seccomp


def test_seccomp_lowering_never_emits_an_uncompiled_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the compiler lowering fails; it does not hand the executor a raw policy."""
    monkeypatch.setattr(lower_seccomp, "_COMPILED", {})
    monkeypatch.setitem(sys.modules, "ocitool.seccomp.compiler", None)
    with pytest.raises(ImportError, match="ocitool.seccomp.compiler"):
        _lower(_full())


def test_a_seccomp_load_always_carries_a_program() -> None:
    plan = _lower(_full())
    loads = [op for op in plan.ops if isinstance(op, SeccompLoad)]
    assert len(loads) == 1 and loads[0].instructions > 0
    assert bytes.fromhex(loads[0].program)  # real bytes, 8 per instruction
    assert len(loads[0].program) == loads[0].instructions * 16
    with pytest.raises(TypeError, match="program"):
        SeccompLoad(phase=loads[0].phase, instructions=1)  # type: ignore[call-arg]


def test_the_verifier_refuses_an_empty_seccomp_program() -> None:
    data = _full()
    plan = _lower(data)
    ops: list[Op] = [
        SeccompLoad(phase=op.phase, source=op.source, instructions=0, program="")
        if isinstance(op, SeccompLoad)
        else op
        for op in plan.ops
    ]
    problems = verify_plan(_spec(data), ops, diagnostics=plan.diagnostics)
    assert "seccomp: missing seccomp_load with a compiled program" in problems


# --------------------------------------------------------------------------- clone folding


def _busybox() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPO / "examples" / "busybox" / "config.json").read_text())
    return data


def _respawn(ops: tuple[Op, ...], clone_flags: tuple[str, ...]) -> list[Op]:
    """``ops`` with the clone given ``clone_flags`` and no unshare in create.namespaces
    and no fork (whether or not a spawn pass already folded them)."""
    from ocitool.plan.ops.base import Phase
    from ocitool.plan.ops.namespaces import Clone, Fork, Unshare
    from ocitool.records import replace

    out: list[Op] = []
    for op in ops:
        if isinstance(op, Clone):
            out.append(replace(op, flags=clone_flags))
        elif isinstance(op, Fork) or (
            isinstance(op, Unshare) and op.phase is Phase.CREATE_NAMESPACES
        ):
            continue
        else:
            out.append(op)
    return out


def _new_namespace_flags(ops: tuple[Op, ...]) -> tuple[str, ...]:
    from ocitool.plan.ops.base import Phase
    from ocitool.plan.ops.namespaces import Clone, Unshare

    flags: list[str] = []
    for op in ops:
        if isinstance(op, Clone) or (
            isinstance(op, Unshare) and op.phase is Phase.CREATE_NAMESPACES
        ):
            flags += [f for f in op.flags if f not in flags]
    return tuple(flags)


def test_namespaces_folded_into_the_clone_are_accepted() -> None:
    """A pass that moves the new namespaces into the clone (and so needs no fork for
    the pid namespace) still meets every namespace requirement."""
    data = _busybox()
    spec = _spec(data)
    plan = _lower(data)
    flags = _new_namespace_flags(plan.ops)
    assert "CLONE_NEWPID" in flags
    folded = _respawn(plan.ops, flags)
    assert verify_plan(spec, folded, diagnostics=plan.diagnostics) == []
    # ...but with neither the unshare nor the clone's flags, they and the fork are missing
    problems = verify_plan(spec, _respawn(plan.ops, ()), diagnostics=plan.diagnostics)
    assert any("CLONE_NEWPID" in p for p in problems)
    assert any("fork" in p for p in problems)


def test_a_new_time_namespace_still_needs_the_fork() -> None:
    data = _busybox()
    data["linux"]["namespaces"].append({"type": "time"})
    spec = _spec(data)
    plan = _lower(data)
    folded = _respawn(plan.ops, _new_namespace_flags(plan.ops))
    problems = verify_plan(spec, folded, diagnostics=plan.diagnostics)
    assert problems == [
        "namespaces: missing fork (or a clone into the new namespace) for the pid/time namespace"
    ]


def test_a_ptmx_device_entry_is_met_by_the_symlink_and_required_as_one() -> None:
    """``linux.devices`` naming /dev/ptmx makes no node (runc's rule, as podman
    --privileged asks): the pts/ptmx symlink stands for it, and the verifier
    accepts that plan, while a plan without the symlink is still reported."""
    data = _busybox()
    data["linux"]["devices"] = [
        {"path": "/dev/ptmx", "type": "c", "major": 5, "minor": 2, "fileMode": 438}
    ]
    plan = _lower(data)
    assert verify_plan(_spec(data), plan.ops, diagnostics=plan.diagnostics) == []
    without = [op for op in plan.ops if op.name != "symlink" or "ptmx" not in op.text()]
    assert any("/dev/ptmx symlink" in p for p in verify_plan(_spec(data), without))
