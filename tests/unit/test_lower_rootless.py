"""Rootless lowering (lower/rootless.py) and the rootless host facts (ocitool/rootless_host.py)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from ocitool import records
from ocitool.errors import InternalError, LoweringError
from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.lower.verify import Rootless, verify_plan
from ocitool.plan.ops.base import Phase
from ocitool.plan.ops.rootless import CgroupsSkipped, IdMapHelper
from ocitool.rootless_host import (
    delegated_cgroup,
    in_user_namespace,
    is_rootless,
    own_cgroups,
)
from tests.unit.plan_helpers import config, plan_of, spec_of

DELEGATED = "/user.slice/user-1000.slice/user@1000.service"
OWN = [{"containerID": 0, "hostID": 1000, "size": 1}]
SUBIDS = [*OWN, {"containerID": 1, "hostID": 100000, "size": 65536}]


def rootless_config(maps: list[dict[str, int]] = OWN, **linux: Any) -> dict[str, Any]:
    data = config(
        linux={
            "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "user"}],
            "uidMappings": maps,
            "gidMappings": maps,
            **linux,
        }
    )
    return data


LIMITS = {"memory": {"limit": 1 << 28}, "pids": {"limit": 64}, "cpu": {"shares": 512}}


# ------------------------------------------------------------------ host facts


def test_rootless_is_euid_or_a_user_namespace() -> None:
    initial = "         0          0 4294967295\n"
    assert not in_user_namespace(initial) and not in_user_namespace(None)
    assert in_user_namespace("         0       1000          1\n")
    assert is_rootless(1000, initial)
    assert is_rootless(0, "0 1000 1\n")  # root of a user namespace
    assert not is_rootless(0, initial)


def test_own_cgroups_per_hierarchy() -> None:
    text = "9:name=systemd:/user\n4:memory:/a/b\n1:cpu,cpuacct:/c\n0::/u\n"
    v1 = {
        "name=systemd": "/sys/fs/cgroup/systemd",
        "memory": "/sys/fs/cgroup/memory",
        "cpu": "/sys/fs/cgroup/cpu,cpuacct",
        "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
    }
    assert own_cgroups(text, v1, "/sys/fs/cgroup/unified") == {
        "/sys/fs/cgroup/systemd": "/user",
        "/sys/fs/cgroup/memory": "/a/b",
        "/sys/fs/cgroup/cpu,cpuacct": "/c",
        "/sys/fs/cgroup/unified": "/u",
    }


def test_delegated_only_when_every_directory_is_the_users() -> None:
    own = {"/sys/fs/cgroup": DELEGATED}
    mine = {f"/sys/fs/cgroup{DELEGATED}"}
    assert delegated_cgroup(own, "v2", {}, "/sys/fs/cgroup", mine.__contains__) == DELEGATED
    assert delegated_cgroup(own, "v2", {}, "/sys/fs/cgroup", lambda _: False) is None
    assert delegated_cgroup({"/sys/fs/cgroup": "/"}, "v2", {}, "/sys/fs/cgroup", bool) is None
    # in a scope below the delegated cgroup (systemd's layout): the highest owned ancestor
    in_scope = {"/sys/fs/cgroup": f"{DELEGATED}/app.slice/run-1.scope"}
    mine |= {f"/sys/fs/cgroup{DELEGATED}/app.slice", f"/sys/fs/cgroup{in_scope['/sys/fs/cgroup']}"}
    assert delegated_cgroup(in_scope, "v2", {}, "/sys/fs/cgroup", mine.__contains__) == DELEGATED
    # v1: every hierarchy must hold the same, owned, path
    v1 = {"memory": "/m", "pids": "/p"}
    assert delegated_cgroup({"/m": "/x", "/p": "/x"}, "v1", v1, None, bool) == "/x"
    assert delegated_cgroup({"/m": "/x", "/p": "/y"}, "v1", v1, None, bool) is None
    assert delegated_cgroup({"/m": "/x", "/p": "/x"}, "v1", v1, None, "/m/x".__eq__) is None
    # the highest owned ancestor: the session's service, not the leaf the runtime runs in
    leaf = f"{DELEGATED}/app.slice/term.scope"
    owned = {f"/sys/fs/cgroup{p}" for p in (DELEGATED, f"{DELEGATED}/app.slice", leaf)}
    own = {"/sys/fs/cgroup": leaf}
    assert delegated_cgroup(own, "v2", {}, "/sys/fs/cgroup", owned.__contains__) == DELEGATED


def test_host_overrides() -> None:
    host = HostInfo.parse_overrides(f"rootless=1,cgroup_delegated={DELEGATED}")
    assert (host.rootless, host.euid, host.egid, host.cgroup_delegated) == (
        True,
        1000,
        1000,
        DELEGATED,
    )
    host = HostInfo.parse_overrides("euid=1001,egid=1002,rootless=1")
    assert (host.euid, host.egid) == (1001, 1002)
    assert HostInfo.parse_overrides("euid=1001").rootless
    assert not HostInfo.parse_overrides("rootless=1,rootless=0").rootless
    this = HostInfo.parse_overrides("this,rootless=1,euid=1005,egid=1006")
    assert this.detected and (this.rootless, this.euid, this.egid) == (True, 1005, 1006)
    assert this.kernel == HostInfo.detect().kernel and this.arch == HostInfo.detect().arch
    with pytest.raises(Exception, match="cgroup_delegated"):
        HostInfo.parse_overrides("cgroup_delegated=relative")


# ------------------------------------------------------------------ id maps


def test_own_ids_are_written_directly_after_setgroups_deny() -> None:
    plan = plan_of(rootless_config(), HostInfo.parse_overrides("rootless=1"))
    idmap = [(op.name, op.to_json().get("path"), op.to_json().get("value")) for op in plan.ops
             if op.phase is Phase.CREATE_IDMAP]  # fmt: skip
    assert idmap == [
        ("write_file", "/proc/{init}/setgroups", "deny"),
        ("write_file", "/proc/{init}/uid_map", "0 1000 1\n"),
        ("write_file", "/proc/{init}/gid_map", "0 1000 1\n"),
    ]


def test_a_map_of_another_id_needs_the_helper_even_of_size_one() -> None:
    """runc's requiresRootOrMappingTool: the gid map must be exactly the runtime's egid."""
    host = HostInfo.parse_overrides("euid=1000,egid=1001,rootless=1")
    plan = plan_of(rootless_config(), host)
    idmap = [op for op in plan.ops if op.phase is Phase.CREATE_IDMAP]
    assert [op.name for op in idmap] == ["write_file", "idmap_helper"]
    helper = idmap[1]
    assert isinstance(helper, IdMapHelper) and helper.helper == "newgidmap"
    assert helper.argv("42") == ["newgidmap", "42", "0", "1000", "1"]
    assert "/proc/{init}/gid_map" in helper.text()


def test_subordinate_ranges_go_through_both_helpers() -> None:
    plan = plan_of(rootless_config(SUBIDS), HostInfo.parse_overrides("rootless=1"))
    helpers = [op for op in plan.ops if isinstance(op, IdMapHelper)]
    assert [h.argv("{init}") for h in helpers] == [
        ["newuidmap", "{init}", "0", "1000", "1", "1", "100000", "65536"],
        ["newgidmap", "{init}", "0", "1000", "1", "1", "100000", "65536"],
    ]
    assert not any(getattr(op, "path", "").endswith("/setgroups") for op in plan.ops)


def test_a_root_runtime_writes_every_map_itself() -> None:
    plan = plan_of(rootless_config(SUBIDS))
    assert not any(isinstance(op, IdMapHelper) for op in plan.ops)
    writes = [op.to_json()["path"] for op in plan.ops if op.phase is Phase.CREATE_IDMAP]
    assert writes == [f"/proc/{{init}}/{n}" for n in ("setgroups", "uid_map", "gid_map")]


# ------------------------------------------------------------------ cgroups


def test_no_delegated_cgroup_skips_cgroups_and_reports_every_limit() -> None:
    data = rootless_config(resources=LIMITS)
    plan = plan_of(data, HostInfo.parse_overrides("cgroup=hybrid,rootless=1"))
    assert not [op for op in plan.ops if op.name.startswith("cgroup_")]
    skipped = [op for op in plan.ops if isinstance(op, CgroupsSkipped)]
    assert len(skipped) == 1 and skipped[0].phase is Phase.CREATE_RUNTIME
    limits = [
        "/linux/resources/memory/limit",
        "/linux/resources/cpu/shares",
        "/linux/resources/pids/limit",
    ]
    assert sorted(skipped[0].limits) == sorted(limits)
    warned = {d.pointer for d in plan.diagnostics if d.code == "OCI381"}
    assert warned == set(limits)
    assert all(d.severity == "warning" for d in plan.diagnostics if d.code == "OCI381")
    assert "not applied" in skipped[0].text() and "/linux/resources/pids/limit" in skipped[0].text()


def test_delegated_v2_cgroup_is_made_below_it_with_limits_and_no_device_program() -> None:
    host = HostInfo.parse_overrides(f"cgroup=v2,rootless=1,cgroup_delegated={DELEGATED}")
    plan = plan_of(rootless_config(resources=LIMITS), host)
    base = f"/sys/fs/cgroup{DELEGATED}"
    made = [op.to_json()["path"] for op in plan.find("cgroup_mkdir")]
    assert made == [f"{base}/ocitool/c1"]
    subtree = [op.to_json()["path"] for op in plan.ops
               if op.to_json().get("path", "").endswith("cgroup.subtree_control")]  # fmt: skip
    # only the delegated cgroup and below: the ones above belong to root
    assert subtree == [f"{base}/cgroup.subtree_control", f"{base}/ocitool/cgroup.subtree_control"]
    assert f"{base}/ocitool/c1/memory.max" in [op.to_json().get("path") for op in plan.ops]
    assert not plan.find("cgroup_device_program")
    assert any(d.code == "OCI382" for d in plan.diagnostics)
    assert not any(d.code == "OCI381" for d in plan.diagnostics)


def test_delegated_v1_cgroup_writes_no_devices_file() -> None:
    host = HostInfo.parse_overrides("cgroup=v1,rootless=1,cgroup_delegated=/u")
    data = rootless_config(
        resources={"devices": [{"allow": False, "access": "rwm"}], "pids": {"limit": 9}}
    )
    plan = plan_of(data, host)
    paths = [op.to_json().get("path", "") for op in plan.ops]
    assert "/sys/fs/cgroup/pids/u/ocitool/c1/pids.max" in paths
    assert not any(p.endswith(("devices.allow", "devices.deny")) for p in paths)
    info = [d for d in plan.diagnostics if d.code == "OCI382"]
    assert [d.pointer for d in info] == ["/linux/resources/devices"]


@pytest.mark.parametrize(
    ("cgroups_path", "expected"),
    [
        ("web", f"{DELEGATED}/web"),
        (f"{DELEGATED}/abs", f"{DELEGATED}/abs"),
        ("/machine/web", None),  # outside the delegated cgroup: skipped
    ],
)
def test_cgroups_path_is_taken_inside_the_delegated_cgroup(
    cgroups_path: str, expected: str | None
) -> None:
    host = HostInfo.parse_overrides(f"cgroup=v2,rootless=1,cgroup_delegated={DELEGATED}")
    plan = plan_of(rootless_config(cgroupsPath=cgroups_path), host)
    made = [op.to_json()["path"] for op in plan.find("cgroup_mkdir")]
    if expected is None:
        assert not made
        (skipped,) = plan.find("cgroups_skipped")
        assert skipped.source == "/linux/cgroupsPath" and "outside" in skipped.text()
    else:
        assert made == [f"/sys/fs/cgroup{expected}"]


def test_rootless_systemd_driver_is_refused() -> None:
    spec = spec_of(rootless_config())
    host = HostInfo.parse_overrides("rootless=1,systemd=1")
    with pytest.raises(LoweringError) as info:
        lower(spec, host, container_id="c1", bundle="/b", systemd_cgroup=True)
    assert info.value.code == "OCI383"


def test_skipped_cgroups_mount_shows_the_runtimes_own_cgroup() -> None:
    host = HostInfo.parse_overrides("cgroup=v1,rootless=1")
    host = records.replace(
        host, own_cgroups=MappingProxyType({"/sys/fs/cgroup/memory": "/session/7"})
    )
    mount = {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}
    data = rootless_config()
    data["mounts"] = [mount]
    plan = plan_of(data, host)
    binds = {op.to_json()["target"]: op.to_json()["src"] for op in plan.find("bind_mount")}
    assert binds["/sys/fs/cgroup/memory"] == "/sys/fs/cgroup/memory/session/7"
    assert binds["/sys/fs/cgroup/pids"] == "/sys/fs/cgroup/pids"


# ------------------------------------------------------------------ verifier (OCI398)


def _rootless_facts(host: HostInfo, skipped: bool) -> Rootless:
    return Rootless(euid=host.euid, egid=host.egid, cgroups_skipped=skipped)


def test_verifier_knows_the_rootless_shapes() -> None:
    host = HostInfo.parse_overrides("rootless=1")
    data = rootless_config(SUBIDS, resources=LIMITS)
    plan = plan_of(data, host)
    spec = spec_of(data)
    facts = _rootless_facts(host, skipped=True)
    assert verify_plan(spec, plan.ops, diagnostics=plan.diagnostics, rootless=facts) == []
    no_note = [op for op in plan.ops if not isinstance(op, CgroupsSkipped)]
    problems = verify_plan(spec, no_note, diagnostics=plan.diagnostics, rootless=facts)
    assert any("cgroups are skipped" in p for p in problems)
    no_helper = [op for op in plan.ops if getattr(op, "helper", "") != "newgidmap"]
    problems = verify_plan(spec, no_helper, diagnostics=plan.diagnostics, rootless=facts)
    assert problems == ["namespaces: missing newgidmap for the init's gid_map"]
    # the limits' warnings are what covers them: without them, each is missing
    problems = verify_plan(spec, plan.ops, diagnostics=(), rootless=facts)
    assert "cgroups: no op or diagnostic for /linux/resources/memory/limit" in problems


def test_lower_fails_closed_when_a_rootless_plan_loses_its_id_map(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ocitool.lower import rootless

    monkeypatch.setattr(rootless, "idmap_ops", lambda spec, host: [])
    with pytest.raises(InternalError) as info:
        plan_of(rootless_config(SUBIDS), HostInfo.parse_overrides("rootless=1"))
    assert info.value.code == "OCI398" and "newuidmap" in info.value.message


# ------------------------------------------------------------------ inside a user namespace


def test_root_of_a_user_namespace_writes_maps_itself_and_binds_devices() -> None:
    """podman runs the runtime as uid 0 of its own user namespace: rootless (no cgroup, no
    mknod) but privileged there, so it writes even a multi-range map itself (keep-id)."""
    host = HostInfo.parse_overrides("rootless=1,euid=0,egid=0")
    assert host.rootless and host.euid == 0
    keep_id = [
        {"containerID": 0, "hostID": 1, "size": 1000},
        {"containerID": 1000, "hostID": 0, "size": 1},
    ]
    plan = plan_of(rootless_config(keep_id), host)
    idmap = [op.to_json() for op in plan.ops if op.phase is Phase.CREATE_IDMAP]
    assert [(op["op"], op["path"], op["value"]) for op in idmap] == [
        ("write_file", "/proc/{init}/setgroups", "allow"),
        ("write_file", "/proc/{init}/uid_map", "0 1 1000\n1000 0 1\n"),
        ("write_file", "/proc/{init}/gid_map", "0 1 1000\n1000 0 1\n"),
    ]
    # no user namespace in the config (podman's default): still no mknod
    data = config(linux={"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}]})
    plan = plan_of(data, host)
    assert not plan.find("mknod")
    binds = [op.to_json()["target"] for op in plan.find("bind_mount")]
    assert "/dev/null" in binds
    assert plan.find("cgroups_skipped")


def test_filesystems_need_a_namespace_the_user_namespace_owns() -> None:
    """sysfs, mqueue and proc are bound from the host where the namespace they belong to
    is not a new one (the host's belongs to the initial user namespace)."""
    host = HostInfo.parse_overrides("rootless=1,euid=0")
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs"},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue"},
    ]
    alone = config(linux={"namespaces": [{"type": "mount"}]}, mounts=mounts)
    plan = plan_of(alone, host)
    binds = {op.to_json()["target"]: op.to_json()["src"] for op in plan.find("bind_mount")}
    assert binds["/proc"] == "/proc" and binds["/sys"] == "/sys"
    assert binds["/dev/mqueue"] == "/dev/mqueue"
    assert len([d for d in plan.diagnostics if d.code == "OCI357"]) == 3
    owned = config(
        linux={"namespaces": [{"type": t} for t in ("mount", "pid", "network", "ipc")]},
        mounts=mounts,
    )
    plan = plan_of(owned, host)
    assert {op.to_json()["fstype"] for op in plan.find("mount")} >= {"proc", "sysfs", "mqueue"}
    # a root runtime in the initial user namespace mounts them all, as before
    plan = plan_of(alone)
    assert {op.to_json()["fstype"] for op in plan.find("mount")} >= {"proc", "sysfs", "mqueue"}


def test_a_rootless_euid_needs_a_user_namespace() -> None:
    data = config(linux={"namespaces": [{"type": "pid"}, {"type": "mount"}]})
    with pytest.raises(LoweringError) as info:
        plan_of(data, HostInfo.parse_overrides("rootless=1"))
    assert info.value.code == "OCI384" and info.value.pointer == "/linux/namespaces"


def test_a_controller_the_delegated_cgroup_lacks_is_reported_not_written() -> None:
    """systemd delegates memory and pids by default: a cpu limit is a warning, not an
    error, and not a write that would fail with ENOENT."""
    host = HostInfo.parse_overrides(
        f"cgroup=v2,rootless=1,cgroup_delegated={DELEGATED},controllers=memory+pids"
    )
    plan = plan_of(rootless_config(resources=LIMITS), host)
    paths = [op.to_json().get("path", "") for op in plan.ops]
    assert any(p.endswith("/memory.max") for p in paths)
    assert not any(p.endswith("/cpu.weight") for p in paths)
    (warned,) = [d for d in plan.diagnostics if d.code == "OCI381"]
    assert warned.pointer == "/linux/resources/cpu/shares" and "cpu controller" in warned.message
    subtree = [op.to_json()["value"] for op in plan.ops
               if op.to_json().get("path", "").endswith("subtree_control")]  # fmt: skip
    assert set(subtree) == {"+memory +pids"}
    # a root runtime is refused the same config on such a host (fail closed)
    with pytest.raises(LoweringError):
        plan_of(rootless_config(resources=LIMITS), HostInfo.parse_overrides("controllers=memory"))


def test_an_idmapped_mount_is_refused_rootless() -> None:
    mount = {
        "destination": "/data",
        "type": "bind",
        "source": "/srv",
        "options": ["rbind", "idmap"],
    }
    data = rootless_config()
    data["mounts"] = [mount]
    with pytest.raises(LoweringError) as info:
        plan_of(data, HostInfo.parse_overrides("rootless=1"))
    assert info.value.code == "OCI385" and info.value.pointer == "/mounts/0/options"
    assert plan_of(data).find("bind_mount_idmapped")  # a root runtime makes it
