"""Issue 17 for real: no secret in any error, atomic failures, coded errors, runc's rules.

Each test starts real containers (root) with ids unique to this run and a
private --root, and compares with runc where runc's behaviour is the rule.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import ocitool_exec
from tests.integration.test_runc_lifecycle import REPO, Runtime, S, runtime_command

pytestmark = pytest.mark.integration

SECRET = "hunter2-sentinel-value"


@pytest.fixture
def rt(tmp_path: Path, root_required: None) -> Iterator[Runtime]:
    logs = tmp_path / "logs"
    logs.mkdir()
    runtime = Runtime(tmp_path / "runc-root", logs)
    yield runtime
    runtime.cleanup()


def _no_secret(
    proc: subprocess.CompletedProcess[str], log: Path | None, what: str, *, fails: bool = True
) -> None:
    if fails:
        assert proc.returncode != 0, f"{what}: expected a failure\n{proc.stdout}{proc.stderr}"
    text = proc.stdout + proc.stderr + (log.read_text() if log and log.exists() else "")
    assert SECRET not in text, f"{what}: the environment value leaked:\n{text}"
    assert "internal error" not in text and "Traceback" not in text, f"{what}:\n{text}"


# ------------------------------------------------------------------ secrets in diagnostics
BAD_PROCESSES: dict[str, dict[str, Any]] = {
    "missing binary": {"args": ["/nonexistent"]},
    "not executable": {"args": ["/etc/passwd"]},
    "cwd is a file": {"args": ["true"], "cwd": "/etc/passwd"},
    "env not a list": {"args": ["true"], "env": f"SECRET={SECRET}"},
    "env entry without =": {"args": ["true"], "env": ["PATH=/bin", SECRET]},
    "env entry with NUL": {"args": ["true"], "env": ["PATH=/bin", f"SECRET={SECRET}\x00"]},
    "env entry not a string": {"args": ["true"], "env": [f"SECRET={SECRET}", 5]},
    "env with a lone surrogate": {"args": ["true"], "env": [f"SECRET={SECRET}\ud800"]},
}
BAD_HOOKS: dict[str, dict[str, Any]] = {
    "hook missing": {"path": "/nonexistent"},
    "hook fails": {"path": "/bin/false"},
    "hook env not a list": {"path": "/bin/true", "env": f"SECRET={SECRET}"},
}


def _bundles(bundle_factory: Callable[..., Path]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for name, change in BAD_PROCESSES.items():
        process = {"env": ["PATH=/bin", f"SECRET={SECRET}"], **change}
        out[name] = bundle_factory(process.pop("args"), process=process)
    for name, hook in BAD_HOOKS.items():
        hook = {"env": [f"SECRET={SECRET}"], **hook}
        out[name] = bundle_factory(
            ["true"],
            process={"env": ["PATH=/bin", f"SECRET={SECRET}"]},
            hooks={"createRuntime": [hook]},
        )
    return out


def test_no_error_path_shows_an_environment_value(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path, state_root: Path
) -> None:
    """Every way a process or hook can fail, through every command that can report it:
    the sentinel value is never in stdout, stderr or the --log file (text and json)."""
    for name, bundle in _bundles(bundle_factory).items():
        for fmt in ("text", "json"):
            log = tmp_path / f"log-{fmt}"
            glob = ("--log", str(log), "--log-format", fmt)
            cid = f"sec{len(name)}{fmt}{S}"
            _no_secret(rt("run", "--bundle", str(bundle), cid, glob=glob), log, f"run {name}")
            rt("delete", "--force", cid)
        _no_secret(ocitool_exec(bundle, state_root), None, f"ocitool exec {name}")
        if name.startswith("env"):
            for command in (["validate"], ["lint", "--no-config"]):
                proc = subprocess.run(
                    [sys.executable, "-m", "ocitool.cli.main", *command, str(bundle)],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                _no_secret(proc, None, f"{command[0]} {name}", fails=False)


def test_no_exec_error_shows_an_environment_value(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    bundle = bundle_factory(["sleep", "100"])
    cid = f"secx{S}"
    rt.create(bundle, cid)
    assert rt("start", cid).returncode == 0
    log = tmp_path / "log"
    glob = ("--log", str(log), "--log-format", "json")
    env = ("--env", f"SECRET={SECRET}")
    for argv in (["/nonexistent"], ["/etc/passwd"], ["--cwd", "/etc/passwd", "true"]):
        flags, args = argv[:-1], argv[-1:]
        _no_secret(rt("exec", *env, *flags, cid, *args, glob=glob), log, f"exec {argv}")
    for name, change in BAD_PROCESSES.items():
        process = {"cwd": "/", "user": {"uid": 0, "gid": 0}, "env": [f"SECRET={SECRET}"], **change}
        path = tmp_path / "process.json"
        path.write_text(json.dumps(process))
        _no_secret(rt("exec", "--process", str(path), cid, glob=glob), log, f"exec -p {name}")


# ------------------------------------------------------------------ atomic failures
def _procs(cid: str) -> list[str]:
    return (Path("/sys/fs/cgroup/pids/ocitool") / cid / "cgroup.procs").read_text().split()


def test_bad_outputs_start_nothing(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    """``exec --pid-file /missing/dir/p`` used to start the process, then fail with an
    internal error and leave it running; a bad --console-socket likewise."""
    bundle = bundle_factory(["sleep", "100"])
    cid = f"atom{S}"
    rt.create(bundle, cid)
    assert rt("start", cid).returncode == 0
    before = _procs(cid)
    missing = str(tmp_path / "missing" / "dir" / "p")
    proc = rt("exec", "-d", "--pid-file", missing, cid, "sleep", "33")
    assert proc.returncode == 1 and f"open {missing}: no such file or directory" in proc.stderr
    sock = rt("exec", "-t", "--console-socket", str(tmp_path / "nosock"), cid, "sleep", "34")
    assert sock.returncode == 1 and "dial unix" in sock.stderr, sock.stderr
    assert _procs(cid) == before
    assert "internal error" not in proc.stderr + sock.stderr

    created = rt("create", "--bundle", str(bundle), "--pid-file", missing, f"atom2{S}")
    assert created.returncode == 1 and "no such file or directory" in created.stderr
    assert not (rt.root / f"atom2{S}").exists()
    assert not (Path("/sys/fs/cgroup/pids/ocitool") / f"atom2{S}").exists()


def test_delete_force_of_a_killed_create_removes_its_cgroups(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    """A create SIGKILLed part-way (here: while its createRuntime hook runs) runs no undo;
    ``delete --force`` must still remove every cgroup directory it made."""
    hook_pid = tmp_path / "hook.pid"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\necho $$ > {hook_pid}\nexec sleep 60\n")
    hook.chmod(0o755)
    bundle = bundle_factory(["true"], hooks={"createRuntime": [{"path": str(hook)}]})
    cid = f"half{S}"
    create = subprocess.Popen(
        [*rt_command(rt), "create", "--bundle", str(bundle), cid],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not hook_pid.exists() or not hook_pid.read_text().strip():
            assert time.monotonic() < deadline and create.poll() is None
            time.sleep(0.05)
        os.kill(create.pid, signal.SIGKILL)
        create.wait(10)
    finally:
        if hook_pid.exists() and hook_pid.read_text().strip():
            with contextlib.suppress(ProcessLookupError):  # the orphaned hook, by its pid
                os.kill(int(hook_pid.read_text()), signal.SIGKILL)
    dirs = _recorded_dirs(rt, cid)
    assert dirs and all(d.is_dir() for d in dirs), dirs
    assert rt.state(cid)["status"] == "creating"
    plain = rt("delete", cid)
    assert plain.returncode == 1 and "that is not stopped: creating" in plain.stderr
    assert rt("delete", "--force", cid).returncode == 0
    assert not any(d.exists() for d in dirs), [d for d in dirs if d.exists()]
    assert not (rt.root / cid).exists()


def rt_command(rt: Runtime) -> list[str]:
    return [*runtime_command(), "--root", str(rt.root)]


def _recorded_dirs(rt: Runtime, cid: str) -> list[Path]:
    data = json.loads((rt.root / cid / "state.json").read_text())
    return [Path(d) for d in data["ocitool"]["extra"]["cgroup_dirs"]]


# ------------------------------------------------------------------ coded errors, not 70
def test_ordinary_failures_have_codes(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    bundle = bundle_factory(["sleep", "100"])
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    cases = {
        "root is a file (list)": (
            ["--root", str(a_file), "list"],
            f"open {a_file}: not a directory",
        ),
        "root is a file (create)": (
            ["--root", str(a_file), "create", "--bundle", str(bundle), f"rf{S}"],
            f"mkdir {a_file}: file exists",
        ),
        "root under a file": (
            ["--root", str(a_file / "sub"), "create", "--bundle", str(bundle), f"rf{S}"],
            "not a directory",
        ),
        "unwritable log": (["--log", str(tmp_path / "no" / "log"), "list"], "no such file"),
        "id too long": (["state", "x" * 1000], "invalid container ID format"),
        "id with a newline": (["state", "a\nb"], "invalid container ID format"),
    }
    for name, (argv, wording) in cases.items():
        proc = subprocess.run(
            [*runtime_command(), *argv], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 1, name
        assert wording in proc.stderr and "internal error" not in proc.stderr, (name, proc.stderr)

    surrogate = bundle_factory(["sleep", "\ud800"])
    proc = rt("create", "--bundle", str(surrogate), f"sur{S}")
    assert proc.returncode == 1 and "lone UTF-16 surrogate" in proc.stderr, proc.stderr
    assert not (rt.root / f"sur{S}").exists()

    cid = f"nest{S}"
    rt.create(bundle, cid)
    deep = '{"memory":' + '{"a":' * 500 + "1" + "}" * 500 + "}"
    nested = rt("update", "--resources", "-", cid, stdin=deep)
    assert nested.returncode == 1 and "nested more than" in nested.stderr, nested.stderr
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    for flag in ("--resources", "--process"):
        command = "update" if flag == "--resources" else "exec"
        proc = rt(command, flag, str(zero), cid, timeout=20)
        assert proc.returncode == 1 and "not a regular file" in proc.stderr, proc.stderr


def test_a_full_state_root_is_a_coded_error(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    """ENOSPC on the state root: a clear error, and nothing left behind."""
    bundle = bundle_factory(["true"])
    root = tmp_path / "tiny"
    root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(root)], check=True)
    try:
        filler = root / "filler"
        with open(filler, "wb", buffering=0) as f, pytest.raises(OSError):
            while True:
                f.write(b"\0" * 4096)
        proc = subprocess.run(
            [
                *runtime_command(),
                "--root",
                str(root),
                "create",
                "--bundle",
                str(bundle),
                f"full{S}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 1 and "no space left on device" in proc.stderr, proc.stderr
        assert "internal error" not in proc.stderr
        assert not (root / f"full{S}").exists()
        assert not (Path("/sys/fs/cgroup/pids/ocitool") / f"full{S}").exists()
    finally:
        subprocess.run(["umount", str(root)], check=False)


# ------------------------------------------------------------------ runc's rules
IDS = ["a,b", "a+b", "a..b", "a b", "é", ".", "..", "a:b", "a\tb", "-x-", "_"]


def test_id_rules_match_runc(tmp_path: Path, rt: Runtime) -> None:
    for cid in IDS:
        theirs = subprocess.run(
            ["runc", "--root", str(tmp_path / "runc"), "state", "--", cid],
            capture_output=True,
            text=True,
            timeout=30,
        )
        ours = rt("state", "--", cid)
        want = "invalid container ID format" in theirs.stderr
        assert ("invalid container ID format" in ours.stderr) == want, (cid, ours.stderr)
        assert ours.returncode == theirs.returncode == 1


def test_kill_zero_probes_liveness(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    """runc: ``kill ID 0`` succeeds while the init exists, fails once it is gone."""
    bundle = bundle_factory(["sleep", "100"])
    cid = f"k0{S}"
    rt.create(bundle, cid)
    assert rt("start", cid).returncode == 0
    assert rt("kill", cid, "0").returncode == 0
    assert rt("kill", "--all", cid, "0").returncode == 0
    assert rt.wait_status(cid, "running")["status"] == "running"
    assert rt("kill", cid, "KILL").returncode == 0
    assert rt.wait_status(cid, "stopped")["status"] == "stopped"
    gone = rt("kill", cid, "0")
    assert gone.returncode == 1 and "container not running" in gone.stderr


def _ignore_int_quit() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)


def test_no_signal_stays_ignored_in_the_container(
    rt: Runtime, bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    """Started with SIGINT and SIGQUIT ignored (a background job), runc's container
    process still ignores nothing, so the SIGINT runc forwards reaches it; ours too."""
    bundle = bundle_factory(["grep", "SigIgn", "/proc/self/status"])
    runs = {
        "runc": (["runc", "--root", str(rt.root) + "-runc", "run", f"sig{S}"], bundle),
        "ocitool-runc": ([*rt_command(rt), "run", "--bundle", str(bundle), f"sig{S}"], REPO),
    }
    for who, (argv, cwd) in runs.items():
        proc = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            preexec_fn=_ignore_int_quit,
        )
        assert proc.stdout.split() == ["SigIgn:", "0000000000000000"], (who, proc.stderr)
    proc = ocitool_exec(bundle, state_root, preexec_fn=_ignore_int_quit)
    assert proc.stdout.split() == ["SigIgn:", "0000000000000000"], proc.stderr
