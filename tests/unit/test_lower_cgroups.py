"""cgroups lowering: paths, files, values, order, and what the host cannot honour."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ocitool import records
from ocitool.errors import LoweringError  # noqa: E402
from ocitool.lower.cgroups import lower_cgroups  # noqa: E402
from ocitool.lower.context import LowerContext  # noqa: E402
from ocitool.lower.host import HostInfo  # noqa: E402
from ocitool.plan.ops.base import Op, Phase  # noqa: E402
from ocitool.spec.build import build_spec  # noqa: E402
from ocitool.spec.load import parse_text  # noqa: E402
from tests.helpers.ebpf_interp import check_device  # noqa: E402

# This project's CI machine: v1 controllers, cpu and cpuacct separate, an empty cgroup2.
HYBRID_CI = HostInfo(
    cgroup="hybrid",
    cgroup_mounts=MappingProxyType(
        {
            c: f"/sys/fs/cgroup/{c}"
            for c in ("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids")
        }
    ),
    unified_mount="/sys/fs/cgroup/unified",
    unified_controllers=(),
)


def config(linux: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "ociVersion": "1.2.0",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "linux": {"namespaces": [{"type": "mount"}], **(linux or {})},
    }
    cfg.update(extra)
    return cfg


def lower(cfg: dict[str, Any], host: HostInfo) -> tuple[list[Op], LowerContext]:
    spec = build_spec(parse_text(json.dumps(cfg)))
    ctx = LowerContext(spec=spec, host=host, container_id="web", bundle="/b")
    return lower_cgroups(spec, host, ctx), ctx


def writes(ops: list[Op]) -> list[tuple[str, str]]:
    return [(op.path, op.value) for op in ops if op.name == "cgroup_write"]  # type: ignore[attr-defined]


def written(ops: list[Op]) -> dict[str, str]:
    return dict(writes(ops))


def res(**resources: Any) -> dict[str, Any]:
    return {"resources": resources}


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("cgroups_path", "expected"),
    [
        (None, "/sys/fs/cgroup/ocitool/web"),
        ("/machine/app1", "/sys/fs/cgroup/machine/app1"),
        ("pods/app1", "/sys/fs/cgroup/ocitool/pods/app1"),
        ("/a/../b//c/", "/sys/fs/cgroup/b/c"),
    ],
)
def test_cgroups_path_v2(cgroups_path: str | None, expected: str) -> None:
    linux = {"cgroupsPath": cgroups_path} if cgroups_path else {}
    ops, _ = lower(config(linux), HostInfo.preset("v2"))
    assert ops[0].name == "cgroup_mkdir" and ops[0].path == expected  # type: ignore[attr-defined]
    join = [op for op in ops if op.name == "cgroup_join"]
    assert [op.path for op in join] == [f"{expected}/cgroup.procs"]  # type: ignore[attr-defined]
    assert join[0].phase is Phase.CREATE_SPAWN
    remove = [op for op in ops if op.name == "cgroup_remove"]
    assert [op.phase for op in remove] == [Phase.DELETE]


def test_systemd_style_path_is_refused() -> None:
    with pytest.raises(LoweringError) as err:
        lower(config({"cgroupsPath": "system.slice:docker:abc"}), HostInfo.preset("v2"))
    assert err.value.pointer == "/linux/cgroupsPath"


def test_v1_dirs_on_this_hosts_layout_and_join_every_hierarchy() -> None:
    ops, _ = lower(config(), HYBRID_CI)
    dirs = [op.path for op in ops if op.name == "cgroup_mkdir"]  # type: ignore[attr-defined]
    assert "/sys/fs/cgroup/cpu/ocitool/web" in dirs
    assert "/sys/fs/cgroup/cpuacct/ocitool/web" in dirs
    assert dirs[-1] == "/sys/fs/cgroup/unified/ocitool/web", "joined, as runc does"
    assert not any("unified" in p for p, _ in writes(ops)), "no limits in the empty cgroup2"
    joins = [op.path for op in ops if op.name == "cgroup_join"]  # type: ignore[attr-defined]
    assert joins == [f"{d}/cgroup.procs" for d in dirs]
    cpuset = next(op for op in ops if op.name == "cgroup_mkdir" and "cpuset" in op.path)  # type: ignore[attr-defined]
    assert cpuset.copy_from_parent == ("cpuset.cpus", "cpuset.mems")  # type: ignore[attr-defined]


def test_phases_limits_before_join() -> None:
    ops, _ = lower(config(res(memory={"limit": 1 << 30})), HostInfo.preset("v1"))
    last_write = max(i for i, op in enumerate(ops) if op.name == "cgroup_write")
    first_join = min(i for i, op in enumerate(ops) if op.name == "cgroup_join")
    assert last_write < first_join
    assert all(op.phase is Phase.CREATE_RUNTIME for op in ops[: last_write + 1])


# --------------------------------------------------------------------------- v1 files


def test_v1_memory_limit_then_memsw_and_others() -> None:
    r = res(
        memory={
            "limit": 536870912,
            "swap": 1073741824,
            "reservation": 268435456,
            "swappiness": 10,
            "disableOOMKiller": True,
        }
    )
    ops, _ = lower(config(r), HYBRID_CI)
    base = "/sys/fs/cgroup/memory/ocitool/web/"
    assert [(p.removeprefix(base), v) for p, v in writes(ops) if p.startswith(base)] == [
        ("memory.limit_in_bytes", "536870912"),
        ("memory.memsw.limit_in_bytes", "1073741824"),
        ("memory.soft_limit_in_bytes", "268435456"),
        ("memory.oom_control", "1"),
        ("memory.swappiness", "10"),
    ]


def test_v1_unlimited_swap_is_written_before_the_limit() -> None:
    ops, _ = lower(config(res(memory={"limit": 1 << 20, "swap": -1})), HYBRID_CI)
    names = [p.rsplit("/", 1)[1] for p, _ in writes(ops) if "/memory/" in p]
    assert names == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]


def test_v1_swap_below_limit_is_an_error() -> None:
    with pytest.raises(LoweringError) as err:
        lower(config(res(memory={"limit": 2000, "swap": 1000})), HYBRID_CI)
    assert err.value.pointer == "/linux/resources/memory/swap"


def test_v1_cpu_files_and_order() -> None:
    cpu = {
        "shares": 512,
        "quota": 50000,
        "period": 100000,
        "realtimeRuntime": 950000,
        "realtimePeriod": 1000000,
        "cpus": "0-1",
        "mems": "0",
    }
    ops, _ = lower(config(res(cpu=cpu)), HYBRID_CI)
    got = [
        (p.split("/")[4], p.rsplit("/", 1)[1], v) for p, v in writes(ops) if "/devices/" not in p
    ]
    assert got == [
        ("cpu", "cpu.shares", "512"),
        ("cpu", "cpu.cfs_period_us", "100000"),
        ("cpu", "cpu.cfs_quota_us", "50000"),
        ("cpu", "cpu.rt_period_us", "1000000"),
        ("cpu", "cpu.rt_runtime_us", "950000"),
        ("cpuset", "cpuset.cpus", "0-1"),
        ("cpuset", "cpuset.mems", "0"),
    ]


def test_v1_pids_blkio_and_sources() -> None:
    r = res(
        pids={"limit": 100},
        blockIO={
            "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
            "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}],
        },
    )
    ops, _ = lower(config(r), HYBRID_CI)
    w = {op.path.rsplit("/", 1)[1]: op for op in ops if op.name == "cgroup_write"}  # type: ignore[attr-defined]
    assert w["pids.max"].value == "100"  # type: ignore[attr-defined]
    assert w["pids.max"].source == "/linux/resources/pids/limit"
    assert w["blkio.throttle.read_bps_device"].value == "8:0 600"  # type: ignore[attr-defined]
    assert w["blkio.throttle.write_iops_device"].value == "8:16 300"  # type: ignore[attr-defined]
    assert w["blkio.throttle.write_iops_device"].source == (
        "/linux/resources/blockIO/throttleWriteIOPSDevice/0"
    )


def test_v1_no_device_rules_is_deny_all_plus_defaults() -> None:
    ops, _ = lower(config(), HYBRID_CI)
    dev = [(p.rsplit("/", 1)[1], v) for p, v in writes(ops) if "/devices/" in p]
    assert dev[0] == ("devices.deny", "a *:* rwm")
    assert ("devices.allow", "c 1:3 rwm") in dev


def test_v1_device_exceptions_equal_runcs_devices_list() -> None:
    # devices.list read from a runc 1.x container on this project's CI host, with
    # the rules of runtime-spec's config-linux.md example.
    runc_list = {
        "b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
        "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "b 8:0 r", "c 10:200 rwm", "c 10:229 rw",
        "c 136:* rwm",
    }  # fmt: skip
    r = res(
        devices=[
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
            {"allow": True, "type": "b", "major": 8, "minor": 0, "access": "r"},
        ]
    )
    ops, _ = lower(config(r), HYBRID_CI)
    allowed = {v for p, v in writes(ops) if p.endswith("/devices.allow")}
    assert allowed == runc_list


def test_v1_devices_reset_then_exceptions() -> None:
    r = res(
        devices=[
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
        ]
    )
    ops, _ = lower(config(r), HYBRID_CI)
    dev = [(p.rsplit("/", 1)[1], v) for p, v in writes(ops) if "/devices/" in p]
    assert dev[0] == ("devices.deny", "a *:* rwm")
    assert ("devices.allow", "c 10:229 rw") in dev
    assert ("devices.allow", "c 1:3 rwm") in dev, "runc's default device rules are appended"
    assert all(f == "devices.allow" for f, _ in dev[1:])


@pytest.mark.parametrize(
    ("resources", "pointer"),
    [
        (
            {"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]},
            "/linux/resources/hugepageLimits/0/limit",
        ),
        ({"network": {"classID": 1}}, "/linux/resources/network/classID"),
        ({"rdma": {"mlx4_0": {"hcaHandles": 1}}}, "/linux/resources/rdma/mlx4_0"),
    ],
)
def test_v1_controller_not_mounted_is_an_error(resources: dict[str, Any], pointer: str) -> None:
    with pytest.raises(LoweringError) as err:
        lower(config(res(**resources)), HYBRID_CI)
    assert err.value.code == "OCI320"
    assert err.value.pointer == pointer
    assert "not mounted" in err.value.message


def test_v1_unified_is_an_error_like_runc() -> None:
    with pytest.raises(LoweringError) as err:
        lower(config(res(unified={"memory.high": "1"})), HYBRID_CI)
    assert err.value.pointer == "/linux/resources/unified"


def test_v1_kernel_memory_is_a_warning_not_a_silent_skip() -> None:
    ops, ctx = lower(config(res(memory={"kernel": 1 << 20})), HYBRID_CI)
    assert not any("kmem" in p for p, _ in writes(ops))
    assert [d.pointer for d in ctx.diagnostics] == ["/linux/resources/memory/kernel"]
    assert ctx.diagnostics[0].severity == "warning"


# --------------------------------------------------------------------------- v2 files


def test_v2_memory_swap_is_subtracted() -> None:
    r = res(memory={"limit": 536870912, "swap": 1073741824, "reservation": 1000})
    ops, _ = lower(config(r), HostInfo.preset("v2"))
    base = "/sys/fs/cgroup/ocitool/web/"
    assert [(p.removeprefix(base), v) for p, v in writes(ops) if "memory" in p] == [
        ("memory.swap.max", str(1073741824 - 536870912)),
        ("memory.max", "536870912"),
        ("memory.low", "1000"),
    ]


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        ({"limit": -1}, {"memory.swap.max": "max", "memory.max": "max"}),
        ({"limit": 100, "swap": -1}, {"memory.swap.max": "max", "memory.max": "100"}),
        ({"limit": 100, "swap": 100}, {"memory.swap.max": "0", "memory.max": "100"}),
        ({"limit": 100}, {"memory.max": "100"}),
    ],
)
def test_v2_memory_swap_cases(memory: dict[str, int], expected: dict[str, str]) -> None:
    ops, _ = lower(config(res(memory=memory)), HostInfo.preset("v2"))
    got = {p.rsplit("/", 1)[1]: v for p, v in writes(ops) if "/memory." in p}
    assert got == expected


def test_v2_swap_without_limit_is_an_error() -> None:
    with pytest.raises(LoweringError) as err:
        lower(config(res(memory={"swap": 1000})), HostInfo.preset("v2"))
    assert err.value.pointer == "/linux/resources/memory/swap"


def test_v2_cpu() -> None:
    cpu = {"shares": 1024, "quota": 50000, "period": 200000, "burst": 1000, "cpus": "1"}
    ops, ctx = lower(config(res(cpu=cpu)), HostInfo.preset("v2"))
    got = {p.rsplit("/", 1)[1]: v for p, v in writes(ops) if "ocitool/web/" in p}
    assert got == {
        "cpu.weight": "100",
        "cpu.max": "50000 200000",
        "cpu.max.burst": "1000",
        "cpuset.cpus": "1",
    }
    assert any("39" in d.message for d in ctx.diagnostics), "states the old formula's value"


@pytest.mark.parametrize(
    ("cpu", "value"),
    [
        ({"quota": -1}, "max 100000"),
        ({"period": 50000}, "max 50000"),
        ({"quota": 1000}, "1000 100000"),
    ],
)
def test_v2_cpu_max(cpu: dict[str, int], value: str) -> None:
    ops, _ = lower(config(res(cpu=cpu)), HostInfo.preset("v2"))
    assert written(ops)["/sys/fs/cgroup/ocitool/web/cpu.max"] == value


def test_burst_above_quota_is_an_error() -> None:
    for host in (HostInfo.preset("v2"), HYBRID_CI):
        with pytest.raises(LoweringError) as err:
            lower(config(res(cpu={"quota": 1000, "burst": 2000})), host)
        assert err.value.pointer == "/linux/resources/cpu/burst"


def test_hugetlb_reservations_only_on_new_kernels() -> None:
    r = res(hugepageLimits=[{"pageSize": "2MB", "limit": 4096}])
    old = HostInfo.parse_overrides("cgroup=v1,kernel=5.4")
    names = [p.rsplit("/", 1)[1] for p, _ in writes(lower(config(r), old)[0]) if "hugetlb" in p]
    assert names == ["hugetlb.2MB.limit_in_bytes"]
    new = HostInfo.parse_overrides("cgroup=v1,kernel=6.1")
    names = [p.rsplit("/", 1)[1] for p, _ in writes(lower(config(r), new)[0]) if "hugetlb" in p]
    assert names == ["hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.rsvd.limit_in_bytes"]


def test_v2_realtime_is_an_error() -> None:
    with pytest.raises(LoweringError) as err:
        lower(config(res(cpu={"realtimeRuntime": 1000})), HostInfo.preset("v2"))
    assert err.value.pointer == "/linux/resources/cpu/realtimeRuntime"


def test_v2_io_pids_hugetlb_rdma_unified() -> None:
    r = res(
        blockIO={
            "weight": 500,
            "weightDevice": [{"major": 8, "minor": 0, "weight": 1000}],
            "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
            "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}],
        },
        pids={"limit": -1},
        hugepageLimits=[{"pageSize": "2MB", "limit": 209715200}],
        rdma={"mlx4_0": {"hcaHandles": 2, "hcaObjects": 2000}},
        unified={"memory.high": "400000000", "cgroup.max.depth": "3"},
    )
    ops, _ = lower(config(r), HostInfo.preset("v2"))
    got = [(p.rsplit("/", 1)[1], v) for p, v in writes(ops) if "ocitool/web/" in p]
    assert got == [
        ("pids.max", "max"),
        ("io.weight", "4950"),
        ("io.weight", "8:0 10000"),
        ("io.max", "8:0 rbps=600"),
        ("io.max", "8:16 wiops=300"),
        ("hugetlb.2MB.max", "209715200"),
        ("hugetlb.2MB.rsvd.max", "209715200"),
        ("rdma.max", "mlx4_0 hca_handle=2 hca_object=2000"),
        ("cgroup.max.depth", "3"),
        ("memory.high", "400000000"),
    ]


def test_v2_subtree_control_in_every_ancestor() -> None:
    ops, _ = lower(config({"cgroupsPath": "/a/b/c"}), HostInfo.preset("v2"))
    sub = [p for p, _ in writes(ops) if p.endswith("cgroup.subtree_control")]
    assert sub == [
        "/sys/fs/cgroup/cgroup.subtree_control",
        "/sys/fs/cgroup/a/cgroup.subtree_control",
        "/sys/fs/cgroup/a/b/cgroup.subtree_control",
    ]


def test_v2_controller_not_offered_is_an_error() -> None:
    host = HostInfo.parse_overrides("cgroup=v2,controllers=cpu+memory+pids")
    with pytest.raises(LoweringError) as err:
        lower(config(res(hugepageLimits=[{"pageSize": "2MB", "limit": 1}])), host)
    assert err.value.pointer == "/linux/resources/hugepageLimits/0/limit"
    with pytest.raises(LoweringError):
        lower(config(res(unified={"io.max": "8:0 rbps=1"})), host)


def test_v2_unified_key_with_slash_is_refused() -> None:
    with pytest.raises(LoweringError) as err:
        lower(config(res(unified={"../memory.max": "1"})), HostInfo.preset("v2"))
    assert err.value.pointer == "/linux/resources/unified/..~1memory.max"


def test_v2_warnings_for_v1_only_fields() -> None:
    r = res(memory={"limit": 100, "swappiness": 10}, network={"classID": 1})
    _, ctx = lower(config(r), HostInfo.preset("v2"))
    pointers = sorted(d.pointer for d in ctx.diagnostics if d.severity == "warning")
    assert pointers == ["/linux/resources/memory/swappiness", "/linux/resources/network"]


def test_v2_device_program_is_attached_and_correct() -> None:
    r = res(
        devices=[
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
            {"allow": True, "type": "b", "major": 8, "minor": 0, "access": "r"},
        ]
    )
    ops, _ = lower(config(r), HostInfo.preset("v2"))
    prog = next(op for op in ops if op.name == "cgroup_device_program")
    assert prog.phase is Phase.CREATE_RUNTIME
    assert prog.path == "/sys/fs/cgroup/ocitool/web"  # type: ignore[attr-defined]
    assert prog.default == "deny"  # type: ignore[attr-defined]
    assert prog.source == "/linux/resources/devices/0"
    raw = bytes.fromhex(prog.bytecode)  # type: ignore[attr-defined]
    assert len(raw) == 8 * prog.instructions  # type: ignore[attr-defined]
    assert check_device(raw, "c", 10, 229, "rw")
    assert check_device(raw, "c", 10, 229, "m"), "runc's defaults allow mknod of any device"
    assert not check_device(raw, "c", 10, 230, "rw")
    assert check_device(raw, "b", 8, 0, "r")
    assert not check_device(raw, "b", 8, 0, "w")
    assert check_device(raw, "c", 1, 3, "rw"), "default /dev/null rule"
    assert not check_device(raw, "b", 8, 1, "r")
    assert prog.to_json()["listing"][0].strip().startswith("0:")
    assert ops.index(prog) < min(i for i, op in enumerate(ops) if op.name == "cgroup_join")


def test_v2_device_program_big_endian_arch() -> None:
    host = HostInfo.preset("v2", arch="s390x")
    ops, _ = lower(config(res(devices=[{"allow": False, "access": "rwm"}])), host)
    prog = next(op for op in ops if op.name == "cgroup_device_program")
    raw = bytes.fromhex(prog.bytecode)  # type: ignore[attr-defined]
    assert check_device(raw, "c", 1, 3, "r", big_endian=True)
    assert not check_device(raw, "c", 4, 1, "r", big_endian=True)


def test_device_rule_that_punches_a_hole_is_located() -> None:
    r = res(
        devices=[
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "c", "access": "rwm"},
            {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "r"},
        ]
    )
    with pytest.raises(LoweringError) as err:
        lower(config(r), HostInfo.preset("v2"))
    assert err.value.pointer == "/linux/resources/devices/2"


def test_every_op_has_a_phase_and_json() -> None:
    r = res(memory={"limit": 100}, cpu={"shares": 2}, pids={"limit": 5})
    for host in (HostInfo.preset("v1"), HostInfo.preset("v2"), HYBRID_CI):
        ops, _ = lower(config(r), host)
        for op in ops:
            data = op.to_json()
            assert data["op"] == op.name and data["phase"] == op.phase.value
            assert data["text"]
            json.dumps(data)


def test_join_and_remove_helpers_match_lower_cgroups() -> None:
    from ocitool.lower.cgroups import join_ops, remove_ops

    for host in (HostInfo.preset("v1"), HostInfo.preset("v2"), HYBRID_CI):
        ops, ctx = lower(config(), host)
        joins = [op for op in ops if op.name == "cgroup_join"]
        removes = [op for op in ops if op.name == "cgroup_remove"]
        helper = join_ops(host, ctx.cgroup_path, Phase.CREATE_SPAWN, "{init}")
        assert [op.to_json() for op in helper] == [op.to_json() for op in joins]
        again = remove_ops(host, ctx.cgroup_path)
        assert [op.path for op in again] == [op.path for op in removes]  # type: ignore[attr-defined]


def test_named_systemd_hierarchy_is_made_joined_and_removed_without_limits() -> None:

    host = records.replace(
        HYBRID_CI,
        cgroup_mounts=MappingProxyType(
            {**HYBRID_CI.cgroup_mounts, "name=systemd": "/sys/fs/cgroup/systemd"}
        ),
    )
    ops, _ = lower(config(res(memory={"limit": 1 << 30}, pids={"limit": 9})), host)
    leaf = "/sys/fs/cgroup/systemd/ocitool/web"
    assert leaf in [op.path for op in ops if op.name == "cgroup_mkdir"]  # type: ignore[attr-defined]
    assert f"{leaf}/cgroup.procs" in [op.path for op in ops if op.name == "cgroup_join"]  # type: ignore[attr-defined]
    assert leaf in [op.path for op in ops if op.name == "cgroup_remove"]  # type: ignore[attr-defined]
    assert not any(p.startswith(leaf) for p, _ in writes(ops)), "no limit files there"
