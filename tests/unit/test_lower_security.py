"""Users, groups and capabilities: order around setuid, bitmaps, host limits, ambient rule."""

from __future__ import annotations

import pytest

from ocitool.capabilities import CAP_NUMBER
from ocitool.errors import LoweringError
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Phase
from tests.unit.plan_helpers import config, plan_of


def exec_names(plan) -> list[str]:  # type: ignore[no-untyped-def]
    return [op.name for op in plan.ops if op.phase is Phase.EXEC]


def bit(*names: str) -> int:
    return sum(1 << CAP_NUMBER[n] for n in names)


def test_non_root_user_sequence() -> None:
    data = config(
        process={"user": {"uid": 1000, "gid": 100, "additionalGids": [5, 6], "umask": 18}}
    )
    plan = plan_of(data)
    assert exec_names(plan) == [
        "session_keyring",
        "chdir",
        "keep_caps",
        "setgroups",
        "setresgid",
        "setresuid",
        "keep_caps",
        "capabilities",
        "umask",
        "no_new_privs",
        "execve",
    ]
    j = {op.name: op.to_json() for op in plan.ops if op.phase is Phase.EXEC}
    assert j["setgroups"]["gids"] == [5, 6]
    assert (j["setresgid"]["rgid"], j["setresgid"]["egid"], j["setresgid"]["sgid"]) == (100,) * 3
    assert (j["setresuid"]["ruid"], j["setresuid"]["euid"], j["setresuid"]["suid"]) == (1000,) * 3
    assert j["umask"]["mask"] == 0o022
    assert [op.text() for op in plan.ops if op.name == "keep_caps"] == [
        "prctl(PR_SET_KEEPCAPS, 1)",
        "prctl(PR_SET_KEEPCAPS, 0)",
    ]
    assert plan.find("umask")[0].text() == "umask(0022)"


def test_root_user_needs_no_keep_caps() -> None:
    assert "keep_caps" not in exec_names(plan_of(config()))


def test_capability_bitmaps() -> None:
    caps = {
        "bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
        "effective": ["CAP_KILL"],
        "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_NET_BIND_SERVICE"],
    }
    op = plan_of(config(process={"capabilities": caps})).find("capabilities")[0].to_json()
    assert op["bounding"] == bit("CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN")
    assert op["effective"] == bit("CAP_KILL") == 1 << 5
    assert op["permitted"] == bit("CAP_KILL", "CAP_NET_BIND_SERVICE")
    assert op["inheritable"] == op["ambient"] == 1 << 10
    assert op["source"] == "/process/capabilities"


def test_ambient_without_inheritable_is_dropped_with_warning() -> None:
    caps = {"permitted": ["CAP_KILL"], "effective": ["CAP_KILL"], "ambient": ["CAP_KILL"]}
    plan = plan_of(config(process={"capabilities": caps}))
    assert plan.find("capabilities")[0].to_json()["ambient"] == 0
    warn = [d for d in plan.diagnostics if d.code == "OCI377"]
    assert warn and warn[0].pointer == "/process/capabilities/ambient"
    assert "CAP_KILL" in warn[0].message and warn[0].severity == "warning"


def test_no_capabilities_member_means_empty_sets() -> None:
    data = config()
    del data["process"]["capabilities"]
    op = plan_of(data).find("capabilities")[0].to_json()
    assert [op[k] for k in ("bounding", "effective", "permitted", "inheritable", "ambient")] == [
        0
    ] * 5
    assert op["source"] is None


@pytest.mark.parametrize(
    ("caps", "host", "pointer", "code"),
    [
        ({"bounding": ["CAP_KILL", "CAP_FLY"]}, "", "/process/capabilities/bounding/1", "OCI340"),
        ({"permitted": ["KILL"]}, "", "/process/capabilities/permitted/0", "OCI340"),
        ({"bounding": ["CAP_BPF"]}, "last_cap=37", "/process/capabilities/bounding/0", "OCI341"),
        (
            {"effective": ["CAP_KILL"], "permitted": []},
            "",
            "/process/capabilities/effective",
            "OCI342",
        ),
    ],
)
def test_capability_errors(caps: dict[str, list[str]], host: str, pointer: str, code: str) -> None:
    with pytest.raises(LoweringError) as info:
        plan_of(config(process={"capabilities": caps}), HostInfo.parse_overrides(host))
    assert (info.value.pointer, info.value.code) == (pointer, code)


def test_capability_at_last_cap_is_fine() -> None:
    plan = plan_of(
        config(process={"capabilities": {"bounding": ["CAP_AUDIT_READ"]}}),
        HostInfo.parse_overrides("last_cap=37"),
    )
    assert plan.find("capabilities")[0].to_json()["bounding"] == 1 << 37


def test_unmapped_user_in_userns() -> None:
    linux = {
        "namespaces": [{"type": "user"}, {"type": "mount"}],
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
        "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
    }
    data = config(linux=linux, process={"user": {"uid": 5, "gid": 50}})
    with pytest.raises(LoweringError) as info:
        plan_of(data)
    assert info.value.pointer == "/process/user/gid" and info.value.code == "OCI338"


def test_capabilities_follow_setresuid() -> None:
    plan = plan_of(config(process={"user": {"uid": 1, "gid": 1}}))
    names = [op.name for op in plan.ops]
    assert names.index("capabilities") > names.index("setresuid", names.index("start"))


def test_umask_defaults_to_0022() -> None:
    op = plan_of(config()).find("umask")[0]
    assert op.to_json()["mask"] == 0o022 and op.source is None
    with pytest.raises(LoweringError) as info:
        plan_of(config(process={"user": {"uid": 0, "gid": 0, "umask": 1024}}))
    assert info.value.pointer == "/process/user/umask"


@pytest.mark.parametrize(
    ("user", "pointer"),
    [
        ({"uid": -1, "gid": 0}, "/process/user/uid"),
        ({"uid": 0, "gid": 4294967295}, "/process/user/gid"),
        ({"uid": 0, "gid": 0, "additionalGids": [1, -5]}, "/process/user/additionalGids/1"),
    ],
)
def test_ids_out_of_range(user: dict[str, object], pointer: str) -> None:
    with pytest.raises(LoweringError) as info:
        plan_of(config(process={"user": user}))
    assert info.value.pointer == pointer
