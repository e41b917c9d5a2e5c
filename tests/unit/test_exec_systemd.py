"""The systemd driver's ops in the executor, with the recording and fault-injecting backends.

(The real D-Bus client is exercised against a fake systemd in test_systemd_bus.py.)
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from ocitool.errors import ExecError
from ocitool.exec import apply
from ocitool.exec.context import ExecContext
from ocitool.exec.fault import FaultSyscalls
from ocitool.exec.recording import RecordingSyscalls
from ocitool.host import HostInfo
from ocitool.plan import cache
from tests.helpers.systemd_plan import systemd_plan

CONFIG = {
    "ociVersion": "1.2.0",
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
    "root": {"path": "rootfs"},
    "linux": {
        "cgroupsPath": "machine.slice:libpod:web",
        "resources": {"cpu": {"cpus": "1"}, "devices": [{"allow": False, "access": "rwm"}]},
    },
}


def ops() -> list[Any]:
    return list(systemd_plan(CONFIG).ops)


def by_name(name: str, plan_ops: list[Any]) -> Any:
    return next(op for op in plan_ops if op.name == name)


def test_start_is_one_call_with_the_pid_and_bytes_and_registers_its_undo() -> None:
    rec = RecordingSyscalls()
    ctx = ExecContext(sys=rec, pid=77)
    apply.APPLIERS["systemd_start_unit"](by_name("systemd_start_unit", ops()), ctx)
    (call,) = rec.calls
    unit, mode, props = call.args
    assert (call.name, unit, mode) == ("systemd_start_unit", "libpod-web.scope", "replace")
    got = dict(props)
    assert got["PIDs"] == ("au", [77])
    assert got["AllowedCPUs"] == ("ay", b"\x02")
    assert got["DeviceAllow"][0] == "a(ss)" and ("char-pts", "rwm") in got["DeviceAllow"][1]
    assert ctx.rollback.steps == [("stop_unit", ["libpod-web.scope"], "stop unit libpod-web.scope")]
    assert ctx.rollback.run() == []
    assert rec.calls[-1].name == "systemd_stop_unit"
    assert rec.calls[-1].args == ("libpod-web.scope", "replace")


def test_a_failed_start_still_leaves_the_undo_that_stops_the_unit() -> None:
    rec = RecordingSyscalls()
    fault = FaultSyscalls(rec, fail_op=5, errno=errno.EIO)
    ctx = ExecContext(sys=fault, pid=77)
    fault.begin_op(5, None)
    with pytest.raises(ExecError) as info:  # the injected failure
        apply.APPLIERS["systemd_start_unit"](by_name("systemd_start_unit", ops()), ctx)
    assert info.value.errno == errno.EIO
    fault.end_op(5, None)
    assert ctx.rollback.run() == []
    assert [c.name for c in rec.calls] == ["systemd_stop_unit"]


def test_stop_op_calls_stop() -> None:
    rec = RecordingSyscalls()
    apply.APPLIERS["systemd_stop_unit"](by_name("systemd_stop_unit", ops()), ExecContext(sys=rec))
    assert [(c.name, c.args) for c in rec.calls] == [
        ("systemd_stop_unit", ("libpod-web.scope", "replace"))
    ]


def test_the_plan_cache_keeps_the_properties(tmp_path: Path) -> None:
    plan_ops = ops()
    host = HostInfo.preset("v2")
    key = cache.make_key((b"{}",), "/run/bundles/web", host, ("systemd",), ("web",))
    cache.store(str(tmp_path), key, plan_ops, {})
    hit = cache.load(str(tmp_path), key)
    assert hit is not None
    loaded = by_name("systemd_start_unit", hit[0])
    original = by_name("systemd_start_unit", plan_ops)
    assert loaded.properties == original.properties and loaded.unit == original.unit
    assert loaded.text() == original.text()
    assert hit[0] == plan_ops
