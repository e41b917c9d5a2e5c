"""Hooks at their lifecycle points in spec order; seccomp_load placement and content."""

from __future__ import annotations

import pytest

from ocitool.errors import LoweringError
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Phase
from tests.unit.plan_helpers import config, plan_of

HOOKS = {
    "poststop": [{"path": "/bin/stop"}],
    "createRuntime": [
        {"path": "/bin/a", "args": ["a", "1"], "env": ["X=1"], "timeout": 3},
        {"path": "/bin/b"},
    ],
    "createContainer": [{"path": "/bin/cc"}],
    "startContainer": [{"path": "/bin/sc"}],
    "poststart": [{"path": "/bin/ps"}],
    "prestart": [{"path": "/bin/old"}],
}

SECCOMP = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
    "syscalls": [{"names": ["read", "write", "exit_group", "execve"], "action": "SCMP_ACT_ALLOW"}],
}


def test_hook_phases_and_order() -> None:
    plan = plan_of(config(hooks=HOOKS))
    hooks = [(op.to_json()["kind"], op.to_json()["index"], op.phase) for op in plan.find("hook")]
    assert hooks == [
        ("prestart", 0, Phase.HOOKS_PRESTART),
        ("createRuntime", 0, Phase.HOOKS_CREATE_RUNTIME),
        ("createRuntime", 1, Phase.HOOKS_CREATE_RUNTIME),
        ("createContainer", 0, Phase.HOOKS_CREATE_CONTAINER),
        ("startContainer", 0, Phase.HOOKS_START_CONTAINER),
        ("poststart", 0, Phase.HOOKS_POSTSTART),
        ("poststop", 0, Phase.HOOKS_POSTSTOP),
    ]
    names = [op.name for op in plan.ops]
    first_cr = names.index("hook")
    assert names.index("pivot_root") > first_cr  # createRuntime/createContainer before pivot
    sc = next(i for i, op in enumerate(plan.ops) if getattr(op, "kind", "") == "startContainer")
    assert names.index("start") < sc < names.index("execve")
    a = plan.find("hook")[1].to_json()
    assert (a["path"], a["args"], a["env"], a["timeout"], a["stdin"]) == (
        "/bin/a",
        ["a", "1"],
        ["X=1"],
        3,
        "state",
    )
    assert a["source"] == "/hooks/createRuntime/0"
    assert any(d.code == "OCI372" for d in plan.diagnostics)  # prestart is deprecated
    assert plan.find("hook")[-1].process == "runtime"


def test_bad_hook_timeout() -> None:
    with pytest.raises(LoweringError) as info:
        plan_of(config(hooks={"poststart": [{"path": "/x", "timeout": 0}]}))
    assert info.value.pointer == "/hooks/poststart/0/timeout"


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_seccomp_last_before_execve(arch: str) -> None:
    plan = plan_of(config(linux={"seccomp": SECCOMP}), HostInfo.preset("v2", arch))
    names = [op.name for op in plan.ops]
    sec = names.index("seccomp_load")
    assert names[sec + 1] == "execve"
    assert names.index("no_new_privs") < sec and names.index("capabilities") < sec
    op = plan.ops[sec].to_json()
    assert op["instructions"] > 4 and op["program"] is not None
    assert len(op["program"]) == op["instructions"] * 16  # 8 bytes per insn, hex
    assert op["source"] == "/linux/seccomp" and op["early"] is False


def test_seccomp_program_differs_by_arch() -> None:
    data = config(linux={"seccomp": SECCOMP})
    x86 = plan_of(data, HostInfo.preset("v2", "x86_64")).find("seccomp_load")[0].to_json()
    arm = plan_of(data, HostInfo.preset("v2", "aarch64")).find("seccomp_load")[0].to_json()
    assert x86["program"] != arm["program"]


def test_seccomp_program_emulates() -> None:
    from ocitool.seccomp.emulator import emulate
    from ocitool.seccomp.tables import syscall_number

    op = plan_of(config(linux={"seccomp": SECCOMP})).find("seccomp_load")[0].to_json()
    program = bytes.fromhex(op["program"])
    allow = emulate(program, "x86_64", syscall_number("x86_64", "read"))
    deny = emulate(program, "x86_64", syscall_number("x86_64", "mount"))
    assert allow.action != deny.action


def test_seccomp_early_without_nnp_and_sys_admin() -> None:
    data = config(process={"noNewPrivileges": False}, linux={"seccomp": SECCOMP})
    plan = plan_of(data)
    names = [op.name for op in plan.ops]
    sec = names.index("seccomp_load")
    assert plan.ops[sec].to_json()["early"] is True
    assert sec < names.index("setresuid", names.index("start"))
    assert any(d.code == "OCI378" for d in plan.diagnostics)
    with_admin = config(
        process={
            "noNewPrivileges": False,
            "capabilities": {"effective": ["CAP_SYS_ADMIN"], "permitted": ["CAP_SYS_ADMIN"]},
        },
        linux={"seccomp": SECCOMP},
    )
    names = [op.name for op in plan_of(with_admin).ops]
    assert names[names.index("seccomp_load") + 1] == "execve"


def test_seccomp_program_is_compiled_once_per_policy_and_arch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ocitool.lower import seccomp as lower_seccomp
    from ocitool.seccomp import compiler

    calls: list[str] = []
    real = compiler.compile_seccomp

    def counting(raw: dict[str, object], arch: str | None = None) -> object:
        calls.append(str(arch))
        return real(raw, arch)

    monkeypatch.setattr(compiler, "compile_seccomp", counting)
    monkeypatch.setattr(lower_seccomp, "_COMPILED", {})
    program = [
        op.program
        for op in plan_of(config(linux={"seccomp": SECCOMP})).ops
        if op.name == "seccomp_load"
    ]
    again = [
        op.program
        for op in plan_of(config(linux={"seccomp": SECCOMP})).ops
        if op.name == "seccomp_load"
    ]
    assert program == again and len(calls) == 1  # the second lowering reused it
    other = {**SECCOMP, "defaultAction": "SCMP_ACT_KILL"}
    changed = [
        op.program
        for op in plan_of(config(linux={"seccomp": other})).ops
        if op.name == "seccomp_load"
    ]
    assert changed != program and len(calls) == 2
    plan_of(config(linux={"seccomp": SECCOMP}), host=HostInfo.preset("v2", arch="aarch64"))
    assert calls == ["x86_64", "x86_64", "aarch64"]
