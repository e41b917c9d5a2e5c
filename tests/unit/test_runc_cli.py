"""ocitool-runc's pure parts: argument parsing, signals, runc wording, logging, features, update."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ocitool.errors import RuntimeStateError, UsageError
from ocitool.runc.args import BOOL, MULTI, VALUE, Flag, parse
from ocitool.runc.common import parse_signal, runc_message
from ocitool.runc.log import Logger

FLAGS = (
    Flag(("bundle", "b"), VALUE),
    Flag(("detach", "d"), BOOL),
    Flag(("env", "e"), MULTI),
)


def test_parse_go_style_flags() -> None:
    p = parse(["-b", "x", "--detach", "--env=A=1", "-e", "B=2", "id", "sh", "-c", "exit"], FLAGS)
    assert p.value("bundle") == "x" and p.on("detach")
    assert p.values("env") == ["A=1", "B=2"]
    assert p.args == ["id", "sh", "-c", "exit"]  # flags stop at the first positional


def test_parse_bool_values_and_double_dash() -> None:
    assert parse(["--detach=false", "x"], FLAGS).on("detach") is False
    assert parse(["-detach=true", "x"], FLAGS).on("detach") is True
    assert parse(["--", "-d"], FLAGS).args == ["-d"]
    with pytest.raises(UsageError, match="invalid boolean"):
        parse(["--detach=maybe"], FLAGS)


def test_parse_errors() -> None:
    with pytest.raises(UsageError, match="flag provided but not defined: -nope"):
        parse(["--nope"], FLAGS)
    with pytest.raises(UsageError, match="flag needs an argument: -bundle"):
        parse(["--bundle"], FLAGS)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("KILL", 9),
        ("SIGKILL", 9),
        ("sigterm", 15),
        ("9", 9),
        ("15", 15),
        ("USR1", 10),
        ("RTMIN+3", 37),
    ],
)
def test_signals(text: str, number: int) -> None:
    assert parse_signal(text) == number


def test_signal_zero_is_the_liveness_probe() -> None:
    """runc accepts ``kill ID 0`` (no signal: success while the init exists), not ``SIG0``."""
    assert parse_signal("0") == 0
    with pytest.raises(UsageError):
        parse_signal("SIG0")


@pytest.mark.parametrize("text", ["NOPE", "65", "-9", ""])
def test_bad_signals(text: str) -> None:
    with pytest.raises(UsageError):
        parse_signal(text)


@pytest.mark.parametrize(
    ("code", "message", "wording"),
    [
        ("OCI603", "container 'x' does not exist", "container does not exist"),
        (
            "OCI602",
            "container with id 'x' already exists",
            "container with given ID already exists",
        ),
        (
            "OCI605",
            "cannot start a container that is running",
            "cannot start an already running container",
        ),
        (
            "OCI605",
            "cannot start a container that is stopped",
            "cannot start a container that has stopped",
        ),
        ("OCI606", "whatever", "container not running"),
        (
            "OCI607",
            "cannot delete container c that is not stopped: running",
            "cannot delete container c that is not stopped: running",
        ),
    ],
)
def test_runc_wording(code: str, message: str, wording: str) -> None:
    assert runc_message(RuntimeStateError(message=message, code=code)) == wording


def test_json_log_line(tmp_path: Path) -> None:
    path = tmp_path / "log.json"
    log = Logger(str(path), "json")
    log.error('bad "thing"')
    log.debug("hidden")
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == {"level", "msg", "time"}
    assert data["level"] == "error" and data["msg"] == 'bad "thing"'
    assert lines[0].startswith('{"level":"error","msg":')  # compact, as runc writes it


def test_text_log_line_quotes() -> None:
    line = Logger(None, "text").line("warning", "two words")
    assert 'level=warning msg="two words"' in line


def test_features_follow_the_appliers() -> None:
    from ocitool.runc.features import features

    full = features(
        {
            "hook",
            "seccomp_load",
            "mount_copyup",
            "bind_mount_idmapped",
            "idmap_tree",
            "systemd_start_unit",
        },
        "1",
    )
    bare = features(set(), "1")
    assert full["hooks"] and bare["hooks"] == []
    assert "tmpcopyup" in full["mountOptions"] and "tmpcopyup" not in bare["mountOptions"]
    # id-mapped mounts need both halves (the runtime's tree, the init's move)
    assert "idmap" in full["mountOptions"] and "idmap" not in bare["mountOptions"]
    assert full["linux"]["mountExtensions"]["idmap"]["enabled"] is True
    half = features({"bind_mount_idmapped"}, "1")
    assert half["linux"]["mountExtensions"]["idmap"]["enabled"] is False
    assert bare["linux"]["apparmor"]["enabled"] is False and bare["linux"]["netDevices"] == {
        "enabled": False
    }
    assert bare["linux"]["memoryPolicy"] == {"modes": [], "flags": []}
    assert full["potentiallyUnsafeConfigAnnotations"] == []
    assert bare["linux"]["seccomp"]["enabled"] is False
    assert "SCMP_ACT_NOTIFY" in full["linux"]["seccomp"]["actions"]
    assert full["linux"]["cgroup"]["systemd"] is True
    assert bare["linux"]["cgroup"]["systemd"] is False


def test_features_validate_against_schema() -> None:
    from ocitool import __version__
    from ocitool.exec.apply import APPLIERS
    from ocitool.runc.features import features
    from ocitool.spec.load import parse_text
    from ocitool.spec.schema import validate_features

    text = json.dumps(features(APPLIERS, __version__))
    errors = [d for d in validate_features(parse_text(text, "f.json")) if d.severity == "error"]
    assert errors == []


def test_update_resources_from_flags_and_merge() -> None:
    from ocitool.runc.cmd_cgroup import UPDATE_FLAGS, merge, requested_resources

    p = parse(["--memory", "64m", "--pids-limit", "42", "--cpuset-cpus", "0-1", "id"], UPDATE_FLAGS)
    res = requested_resources(p)
    assert res == {"memory": {"limit": 64 << 20}, "pids": {"limit": 42}, "cpu": {"cpus": "0-1"}}
    base = {"memory": {"limit": 1, "swap": 2}, "devices": [{"allow": False}]}
    assert merge(base, res)["memory"] == {"limit": 64 << 20, "swap": 2}
    assert merge(base, res)["devices"] == [{"allow": False}]
    with pytest.raises(UsageError):
        requested_resources(parse(["--pids-limit", "lots", "id"], UPDATE_FLAGS))


def test_update_takes_runcs_flag_names() -> None:
    """runc update's spellings: --cpu-share (the old --cpu-shares still works), --cpu-burst,
    --cpu-idle, --kernel-memory-tcp; --l3-cache-schema/--mem-bw-schema need intelRdt."""
    from ocitool.runc.cmd_cgroup import UPDATE_FLAGS, requested_rdt, requested_resources

    argv = ["--cpu-share", "512", "--cpu-burst", "1000", "--cpu-idle", "1"]
    p = parse([*argv, "--kernel-memory-tcp", "1m", "id"], UPDATE_FLAGS)
    assert requested_resources(p) == {
        "cpu": {"shares": 512, "burst": 1000, "idle": 1},
        "memory": {"kernelTCP": 1 << 20},
    }
    old = parse(["--cpu-shares", "256", "id"], UPDATE_FLAGS)
    assert requested_resources(old) == {"cpu": {"shares": 256}}
    rdt = parse(["--l3-cache-schema", "L3:0=f", "--mem-bw-schema", "MB:0=50", "id"], UPDATE_FLAGS)
    config = {"linux": {"intelRdt": {"closID": "g"}}}
    assert requested_rdt(rdt, config) == {
        "closID": "g",
        "l3CacheSchema": "L3:0=f",
        "memBwSchema": "MB:0=50",
    }
    assert requested_rdt(old, config) is None
    with pytest.raises(UsageError, match="non-existent Intel RDT"):
        requested_rdt(rdt, {"linux": {}})


def test_exec_cgroup_picks_existing_sub_cgroups(tmp_path: Path, monkeypatch: Any) -> None:
    from ocitool.runc import cmd_exec

    monkeypatch.setattr(cmd_exec, "_hierarchy_names", lambda d: d.rsplit("/", 2)[-2].split(","))
    dirs = [str(tmp_path / "pids" / "c"), str(tmp_path / "cpu,cpuacct" / "c")]
    for d in dirs:
        (Path(d) / "sub").mkdir(parents=True)
    procs = cmd_exec.exec_cgroup_procs
    assert procs(dirs, []) == [f"{d}/cgroup.procs" for d in dirs]
    assert procs(dirs, ["sub"]) == [f"{d}/sub/cgroup.procs" for d in dirs]
    assert procs(dirs, ["cpu:sub"]) == [f"{dirs[0]}/cgroup.procs", f"{dirs[1]}/sub/cgroup.procs"]
    for bad in (["../up"], ["missing"], ["memory:sub"]):
        with pytest.raises(UsageError):
            procs(dirs, bad)


def test_exec_process_from_flags() -> None:
    from ocitool.runc.cmd_exec import EXEC_FLAGS, _process_from_flags

    base = {
        "args": ["sleep"],
        "env": ["PATH=/bin", "A=1"],
        "cwd": "/",
        "user": {"uid": 0, "gid": 0},
        "capabilities": {
            "bounding": ["CAP_KILL"],
            "effective": ["CAP_KILL"],
            "permitted": ["CAP_KILL"],
        },
    }
    p = parse(
        [
            "-e",
            "A=2",
            "--cwd",
            "/tmp",
            "-u",
            "5:6",
            "--cap",
            "CAP_CHOWN",
            "-t",
            "--no-new-privs",
            "--apparmor",
            "prof",
            "--process-label",
            "system_u:system_r:t:s0",
            "id",
            "sh",
        ],
        EXEC_FLAGS,
    )
    proc = _process_from_flags(base, p, ["sh"])
    # applied (the lowering writes them, or refuses where the LSM is missing), not ignored
    assert proc["apparmorProfile"] == "prof" and proc["selinuxLabel"] == "system_u:system_r:t:s0"
    assert proc["args"] == ["sh"] and proc["env"] == ["PATH=/bin", "A=2"]
    assert proc["cwd"] == "/tmp" and proc["user"] == {"uid": 5, "gid": 6}
    assert proc["terminal"] is True and proc["noNewPrivileges"] is True
    assert proc["capabilities"]["bounding"] == ["CAP_KILL", "CAP_CHOWN"]
    assert base["env"] == ["PATH=/bin", "A=1"]  # the saved config is not changed


def test_no_pivot_rewrites_the_plan() -> None:
    from ocitool.lower.nopivot import replace_pivot
    from ocitool.plan.ops.base import Phase
    from ocitool.plan.ops.fs import MakePropagation, PivotRoot, Umount
    from ocitool.plan.ops.process import Chdir

    P = Phase.CREATE_PIVOT
    ops = [
        Chdir(phase=P, path="/r"),
        PivotRoot(phase=P),
        MakePropagation(phase=P, src=None, target=".", flags=("MS_REC", "MS_SLAVE")),
        Umount(phase=P, target=".", flags=("MNT_DETACH",)),
        Chdir(phase=P, path="/"),
    ]
    out = replace_pivot(ops)
    assert [op.name for op in out] == ["chdir", "mount", "chroot", "chdir"]
    assert out[1].flags == ("MS_MOVE",) and out[1].target == "/" and out[2].path == "."


def test_plan_no_pivot_prints_the_move_and_chroot(capsys: pytest.CaptureFixture[str]) -> None:
    """`ocitool plan --no-pivot` shows what `ocitool-runc create --no-pivot` runs."""
    from ocitool.cli.main import main

    bundle = str(Path(__file__).resolve().parents[2] / "examples" / "busybox")
    assert main(["plan", "--format", "strace", "--host", "cgroup=v2", "--no-pivot", bundle]) == 0
    out = capsys.readouterr().out
    assert "pivot_root" not in out
    assert 'mount(".", "/", NULL, MS_MOVE, NULL)' in out and 'chroot(".")' in out


def test_plan_no_new_keyring_prints_no_session_keyring(capsys: pytest.CaptureFixture[str]) -> None:
    """`ocitool plan --no-new-keyring` shows what `ocitool-runc create --no-new-keyring` runs:
    the keyring op is left out by lowering (and the verifier does not ask for it)."""
    from ocitool.cli.main import main

    bundle = str(Path(__file__).resolve().parents[2] / "examples" / "busybox")
    args = ["plan", "--format", "json", "--host", "cgroup=v2", bundle]
    assert main(args) == 0
    assert "session_keyring" in capsys.readouterr().out
    assert main([*args[:-1], "--no-new-keyring", bundle]) == 0
    assert "session_keyring" not in capsys.readouterr().out


def test_lowering_options_are_part_of_the_cache_key() -> None:
    from ocitool.plan.cache import lowering_options

    keys = {
        lowering_options(systemd, pivot, keyring)
        for systemd in (False, True)
        for pivot in (False, True)
        for keyring in (False, True)
    }
    assert len(keys) == 8


def test_hot_path_imports_stay_light(tmp_path: Path) -> None:
    """create/start/run/exec code paths import neither jsonschema, rich, lark, argparse nor
    jeepney (the systemd driver's D-Bus client: only a plan with a systemd op loads it)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.helpers_exec.bundle import make_bundle

    bundle = make_bundle(tmp_path / "b", ["true"])
    code = f"""
import sys
import ocitool.cli.runc, ocitool.runc.cmd_lifecycle, ocitool.runc.cmd_exec
import ocitool.exec.lifecycle, ocitool.runc.foreground, ocitool.exec.join
import ocitool.exec.console, ocitool.exec.linux
from ocitool.runc import container as C
doc, spec = C.load_bundle_spec({str(bundle)!r})
plan = C.lower_spec(spec, "x", {str(bundle)!r})
ops = ocitool.runc.cmd_exec.exec_ops(list(plan.ops))
heavy = {{"jsonschema", "rich", "lark", "argparse", "jeepney"}}
print(sorted({{m.split('.')[0] for m in sys.modules}} & heavy))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    assert out.strip() == "[]"


def test_light_cgroup_remove_ops_match_the_plan_ops() -> None:
    from ocitool.plan.ops.base import Phase
    from ocitool.plan.ops.cgroup import CgroupRemove
    from ocitool.runc.container import cgroup_remove_ops

    [light] = cgroup_remove_ops(["/sys/fs/cgroup/pids/ocitool/x"])
    real = CgroupRemove(phase=Phase.DELETE, path="/sys/fs/cgroup/pids/ocitool/x")
    assert light.name == real.name and light.path == real.path and light.text() == real.text()
    assert (light.phase.value, light.phase.order, light.phase.process, light.phase.command) == (
        real.phase.value,
        real.phase.order,
        real.phase.process,
        real.phase.command,
    )


def test_go_durations() -> None:
    from ocitool.runc.cmd_events import parse_duration

    assert parse_duration("5s") == 5.0
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("250ms") == pytest.approx(0.25)
    assert parse_duration("1.5h") == 5400.0
    assert parse_duration("0") == 0.0
    for bad in ("5", "", "1x", "s"):
        with pytest.raises(UsageError):
            parse_duration(bad)


def test_stats_from_cgroup_v2_files(tmp_path: Path) -> None:
    """The v2 readers on files written as cgroup-v2.rst documents them."""
    from ocitool.runc.stats import V1_ONLY_CPUSET, stats

    files = {
        "cgroup.controllers": "cpu memory pids io\n",
        "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
        "nr_periods 4\nnr_throttled 1\nthrottled_usec 20\n",
        "cpu.pressure": "some avg10=0.50 avg60=0.00 avg300=0.00 total=123\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n",
        "cpuset.cpus.effective": "0-2\n",
        "cpuset.mems.effective": "0\n",
        "memory.current": "4096\n",
        "memory.max": "max\n",
        "memory.peak": "8192\n",
        "memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
        "memory.stat": "anon 100\nfile 200\n",
        "memory.swap.current": "10\n",
        "memory.swap.max": "1000\n",
        "pids.current": "2\n",
        "pids.max": "max\n",
        "io.stat": "8:0 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    data = stats([str(tmp_path)])
    assert data["cpu"]["usage"] == {"total": 1500000, "kernel": 500000, "user": 1000000}
    assert data["cpu"]["throttling"] == {
        "periods": 4,
        "throttledPeriods": 1,
        "throttledTime": 20000,
    }
    assert data["cpu"]["psi"]["some"]["avg10"] == 0.5 and data["cpu"]["psi"]["full"]["total"] == 7
    v1_only = dict.fromkeys(V1_ONLY_CPUSET, 0)  # runc's JSON has them on v2 too, as zero
    assert data["cpuset"] == {"cpus": [0, 1, 2], "mems": [0], **v1_only}
    assert data["memory"]["kernel"] == data["memory"]["kernelTCP"] == {"limit": 0, "failcnt": 0}
    assert data["memory"]["cache"] == 200
    assert data["memory"]["usage"] == {"limit": 2**64 - 1, "usage": 4096, "max": 8192, "failcnt": 3}
    assert data["memory"]["swap"] == {"limit": 2**64 - 1, "usage": 4106, "failcnt": 0}
    assert data["pids"] == {"current": 2}
    assert data["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 8, "op": "Read", "value": 512},
        {"major": 8, "op": "Write"},
    ]
    assert data["network_interfaces"] is None and data["intel_rdt"] == {}


def test_a_log_fifo_without_reader_fails_at_once(tmp_path: Path) -> None:
    """--log naming a FIFO nobody reads is refused (ENXIO), never a hang in open(2)."""
    from ocitool.runc.log import Logger

    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    reason = Logger(str(fifo)).check()
    assert reason is not None and "no such device or address" in reason
