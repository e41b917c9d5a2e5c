"""Freezer, pid listing and limit writes on fake cgroup trees (v1 and v2 layouts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocitool.runc import cgroup as cg


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


def _v2(tmp_path: Path, events: str) -> list[str]:
    d = tmp_path / "ocitool" / "c2"
    d.mkdir(parents=True)
    (d / "cgroup.freeze").write_text("0\n")
    (d / "cgroup.events").write_text(events)
    (d / "cgroup.procs").write_text("5\n")
    return [str(d)]


def test_v1_freeze_and_thaw(tmp_path: Path) -> None:
    dirs = _v1(tmp_path)
    assert cg.freezer_dir(dirs) == ("v1", dirs[1])
    assert not cg.is_frozen(dirs)
    cg.set_frozen(dirs, True)
    assert (Path(dirs[1]) / "freezer.state").read_text() == "FROZEN"
    assert cg.is_frozen(dirs)
    cg.set_frozen(dirs, False)
    assert not cg.is_frozen(dirs)


def test_v2_freeze_waits_for_events(tmp_path: Path) -> None:
    dirs = _v2(tmp_path, "populated 1\nfrozen 1\n")
    assert cg.freezer_dir(dirs) == ("v2", dirs[0])
    cg.set_frozen(dirs, True)
    assert (Path(dirs[0]) / "cgroup.freeze").read_text() == "1"
    assert cg.is_frozen(dirs)


def test_v2_freeze_times_out_and_thaws_back(tmp_path: Path) -> None:
    dirs = _v2(tmp_path, "populated 1\nfrozen 0\n")
    with pytest.raises(Exception, match="timed out freezing"):
        cg.set_frozen(dirs, True, timeout=0.05)
    assert (Path(dirs[0]) / "cgroup.freeze").read_text() == "0"  # not left half frozen


def test_no_freezer(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no freezer cgroup"):
        cg.set_frozen([str(tmp_path)], True)


def test_pids_prefers_the_pids_hierarchy(tmp_path: Path) -> None:
    assert cg.pids(_v1(tmp_path)) == [7, 12]
    assert cg.pids([str(tmp_path / "nowhere")]) == []


def test_write_values_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "pids.max"
    f.write_text("max")
    cg.write_values([(str(f), "42")])
    assert f.read_text() == "42"
    with pytest.raises(Exception, match="missing/pids.max"):
        cg.write_values([(str(tmp_path / "missing" / "pids.max"), "1")])


def test_limit_writes_keep_the_containers_limits_only() -> None:
    from ocitool.plan.ops.base import Phase
    from ocitool.plan.ops.cgroup import CgroupWrite
    from ocitool.runc.cmd_cgroup import limit_writes

    d = "/sys/fs/cgroup/pids/ocitool/c"

    class Plan:
        ops = [
            CgroupWrite(phase=Phase.CREATE_RUNTIME, path=f"{d}/pids.max", value="9"),
            CgroupWrite(phase=Phase.CREATE_RUNTIME, path=f"{d}/devices.deny", value="a"),
            CgroupWrite(phase=Phase.CREATE_RUNTIME, path="/sys/fs/cgroup/other/x", value="1"),
        ]

    assert limit_writes(Plan(), [d]) == [(f"{d}/pids.max", "9")]
