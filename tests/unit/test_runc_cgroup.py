"""Live plans (pause, resume, kill, update: runc/live.py) and what ocitool-runc reads from
a container's cgroup, on fake cgroup trees (v1 and v2 layouts)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from ocitool.errors import LoweringError
from ocitool.exec.context import ExecContext
from ocitool.exec.lifecycle import apply_live
from ocitool.exec.linux import LinuxSyscalls
from ocitool.exec.recording import RecordingSyscalls
from ocitool.exec.syscalls import sys_error
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Phase
from ocitool.plan.ops.cgroup import CgroupFreeze, CgroupWrite
from ocitool.records import replace
from ocitool.runc import cgroup as cg
from ocitool.runc.live import (
    freeze_ops,
    kill_paused_ops,
    signal_all_ops,
    signal_init_ops,
    update_ops,
)

V1 = HostInfo.preset("v1")


def _v1(tmp_path: Path) -> list[str]:
    dirs = []
    for ctl in ("pids", "freezer", "memory"):
        d = tmp_path / ctl / "ocitool" / "c1"
        d.mkdir(parents=True)
        (d / "cgroup.procs").write_text("")
        dirs.append(str(d))
    (tmp_path / "freezer" / "ocitool" / "c1" / "freezer.state").write_text("THAWED\n")
    (tmp_path / "pids" / "ocitool" / "c1" / "cgroup.procs").write_text("12\n7\n")
    return dirs


def _v2(tmp_path: Path, events: str) -> tuple[HostInfo, list[str]]:
    d = tmp_path / "ocitool" / "c2"
    d.mkdir(parents=True)
    (d / "cgroup.freeze").write_text("0\n")
    (d / "cgroup.events").write_text(events)
    (d / "cgroup.procs").write_text("5\n")
    return HostInfo(cgroup="v2", unified_mount=str(tmp_path)), [str(d)]


def _apply(ops: list, sys_: object | None = None) -> None:  # type: ignore[type-arg]
    apply_live(ops, ExecContext(sys=sys_ or LinuxSyscalls(), pid=42))  # type: ignore[arg-type]


def test_v1_pause_and_resume_are_freezer_ops(tmp_path: Path) -> None:
    dirs = _v1(tmp_path)
    assert not cg.is_frozen(dirs)
    ops = freeze_ops(V1, dirs, True)
    assert ops == [CgroupFreeze(phase=Phase.LIVE, path=dirs[1], version="v1", frozen=True)]
    assert (
        ops[0].text() == f'write("{dirs[1]}/freezer.state", "FROZEN") /* until it reads FROZEN */'
    )
    _apply(ops)
    assert (Path(dirs[1]) / "freezer.state").read_text().strip() == "FROZEN"
    assert cg.is_frozen(dirs)
    _apply(freeze_ops(V1, dirs, False))
    assert not cg.is_frozen(dirs)


def test_v2_freeze_waits_for_events(tmp_path: Path) -> None:
    host, dirs = _v2(tmp_path, "populated 1\nfrozen 1\n")
    ops = freeze_ops(host, dirs, True)
    assert ops[0].version == "v2"  # type: ignore[attr-defined]
    _apply(ops)
    assert (Path(dirs[0]) / "cgroup.freeze").read_text().strip() == "1"
    assert cg.is_frozen(dirs)


def test_v2_freeze_times_out_and_thaws_back(tmp_path: Path) -> None:
    host, dirs = _v2(tmp_path, "populated 1\nfrozen 0\n")
    op = replace(freeze_ops(host, dirs, True)[0], timeout_ms=50)
    with pytest.raises(Exception, match="op #0 cgroup_freeze .*timed out freezing"):
        _apply([op])
    assert (Path(dirs[0]) / "cgroup.freeze").read_text().strip() == "0"  # not left half frozen


def test_no_freezer_is_a_lowering_error(tmp_path: Path) -> None:
    with pytest.raises(LoweringError, match="no freezer cgroup"):
        freeze_ops(V1, [str(tmp_path / "memory" / "c")], True)
    old = HostInfo(cgroup="v2", unified_mount="/sys/fs/cgroup", kernel=(5, 1, 0))
    with pytest.raises(LoweringError, match="no freezer cgroup"):
        freeze_ops(old, ["/sys/fs/cgroup/ocitool/c"], True)


def test_pids_prefers_the_pids_hierarchy(tmp_path: Path) -> None:
    assert cg.pids(_v1(tmp_path)) == [7, 12]
    assert cg.pids([str(tmp_path / "nowhere")]) == []


def test_kill_all_signals_each_listed_pid_and_skips_the_exited(tmp_path: Path) -> None:
    dirs = _v1(tmp_path)
    ops = signal_all_ops(dirs, "SIGTERM")
    assert ops[0].path == f"{dirs[0]}/cgroup.procs"  # type: ignore[attr-defined]

    def kill(pid: int, sig: int) -> None:
        if pid == 7:
            raise sys_error("kill", (pid, sig), errno.ESRCH)

    rec = RecordingSyscalls(results={"read_file": b"12\n7\n", "kill": kill})
    _apply(ops, rec)
    assert [c.args for c in rec.calls if c.name == "kill"] == [(7, 15), (12, 15)]


def test_kill_is_a_live_op_signalling_the_init_through_a_pidfd() -> None:
    import os

    from ocitool.exec.state import proc_start_time

    started = proc_start_time(os.getpid())
    ops = signal_init_ops("SIGTERM", started)
    assert ops[0].text() == (
        f"pidfd_send_signal(pidfd_open({{init}}), SIGTERM) /* if it started at {started} */"
    )
    rec = RecordingSyscalls(results={"pidfd_open": 5})
    apply_live(ops, ExecContext(sys=rec, container_id="c", pid=os.getpid()))
    assert [(c.name, c.args) for c in rec.calls] == [
        ("pidfd_open", (os.getpid(),)),
        ("pidfd_send_signal", (5, 15)),
        ("close", (5,)),
    ]


def test_kill_refuses_an_init_whose_pid_was_reused() -> None:
    import os

    rec = RecordingSyscalls(results={"pidfd_open": 5})
    with pytest.raises(Exception, match="container not running") as info:
        apply_live(signal_init_ops("SIGKILL", 1), ExecContext(sys=rec, pid=os.getpid()))
    assert getattr(info.value, "code", None) == "OCI606"
    assert [c.name for c in rec.calls] == ["pidfd_open", "close"]  # no signal sent


def test_deleting_a_paused_container_kills_then_thaws(tmp_path: Path) -> None:
    ops = kill_paused_ops(V1, _v1(tmp_path))
    assert [op.name for op in ops] == ["cgroup_signal", "cgroup_freeze"]
    assert ops[0].signal == "SIGKILL" and not ops[1].frozen  # type: ignore[attr-defined]


def test_update_keeps_the_containers_limits_only(tmp_path: Path) -> None:
    d = str(tmp_path / "pids" / "ocitool" / "c")
    ops = [
        CgroupWrite(phase=Phase.CREATE_RUNTIME, path=f"{d}/pids.max", value="9"),
        CgroupWrite(phase=Phase.CREATE_RUNTIME, path=f"{d}/devices.deny", value="a"),
        CgroupWrite(phase=Phase.CREATE_RUNTIME, path="/sys/fs/cgroup/other/x", value="1"),
    ]
    live = update_ops(ops, [d])
    assert live == [CgroupWrite(phase=Phase.LIVE, path=f"{d}/pids.max", value="9")]
    Path(d).mkdir(parents=True)
    Path(d, "pids.max").touch()  # (cgroup files need no O_TRUNC; a plain file would)
    _apply(live)
    assert Path(d, "pids.max").read_text() == "9"
    Path(d, "pids.max").unlink()
    with pytest.raises(Exception, match=r"op #0 cgroup_write \[live\].*pids.max"):
        _apply(live)
