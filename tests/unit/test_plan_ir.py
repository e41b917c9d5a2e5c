"""The Plan IR itself: phases, op JSON/text forms, op registry, and that check_order can fail."""

from __future__ import annotations

import pytest

from ocitool.plan.ops import op_types
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.common import WriteFile
from ocitool.plan.ops.hooks import RunHook
from ocitool.plan.ops.namespaces import Clone, Sethostname, Setns, Unshare
from ocitool.plan.ops.process import Execve, Setgroups, Setresgid, Setresuid, Setrlimit
from ocitool.plan.ops.security import NoNewPrivs, SeccompLoad, SetCapabilities
from ocitool.plan.plan import check_order
from ocitool.records import FrozenRecordError

E = Phase.EXEC


def caps(phase: Phase = E) -> SetCapabilities:
    return SetCapabilities(
        phase=phase, bounding=1, effective=1, permitted=1, inheritable=0, ambient=0
    )


def good_exec() -> list[Op]:
    return [
        Clone(phase=Phase.CREATE_SPAWN),
        Setgroups(phase=E, gids=()),
        Setresgid(phase=E, rgid=1, egid=1, sgid=1),
        Setresuid(phase=E, ruid=1, euid=1, suid=1),
        caps(),
        NoNewPrivs(phase=E),
        SeccompLoad(phase=E, instructions=3, program="00" * 24),
        Execve(phase=E, path="/bin/sh", argv=("sh",), env=()),
    ]


def test_phases_cover_the_lifecycle_in_order() -> None:
    values = [p.value for p in Phase]
    assert values.index("create.runtime") < values.index("hooks.createRuntime")
    assert values.index("hooks.createContainer") < values.index("create.pivot")
    assert values.index("start") < values.index("hooks.startContainer") < values.index("exec")
    assert values.index("exec") < values.index("hooks.poststart") < values.index("delete")
    # the container's lifecycle ends with poststop; "live" plans (update, pause...) are apart
    assert values[-2:] == ["hooks.poststop", "live"]
    assert Phase.LIVE.command == "live" and Phase.LIVE.process == "runtime"
    assert Phase.CREATE_IDMAP.process == "runtime" and Phase.CREATE_NAMESPACES.process == "init"
    assert Phase.EXEC.command == "start" and Phase.HOOKS_POSTSTOP.command == "delete"
    assert Phase.CREATE_PIVOT.command == "create" and Phase.HOOKS_POSTSTART.is_hook
    assert all(p.description for p in Phase)


def test_required_json_fields() -> None:
    assert Setrlimit(
        phase=E, source="/process/rlimits/0", resource="RLIMIT_NOFILE", soft=1, hard=2
    ).to_json() == {
        "op": "setrlimit",
        "phase": "exec",
        "source": "/process/rlimits/0",
        "text": "prlimit64(0, RLIMIT_NOFILE, {rlim_cur=1, rlim_max=2}, NULL)",
        "resource": "RLIMIT_NOFILE",
        "soft": 1,
        "hard": 2,
    }
    j = caps().to_json()
    assert {k: j[k] for k in ("bounding", "effective", "permitted", "inheritable", "ambient")} == {
        "bounding": 1,
        "effective": 1,
        "permitted": 1,
        "inheritable": 0,
        "ambient": 0,
    }
    assert Sethostname(phase=E, hostname="web").to_json()["name"] == "web"
    assert Unshare(phase=E, flags=("CLONE_NEWNS",)).to_json()["flags"] == ["CLONE_NEWNS"]
    s = Setns(phase=E, path="/proc/1/ns/net", nstype="CLONE_NEWNET").to_json()
    assert (s["path"], s["nstype"]) == ("/proc/1/ns/net", "CLONE_NEWNET")
    w = WriteFile(phase=E, path="/proc/self/oom_score_adj", value="100")
    assert w.text() == 'write("/proc/self/oom_score_adj", "100")'
    sec = SeccompLoad(
        phase=E, instructions=3, flags=("SECCOMP_FILTER_FLAG_LOG",), program="00" * 24
    ).to_json()
    assert sec["instructions"] == 3 and sec["flags"] == ["SECCOMP_FILTER_FLAG_LOG"]
    assert (
        sec["text"]
        == "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG, {len=3, filter=...})"
    )
    assert "policy" not in sec
    ex = Execve(phase=E, path="/bin/sh", argv=("sh", "-c", 'echo "hi"'), env=("A=1",))
    assert ex.text() == 'execve("/bin/sh", ["sh", "-c", "echo \\"hi\\""], ["A=1"])'


def test_ops_are_frozen_and_registered() -> None:
    op = caps()
    with pytest.raises(FrozenRecordError):
        op.bounding = 0  # type: ignore[misc]
    types = op_types()
    for name in (
        "clone",
        "unshare",
        "setns",
        "fork",
        "write_file",
        "sethostname",
        "setrlimit",
        "setresgid",
        "setgroups",
        "setresuid",
        "capabilities",
        "seccomp_load",
        "execve",
        "hook",
        "keep_caps",
        "no_new_privs",
        "wait_start",
        "start",
        "kill",
    ):
        assert name in types, name
        assert types[name].name == name


def test_check_order_accepts_a_good_plan() -> None:
    assert check_order(good_exec()) == []


def _move(ops: list[Op], name: str, before: str) -> list[Op]:
    """Move the op called ``name`` to just before the op called ``before``."""
    op = next(o for o in ops if o.name == name)
    ops.remove(op)
    ops.insert(next(i for i, o in enumerate(ops) if o.name == before), op)
    return ops


def _hooks(ops: list[Op]) -> list[Op]:
    return ops + [
        RunHook(phase=Phase.HOOKS_POSTSTOP, kind="poststop", index=1, path="/a"),
        RunHook(phase=Phase.HOOKS_POSTSTOP, kind="poststop", index=0, path="/b"),
    ]


def _early_idmap(ops: list[Op]) -> list[Op]:
    write = WriteFile(phase=Phase.CREATE_RUNTIME, path="/proc/{init}/uid_map", value="0 0 1")
    return [write, *ops]


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda ops: _move(ops, "setgroups", "setresgid") and ops, None),
        (lambda ops: _move(ops, "no_new_privs", "execve"), "seccomp_load is not immediately"),
        (lambda ops: _move(ops, "capabilities", "setresuid"), "capabilities set before setresuid"),
        (lambda ops: [*ops, Clone(phase=Phase.CREATE_SPAWN)], "comes after"),
        (_early_idmap, "before it was cloned"),
        (_hooks, "out of spec order"),
        (lambda ops: _move(ops, "execve", "seccomp_load"), "execve is not the last"),
        (lambda ops: _move(ops, "seccomp_load", "no_new_privs"), "no_new_privs after seccomp_load"),
    ],
)
def test_check_order_finds_violations(mutate, needle) -> None:  # type: ignore[no-untyped-def]
    problems = check_order(mutate(good_exec()))
    if needle is None:
        assert problems == []  # reordering two independent ops is fine
    else:
        assert any(needle in p for p in problems), problems


@pytest.mark.parametrize("bad", ["", "..", "a/b", "x y", "é"])
def test_container_id_must_be_one_path_component(bad: str) -> None:
    from ocitool.errors import LoweringError
    from ocitool.lower import lower
    from ocitool.lower.host import HostInfo
    from tests.unit.plan_helpers import config, spec_of

    with pytest.raises(LoweringError) as info:
        lower(spec_of(config()), HostInfo.preset(), container_id=bad, bundle="/b")
    assert info.value.code == "OCI312"
