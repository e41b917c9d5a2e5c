"""The systemd cgroup driver's lowering: names and slices, properties, annotations, ops, printing.

The facts come from runc's libcontainer/cgroups/systemd and specconv (the
unit name rules, ExpandSlice, the property conversions, the annotation rules)
and systemd's own slice naming.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from ocitool.errors import LoweringError, UsageError
from ocitool.lower import lower
from ocitool.lower.cgroups import gvariant
from ocitool.lower.cgroups.systemd_names import SystemdNameError, expand_slice, resolve
from ocitool.lower.cgroups.systemd_props import INFINITY, range_to_bits
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Phase
from ocitool.plan.plan import Plan
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text
from tests.helpers.systemd_plan import systemd_plan
from tests.unit.test_lower_cgroups import config

V2 = HostInfo.parse_overrides("cgroup=v2,systemd=1")
V1 = HostInfo.parse_overrides("cgroup=v1,systemd=1")


def plan(cfg: dict[str, Any], host: HostInfo = V2) -> Plan:
    return systemd_plan(cfg, host)


def start(p: Plan) -> Any:
    (op,) = [op for op in p.ops if op.name == "systemd_start_unit"]
    return op


def props(p: Plan) -> dict[str, tuple[str, Any, str | None]]:
    return {name: (sig, value, src) for name, sig, value, src in start(p).properties}


# ------------------------------------------------------------------ names and slices
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("system.slice", "/system.slice"),
        ("a-b.slice", "/a.slice/a-b.slice"),
        ("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice"),
        ("user-1000.slice", "/user.slice/user-1000.slice"),
        ("-.slice", "/"),
    ],
)
def test_slice_names_nest_by_dashes(name: str, path: str) -> None:
    assert expand_slice(name) == path


@pytest.mark.parametrize(
    "name", ["a--b.slice", "-a.slice", "a-.slice", ".slice", "a.scope", "a/b.slice", "a"]
)
def test_bad_slice_names_are_refused(name: str) -> None:
    with pytest.raises(SystemdNameError):
        expand_slice(name)


@pytest.mark.parametrize(
    ("cgroups_path", "unit", "slice_", "path"),
    [
        (None, "runc-web.scope", "system.slice", "/system.slice/runc-web.scope"),
        ("", "runc-web.scope", "system.slice", "/system.slice/runc-web.scope"),
        ("machine.slice:libpod:abc", "libpod-abc.scope", "machine.slice", "/machine.slice/libpod-abc.scope"),
        (":cri-containerd:abc", "cri-containerd-abc.scope", "system.slice", "/system.slice/cri-containerd-abc.scope"),
        ("kubepods-burstable.slice:cri-o:x", "cri-o-x.scope", "kubepods-burstable.slice",
         "/kubepods.slice/kubepods-burstable.slice/cri-o-x.scope"),
        ("system.slice:p:n.scope", "p-n.scope", "system.slice", "/system.slice/p-n.scope"),
        ("a.slice:ignored:a-b.slice", "a-b.slice", "a.slice", "/a.slice/a-b.slice"),
    ],
)  # fmt: skip
def test_unit_name_slice_and_path(
    cgroups_path: str | None, unit: str, slice_: str, path: str
) -> None:
    got = resolve(cgroups_path, "web")
    assert (got.unit, got.slice, got.cgroup_path) == (unit, slice_, path)


@pytest.mark.parametrize(
    "cgroups_path",
    ["/machine/web", "web", "a:b", "a:b:c:d", "machine.slice:p:", "bad:p:n", "x.slice:p/q:n"],
)
def test_malformed_paths_are_a_coded_error_at_the_pointer(cgroups_path: str) -> None:
    with pytest.raises(LoweringError) as info:
        plan(config({"cgroupsPath": cgroups_path}))
    assert info.value.code == "OCI317"
    assert info.value.pointer == "/linux/cgroupsPath"


def test_without_the_driver_the_colon_form_is_still_refused_with_a_hint() -> None:
    spec = build_spec(parse_text(json.dumps(config({"cgroupsPath": "a.slice:p:n"}))))
    with pytest.raises(LoweringError) as info:
        lower(spec, V2, container_id="web", bundle="/b")
    assert info.value.code == "OCI311" and "--systemd-cgroup" in (info.value.hint or "")


def test_a_host_without_systemd_is_refused_with_a_hint() -> None:
    with pytest.raises(LoweringError) as info:
        plan(config(), HostInfo.preset("v2"))
    assert info.value.code == "OCI318"
    assert "cgroupfs" in (info.value.hint or "") and "systemd=1" in (info.value.hint or "")


# ------------------------------------------------------------------ host fact
def test_systemd_host_fact_is_overridable_and_shown() -> None:
    assert V2.systemd and V2.to_json()["systemd"] is True
    assert not HostInfo.preset("v2").systemd
    assert V1.v1_mountpoint("name=systemd") == "/sys/fs/cgroup/systemd"
    off = HostInfo.parse_overrides("systemd=0", V1)
    assert not off.systemd and off.v1_mountpoint("name=systemd") is None
    with pytest.raises(UsageError):
        HostInfo.parse_overrides("systemd=maybe")


def test_detect_reads_run_systemd_system(tmp_path: Any) -> None:
    assert not HostInfo.detect(str(tmp_path)).systemd
    (tmp_path / "run" / "systemd" / "system").mkdir(parents=True)
    assert HostInfo.detect(str(tmp_path)).systemd


# ------------------------------------------------------------------ ops and phases
def test_v2_ops_order_and_phases() -> None:
    p = plan(
        config({"cgroupsPath": "machine.slice:libpod:web", "resources": {"pids": {"limit": 9}}})
    )
    names = [(op.phase, op.name) for op in p.ops if "cgroup" in op.name or "systemd" in op.name]
    leaf = "/sys/fs/cgroup/machine.slice/libpod-web.scope"
    assert names[0] == (Phase.CREATE_SPAWN, "systemd_start_unit")
    clone = next(i for i, op in enumerate(p.ops) if op.name == "clone")
    assert next(i for i, op in enumerate(p.ops) if op.name == "systemd_start_unit") > clone
    spawn = [op for op in p.ops if op.phase is Phase.CREATE_SPAWN and op.name.startswith("cgroup")]
    assert [op.name for op in spawn][:1] == ["cgroup_mkdir"]
    assert any(op.name == "cgroup_write" and op.path == f"{leaf}/pids.max" for op in spawn)
    assert spawn[-1].name == "cgroup_device_program"
    assert not any(op.name == "cgroup_join" for op in p.ops)  # PIDs= moves the init
    delete = [op.name for op in p.ops if op.phase is Phase.DELETE]
    assert delete[-2:] == ["systemd_stop_unit", "cgroup_remove"]
    assert not any(op.phase is Phase.CREATE_RUNTIME and "cgroup" in op.name for op in p.ops)


def test_v1_joins_every_hierarchy_but_systemds_own() -> None:
    p = plan(config({"cgroupsPath": "machine.slice:libpod:web"}), V1)
    scope = "machine.slice/libpod-web.scope"
    mkdirs = [op.path for op in p.ops if op.name == "cgroup_mkdir"]
    assert f"/sys/fs/cgroup/systemd/{scope}" in mkdirs
    assert f"/sys/fs/cgroup/memory/{scope}" in mkdirs
    # the spawn pass turns v1 joins into the init's own write of 0 to each ``tasks``
    joins = [op.path for op in p.ops if op.name == "cgroup_join"]
    assert f"/sys/fs/cgroup/memory/{scope}/tasks" in joins
    assert f"/sys/fs/cgroup/cpuset/{scope}/tasks" in joins
    assert not any("/systemd/" in j for j in joins)
    assert props(p)["BlockIOAccounting"][:2] == ("b", True)


def test_hybrid_leaves_the_unified_hierarchy_to_systemd() -> None:
    host = HostInfo.parse_overrides("cgroup=hybrid,systemd=1")
    p = plan(config(), host)
    joins = [op.path for op in p.ops if op.name == "cgroup_join"]
    assert joins and not any(j.startswith("/sys/fs/cgroup/unified/") for j in joins)


# ------------------------------------------------------------------ properties
RESOURCES = {
    "memory": {"limit": 536870912, "reservation": 268435456, "swap": 1073741824},
    "cpu": {"shares": 512, "quota": 12345, "period": 50000, "cpus": "0-2,9", "mems": "0"},
    "pids": {"limit": -1},
    "blockIO": {"weight": 500},
}


def test_v2_resource_properties_with_their_pointers() -> None:
    got = props(plan(config({"resources": RESOURCES})))
    assert got["MemoryMax"] == ("t", 536870912, "/linux/resources/memory/limit")
    assert got["MemoryLow"] == ("t", 268435456, "/linux/resources/memory/reservation")
    assert got["MemorySwapMax"] == ("t", 536870912, "/linux/resources/memory/swap")
    assert got["CPUWeight"][:2] == ("t", 59)  # the same conversion as the cpu.weight file
    assert got["CPUQuotaPeriodUSec"][:2] == ("t", 50000)
    # 12345/50000 s per s = 246900 us/s, rounded up to systemd's 10 ms steps
    assert got["CPUQuotaPerSecUSec"] == ("t", 250000, "/linux/resources/cpu/quota")
    assert got["AllowedCPUs"][:2] == ("ay", (0x07, 0x02))
    assert got["AllowedMemoryNodes"][:2] == ("ay", (0x01,))
    assert got["TasksMax"] == ("t", INFINITY, "/linux/resources/pids/limit")
    assert got["IOWeight"][:2] == ("t", 4950)
    assert got["Delegate"][:2] == ("b", True) and got["Slice"][:2] == ("s", "system.slice")
    assert got["PIDs"][:2] == ("au", ("{init}",))


def test_v1_resource_properties() -> None:
    got = props(plan(config({"resources": RESOURCES}), V1))
    assert got["MemoryLimit"][:2] == ("t", 536870912)
    assert got["CPUShares"][:2] == ("t", 512)
    assert got["BlockIOWeight"][:2] == ("t", 500)
    assert "MemoryMax" not in got and "CPUWeight" not in got and "MemorySwapMax" not in got


def test_files_are_still_written_after_the_unit() -> None:
    p = plan(config({"resources": RESOURCES}))
    files = {op.path.rsplit("/", 1)[1]: op.value for op in p.ops if op.name == "cgroup_write"}
    assert files["memory.max"] == "536870912" and files["cpu.max"] == "12345 50000"
    assert files["cpu.weight"] == "59"


def test_quota_without_period_and_unlimited_quota() -> None:
    got = props(plan(config({"resources": {"cpu": {"quota": 50000}}})))
    assert got["CPUQuotaPerSecUSec"][1] == 500000 and "CPUQuotaPeriodUSec" not in got
    got = props(plan(config({"resources": {"cpu": {"quota": -1, "period": 100000}}})))
    assert got["CPUQuotaPerSecUSec"][1] == INFINITY


def test_cpuset_masks() -> None:
    assert range_to_bits("0") == (1,)
    assert range_to_bits("0-7,8") == (0xFF, 0x01)
    for bad in ("", "a", "3-1", "1-"):
        with pytest.raises(ValueError):
            range_to_bits(bad)
    with pytest.raises(LoweringError) as info:
        plan(config({"resources": {"cpu": {"cpus": "2-1"}}}))
    assert info.value.pointer == "/linux/resources/cpu/cpus"


def test_devices_default_deny_is_strict_and_default_allow_is_auto() -> None:
    sig, allow, _ = props(plan(config()))["DeviceAllow"]
    assert props(plan(config()))["DevicePolicy"][1] == "strict"
    assert ("/dev/char/1:3", "rwm") in allow and ("char-pts", "rwm") in allow
    allow_all = {"devices": [{"allow": True, "access": "rwm"}]}
    got = props(plan(config({"resources": allow_all})))
    assert got["DevicePolicy"][1] == "auto" and got["DeviceAllow"][1] == ()


def test_a_whole_major_without_a_known_name_falls_back_to_auto_and_says_so() -> None:
    res = {
        "devices": [
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "c", "major": 4, "access": "rw"},
        ]
    }
    p = plan(config({"resources": res}))
    assert props(p)["DevicePolicy"][1] == "auto"
    assert any(d.code == "OCI355" for d in p.diagnostics)
    # the runtime's own device program still enforces the exact rules
    assert any(op.name == "cgroup_device_program" for op in p.ops)


# ------------------------------------------------------------------ annotations
def annotated(values: dict[str, str]) -> dict[str, tuple[str, Any, str | None]]:
    keys = {f"org.systemd.property.{k}": v for k, v in values.items()}
    return props(plan(config(annotations={**keys, "other": "x"})))


def test_annotations_pass_through_with_types_and_pointers() -> None:
    got = annotated(
        {
            "CollectMode": "'inactive-or-failed'",
            "TimeoutStopUSec": "uint64 123456789",
            "TimeoutStartSec": "7",
            "RuntimeMaxSec": "double 1.5",
            "SendSIGHUP": "true",
            "Environment": "['A=1', 'B=2']",
        }
    )
    assert got["CollectMode"] == (
        "s",
        "inactive-or-failed",
        "/annotations/org.systemd.property.CollectMode",
    )
    assert got["TimeoutStopUSec"][:2] == ("t", 123456789)
    assert got["TimeoutStartUSec"][:2] == ("t", 7_000_000)  # seconds, sent as microseconds
    assert "TimeoutStartSec" not in got
    assert got["RuntimeMaxUSec"][:2] == ("t", 1_500_000)
    assert got["SendSIGHUP"][:2] == ("b", True)
    assert got["Environment"][:2] == ("as", ("A=1", "B=2"))


@pytest.mark.parametrize(
    ("name", "value"),
    [("Ab", "true"), ("Bad1", "true"), ("Bad_Name", "true"), ("Good", "nonsense"),
     ("TimeoutStopSec", "'x'"), ("TimeoutStopSec", "-1"), ("Good", "uint64 -1"), ("Good", "[]")],
)  # fmt: skip
def test_annotations_runc_refuses_are_refused(name: str, value: str) -> None:
    with pytest.raises(LoweringError) as info:
        annotated({name: value})
    assert info.value.code == "OCI317"
    assert info.value.pointer == f"/annotations/org.systemd.property.{name}"


@pytest.mark.parametrize(
    ("text", "sig", "value"),
    [
        ("false", "b", False),
        ("42", "i", 42),
        ("-3", "i", -3),
        ("1.25", "d", 1.25),
        ("uint32 7", "u", 7),
        ("int64 -7", "x", -7),
        ("byte 0xff", "y", 255),
        ('"a \\" b"', "s", 'a " b'),
        ("@as []", "as", []),
        ("[1, 2]", "ai", [1, 2]),
    ],
)
def test_gvariant_subset(text: str, sig: str, value: Any) -> None:
    assert gvariant.parse(text) == (sig, value)


@pytest.mark.parametrize("text", ["byte 256", "'open", "['a', 1]", "(1, 2)", "<1>", "2147483648"])
def test_gvariant_refusals(text: str) -> None:
    with pytest.raises(gvariant.GVariantError):
        gvariant.parse(text)


# ------------------------------------------------------------------ printing
def test_the_unit_is_printed_in_every_format() -> None:
    from ocitool.render.plan_json import render_json
    from ocitool.render.plan_text import render_strace
    from ocitool.render.plan_tree import render_tree

    p = plan(config({"cgroupsPath": "machine.slice:libpod:web", "resources": RESOURCES}))
    out = io.StringIO()
    render_strace(p, out)
    text = out.getvalue()
    assert 'StartTransientUnit("libpod-web.scope", "replace", [Description=' in text
    assert "MemoryMax=536870912" in text and "AllowedCPUs=[0x07 0x02]" in text
    assert 'StopUnit("libpod-web.scope", "replace")' in text
    out = io.StringIO()
    render_json(p, out, None)
    ops = json.loads(out.getvalue())["ops"]
    (op,) = [o for o in ops if o["op"] == "systemd_start_unit"]
    assert op["unit"] == "libpod-web.scope" and op["slice"] == "machine.slice"
    assert ["MemoryMax", "t", 536870912, "/linux/resources/memory/limit"] in op["properties"]
    out = io.StringIO()
    render_tree(p, out, None, color=False)
    assert "MemoryMax (t) = 536870912   <- /linux/resources/memory/limit" in out.getvalue()


def test_plan_cli_prints_the_unit_on_any_machine(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from ocitool.cli.plan import main

    (tmp_path / "config.json").write_text(
        json.dumps(config({"cgroupsPath": "machine.slice:libpod:web"}))
    )
    code = main(
        ["--systemd-cgroup", "--host", "cgroup=v2,systemd=1", "--format", "strace", str(tmp_path)]
    )
    assert code == 0
    assert 'StartTransientUnit("libpod-web.scope"' in capsys.readouterr().out
