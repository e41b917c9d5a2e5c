"""The systemd driver's D-Bus client against a fake systemd on a private dbus-daemon.

A private ``dbus-daemon`` (the Debian ``dbus`` package) runs with a fake
Manager (tests/helpers/fake_systemd.py) that records every call;
``DBUS_SYSTEM_BUS_ADDRESS`` points the real client code at it, so the
connection, the JobRemoved subscription, the marshalling of every property
type and the error paths are exercised end to end. What is *not* proven here
is that the real systemd accepts the properties: that needs the systemd guest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocitool.errors import OciToolError
from ocitool.exec import apply, systemd_bus
from ocitool.exec.context import ExecContext
from ocitool.exec.linux import LinuxSyscalls
from ocitool.exec.rollback import Rollback
from tests.helpers.systemd_plan import op_named, systemd_plan

HELPER = Path(__file__).resolve().parents[1] / "helpers" / "fake_systemd.py"

if shutil.which("dbus-daemon") is None and os.environ.get("CI") != "true":
    pytest.skip("dbus-daemon is not installed (apt install dbus)", allow_module_level=True)


class FakeSystemd:
    def __init__(self, address: str, log: Path) -> None:
        self.address, self.log = address, log

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def fake_systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSystemd]:
    sock = tmp_path / "bus"
    address = f"unix:path={sock}"
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address={address}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    service = None
    try:
        for _ in range(500):
            if sock.exists():
                break
            time.sleep(0.01)
        log = tmp_path / "calls.jsonl"
        service = subprocess.Popen(
            [sys.executable, str(HELPER), address, str(log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert service.stdout is not None
        assert service.stdout.readline().strip() == "READY"
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        yield FakeSystemd(address, log)
    finally:
        for proc in (service, daemon):
            if proc is not None:
                proc.kill()
                proc.wait()


CONFIG: dict[str, Any] = {
    "ociVersion": "1.2.0",
    "process": {"args": ["/bin/true"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
    "root": {"path": "rootfs"},
    "annotations": {"org.systemd.property.TimeoutStopSec": "uint64 7"},
    "linux": {
        "cgroupsPath": "machine.slice:libpod:web",
        "resources": {
            "memory": {"limit": 268435456},
            "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1"},
            "pids": {"limit": 64},
        },
    },
}


def start_op() -> Any:
    return op_named(systemd_plan(CONFIG), "systemd_start_unit")


def test_start_sends_the_planned_unit_with_the_init_pid(fake_systemd: FakeSystemd) -> None:
    ctx = ExecContext(sys=LinuxSyscalls(), pid=4242)
    apply.APPLIERS["systemd_start_unit"](start_op(), ctx)
    (call,) = fake_systemd.calls()
    assert call["method"] == "StartTransientUnit"
    unit, mode, props, aux = call["args"]
    assert (unit, mode, aux) == ("libpod-web.scope", "replace", [])
    got = {name: value for name, value in props}
    assert got["Slice"] == ["s", "machine.slice"]
    assert got["Delegate"] == ["b", True]
    assert got["PIDs"] == ["au", [4242]]
    assert got["DefaultDependencies"] == ["b", False]
    assert got["MemoryMax"] == ["t", 268435456]
    assert got["CPUWeight"] == ["t", 100]
    assert got["CPUQuotaPerSecUSec"] == ["t", 500000]
    assert got["AllowedCPUs"] == ["ay", [3]]
    assert got["TasksMax"] == ["t", 64]
    assert got["TimeoutStopUSec"] == ["t", 7_000_000]
    assert got["DevicePolicy"] == ["s", "strict"]
    assert ["char-pts", "rwm"] in got["DeviceAllow"][1]
    # the undo stops the unit: a failed create leaves nothing behind
    assert ctx.rollback.run() == []
    methods = [c["method"] for c in fake_systemd.calls()]
    assert methods == ["StartTransientUnit", "StopUnit", "ResetFailedUnit"]
    assert fake_systemd.calls()[1]["args"] == ["libpod-web.scope", "replace"]


def test_stop_of_a_unit_that_is_gone_is_fine(fake_systemd: FakeSystemd) -> None:
    systemd_bus.stop_unit("libpod-gone.scope", "replace")
    assert fake_systemd.calls() == [
        {"method": "StopUnit", "args": ["libpod-gone.scope", "replace"]}
    ]


def test_a_leftover_unit_is_reset_and_the_start_retried(fake_systemd: FakeSystemd) -> None:
    with pytest.raises(OciToolError) as info:  # job result "failed": the unit stays, failed
        systemd_bus.start_transient_unit("x-failjob.scope", "replace", [])
    assert info.value.code == systemd_bus.CODE
    systemd_bus.start_transient_unit("x-failjob.scope", "replace", [])  # UnitExists -> reset
    methods = [c["method"] for c in fake_systemd.calls()]
    assert methods == [
        "StartTransientUnit",
        "StartTransientUnit",
        "ResetFailedUnit",
        "StartTransientUnit",
    ]


def test_an_active_unit_of_the_same_name_is_refused(fake_systemd: FakeSystemd) -> None:
    systemd_bus.start_transient_unit("busy.scope", "replace", [])
    with pytest.raises(OciToolError) as info:
        systemd_bus.start_transient_unit("busy.scope", "replace", [])
    assert "UnitExists" in info.value.message


def test_failed_start_job_is_a_coded_error_with_the_unit(fake_systemd: FakeSystemd) -> None:
    with pytest.raises(OciToolError) as info:
        systemd_bus.start_transient_unit("y-failjob.scope", "replace", [])
    err = info.value
    assert err.code == "OCI531"
    assert "y-failjob.scope" in err.message and "'failed'" in err.message
    assert err.hint is not None and "journalctl -u y-failjob.scope" in err.hint


def test_no_bus_is_a_coded_error_with_a_hint_and_no_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"unix:path={tmp_path}/nobody-listens-SECRET"
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", secret)
    ctx = ExecContext(sys=LinuxSyscalls(), pid=4242, rollback=None)
    with pytest.raises(OciToolError) as info:
        apply.APPLIERS["systemd_start_unit"](start_op(), ctx)
    err = info.value
    assert err.code == "OCI531"
    assert "system bus" in err.message
    assert err.hint is not None and "cgroupfs" in err.hint
    assert "SECRET" not in err.message + (err.hint or "")  # no environment value shown
    # the undo (stop the unit) meets the same absent bus: it fails, and says so
    failures = ctx.rollback.run()
    assert len(failures) == 1 and failures[0].startswith("stop unit libpod-web.scope")


def test_rollback_steps_are_data(fake_systemd: FakeSystemd) -> None:
    """A later ``delete`` process replays a saved undo log: stop_unit survives JSON."""
    systemd_bus.start_transient_unit("z.scope", "replace", [("Delegate", ("b", True))])
    log = Rollback(LinuxSyscalls(), [("stop_unit", ["z.scope"], "stop unit z.scope")])
    again = Rollback.from_json(LinuxSyscalls(), json.loads(json.dumps(log.to_json())))
    assert again.run() == []
    assert fake_systemd.calls()[-2] == {"method": "StopUnit", "args": ["z.scope", "replace"]}


def test_update_sends_the_new_limits_to_the_unit(fake_systemd: FakeSystemd) -> None:
    """``ocitool-runc update`` of a systemd-driver container is a live plan: first a
    SetUnitProperties op with the resource properties only (runtime=true), then the
    file writes; applied through the engine's appliers."""
    from ocitool.plan.ops.cgroup import CgroupWrite, SetUnitProperties
    from ocitool.runc.live import update_ops

    cfg = json.loads(json.dumps(CONFIG))
    cfg["linux"]["resources"]["memory"]["limit"] = 134217728
    plan = systemd_plan(cfg)
    leaf = "/sys/fs/cgroup/machine.slice/libpod-web.scope"
    live = update_ops(plan.ops, [leaf])
    first = live[0]
    assert isinstance(first, SetUnitProperties) and first.unit == "libpod-web.scope"
    names = [p[0] for p in first.properties]
    assert "MemoryMax" in names and "TasksMax" in names
    assert not {"PIDs", "Slice", "Delegate", "DevicePolicy", "TimeoutStopUSec"} & set(names)
    writes = [(op.path, op.value) for op in live if isinstance(op, CgroupWrite)]
    assert (f"{leaf}/memory.max", "134217728") in writes
    systemd_bus.start_transient_unit(first.unit, "replace", [])
    apply.APPLIERS["systemd_set_unit_properties"](first, ExecContext(sys=LinuxSyscalls()))
    call = fake_systemd.calls()[-1]
    assert call["method"] == "SetUnitProperties"
    assert call["args"][:2] == ["libpod-web.scope", True]
    assert ["MemoryMax", ["t", 134217728]] in call["args"][2]
    with pytest.raises(OciToolError) as info:  # a unit systemd does not know
        systemd_bus.set_unit_properties("nope.scope", [])
    assert info.value.code == "OCI531" and "NoSuchUnit" in info.value.message
