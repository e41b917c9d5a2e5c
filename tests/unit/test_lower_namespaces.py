"""Namespaces: join before create, user ns first, id maps from the runtime, fork, cgroup/time ns."""

from __future__ import annotations

import pytest

from ocitool.errors import LoweringError
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Phase
from tests.unit.plan_helpers import config, plan_of

USERNS = {
    "namespaces": [
        {"type": "pid"},
        {"type": "network", "path": "/var/run/netns/x"},
        {"type": "user"},
        {"type": "mount"},
        {"type": "ipc", "path": "/proc/42/ns/ipc"},
        {"type": "cgroup"},
        {"type": "time"},
    ],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "timeOffsets": {"monotonic": {"secs": 10, "nanosecs": 5}},
}


def test_default_plan_namespaces() -> None:
    plan = plan_of(config())
    ns_ops = [
        (op.name, op.phase)
        for op in plan.ops
        if op.phase.order <= Phase.CREATE_INIT.order
        and op.name in ("clone", "unshare", "setns", "fork")
    ]
    # the spawn pass folds the init's unshare into the clone and drops the pid fork
    assert ns_ops == [("clone", Phase.CREATE_SPAWN)]
    clone = plan.find("clone")[0].to_json()
    assert clone["flags"] == ["CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWPID"]


def test_joins_then_user_first_and_maps_from_runtime() -> None:
    plan = plan_of(config(linux=USERNS))
    ops = plan.ops
    setns = [op.to_json() for op in ops if op.name == "setns"]
    # ipc before network (join order), and mount namespaces would come last
    assert [(s["path"], s["nstype"]) for s in setns] == [
        ("/proc/42/ns/ipc", "CLONE_NEWIPC"),
        ("/var/run/netns/x", "CLONE_NEWNET"),
    ]
    first_unshare = next(i for i, op in enumerate(ops) if op.name == "unshare")
    assert all(i < first_unshare for i, op in enumerate(ops) if op.name == "setns")
    flags = ops[first_unshare].to_json()["flags"]
    assert flags[0] == "CLONE_NEWUSER" and "CLONE_NEWCGROUP" not in flags
    assert "CLONE_NEWTIME" in flags and "CLONE_NEWNET" not in flags
    writes = [op.to_json() for op in ops if op.name == "write_file"]
    by_path = {w["path"]: w for w in writes}
    assert by_path["/proc/{init}/uid_map"]["value"] == "0 100000 65536\n"
    assert by_path["/proc/{init}/gid_map"]["value"] == "0 100000 65536\n"
    assert by_path["/proc/{init}/setgroups"]["value"] == "allow"  # root runtime
    for path in ("/proc/{init}/uid_map", "/proc/{init}/gid_map", "/proc/{init}/setgroups"):
        op = next(op for op in ops if getattr(op, "path", None) == path)
        assert op.phase is Phase.CREATE_IDMAP and op.process == "runtime"
    # setgroups is written before gid_map (the kernel requires it)
    paths = [w["path"] for w in writes]
    assert paths.index("/proc/{init}/setgroups") < paths.index("/proc/{init}/gid_map")
    assert by_path["/proc/self/timens_offsets"]["value"] == "monotonic 10 5\n"


def test_cgroup_ns_after_join_and_fork_last() -> None:
    plan = plan_of(config(linux=USERNS), HostInfo.preset("v1", "x86_64"))
    names = [op.name for op in plan.ops]
    cg_unshare = next(
        i
        for i, op in enumerate(plan.ops)
        if op.name == "unshare" and "CLONE_NEWCGROUP" in op.to_json()["flags"]
    )
    join = next(i for i, op in enumerate(plan.ops) if op.name == "cgroup_join")
    assert plan.ops[join].phase is Phase.CREATE_SPAWN
    assert names.index("clone") < join < cg_unshare
    assert plan.ops[cg_unshare].phase is Phase.CREATE_INIT
    fork = names.index("fork")
    assert fork > cg_unshare
    assert "time" in plan.ops[fork].to_json()["reason"]
    timens = names.index("write_file", names.index("setresuid"))
    assert timens < fork


def test_rootless_runtime_denies_setgroups() -> None:
    data = config(
        linux={
            **USERNS,
            "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
        }
    )
    plan = plan_of(data, HostInfo.parse_overrides("rootless=1"))
    setgroups = [op for op in plan.ops if getattr(op, "path", "") == "/proc/{init}/setgroups"]
    assert setgroups[0].to_json()["value"] == "deny"
    assert "setgroups" not in [op.name for op in plan.ops if op.phase is Phase.EXEC]
    assert not plan.diagnostics or all(d.code != "OCI373" for d in plan.diagnostics)


def test_rootless_multi_range_map_goes_through_the_helpers() -> None:
    """Maps other than the runtime's own id: newuidmap/newgidmap, setgroups left allowed."""
    plan = plan_of(config(linux=USERNS), HostInfo.parse_overrides("rootless=1"))
    idmap = [op.to_json() for op in plan.ops if op.phase is Phase.CREATE_IDMAP]
    assert [(op["op"], op.get("helper")) for op in idmap] == [
        ("idmap_helper", "newuidmap"),
        ("idmap_helper", "newgidmap"),
    ]
    assert idmap[0]["mappings"] == [[0, 100000, 65536]]
    assert not any(d.code == "OCI373" for d in plan.diagnostics)


def test_rootless_additional_gids_need_the_gid_helper() -> None:
    """With its own gid map written directly setgroups is denied: additionalGids fail;
    through newgidmap (a subordinate range) they are applied."""
    own = {
        **USERNS,
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    }
    data = config(linux=own)
    data["process"]["user"]["additionalGids"] = [0]
    with pytest.raises(LoweringError) as info:
        plan_of(data, HostInfo.parse_overrides("rootless=1"))
    assert info.value.pointer == "/process/user/additionalGids"
    assert info.value.code == "OCI364"
    data = config(linux=USERNS)
    data["process"]["user"]["additionalGids"] = [5]
    plan = plan_of(data, HostInfo.parse_overrides("rootless=1"))
    assert [op.to_json()["gids"] for op in plan.find("setgroups")] == [[5]]


@pytest.mark.parametrize(
    ("linux", "pointer", "code"),
    [
        ({"namespaces": [{"type": "pid"}, {"type": "pid"}]}, "/linux/namespaces/1", "OCI362"),
        ({"namespaces": [{"type": "user"}]}, "/linux/uidMappings", "OCI363"),
        (
            {
                "namespaces": [{"type": "pid"}],
                "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}],
            },
            "/linux/uidMappings",
            "OCI363",
        ),
        (
            {
                "namespaces": [{"type": "user", "path": "/proc/1/ns/user"}],
                "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}],
            },
            "/linux/gidMappings",
            "OCI363",
        ),
        (
            {"namespaces": [{"type": "pid"}], "timeOffsets": {"boottime": {"secs": 1}}},
            "/linux/timeOffsets",
            "OCI365",
        ),
        (
            {"namespaces": [{"type": "pid"}], "netDevices": {"eth0": {}}},
            "/linux/netDevices",
            "OCI366",
        ),
        ({"namespaces": [{"type": "bogus"}]}, "/linux/namespaces/0/type", "OCI362"),
    ],
)
def test_namespace_errors(linux: dict[str, object], pointer: str, code: str) -> None:
    with pytest.raises(LoweringError) as info:
        plan_of(config(linux=linux))
    assert (info.value.pointer, info.value.code) == (pointer, code)


def test_host_without_namespace_type() -> None:
    host = HostInfo.parse_overrides("namespaces=mount+pid+uts+ipc+network+user+cgroup")
    with pytest.raises(LoweringError) as info:
        plan_of(config(linux={"namespaces": [{"type": "time"}]}), host)
    assert info.value.code == "OCI330" and info.value.pointer == "/linux/namespaces/0"
    old = HostInfo.parse_overrides("kernel=5.4")
    with pytest.raises(LoweringError, match="5.6"):
        plan_of(config(linux={"namespaces": [{"type": "time"}]}), old)


def test_net_devices_moved_by_runtime() -> None:
    linux = {"namespaces": [{"type": "network"}], "netDevices": {"eth1": {"name": "c0"}}}
    plan = plan_of(config(linux=linux))
    op = plan.find("netdev_move")[0]
    assert op.phase is Phase.CREATE_IDMAP
    assert op.to_json()["netns"] == "/proc/{init}/ns/net"
    assert op.text() == "ip link set eth1 netns /proc/{init}/ns/net name c0"
    assert op.source == "/linux/netDevices/eth1"


def test_no_pid_namespace_means_no_fork() -> None:
    plan = plan_of(config(linux={"namespaces": [{"type": "mount"}]}))
    assert not plan.find("fork")


def test_hostname_needs_uts() -> None:
    plan = plan_of(config(hostname="web", domainname="example.org"))
    assert plan.find("sethostname")[0].text() == 'sethostname("web")'
    assert plan.find("sethostname")[0].to_json()["name"] == "web"
    assert plan.find("setdomainname")[0].to_json()["name"] == "example.org"
    with pytest.raises(LoweringError) as info:
        plan_of(config(hostname="web", linux={"namespaces": [{"type": "mount"}]}))
    assert info.value.pointer == "/hostname"


def test_joined_time_namespace_needs_no_fork_but_joined_pid_does() -> None:
    plan = plan_of(
        config(
            linux={"namespaces": [{"type": "time", "path": "/proc/9/ns/time"}, {"type": "mount"}]}
        )
    )
    assert not plan.find("fork")
    plan = plan_of(
        config(linux={"namespaces": [{"type": "pid", "path": "/proc/9/ns/pid"}, {"type": "mount"}]})
    )
    assert "a joined pid namespace" in plan.find("fork")[0].to_json()["reason"]
