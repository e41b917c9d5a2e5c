"""Executor pieces that need no root: state store, in-root resolution, exe checks, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocitool.cli.exec import _parse
from ocitool.errors import ExecError, RuntimeStateError, UsageError
from ocitool.exec.exe import resolve_executable, self_exe_id
from ocitool.exec.linux import LinuxSyscalls
from ocitool.exec.resolve import RootResolver, check_dev_null
from ocitool.exec.state import State, StateStore


def test_state_roundtrip_is_atomic_and_locked(tmp_path: Path) -> None:
    store = StateStore(str(tmp_path / "root"))
    store.reserve("c1")
    with pytest.raises(RuntimeStateError, match="already exists"):
        store.reserve("c1")
    st = State(
        id="c1",
        bundle="/b",
        status="created",
        pid=os.getpid(),
        annotations={"a": "b"},
        rollback=[["rmdir", ["/x"], "rmdir /x"]],
    )
    fd = store.lock("c1")
    try:
        store.save(st)
    finally:
        store.unlock(fd)
    assert sorted(os.listdir(store.dir("c1"))) == ["lock", "state.json"]  # no temp file left
    back = store.load("c1")
    assert back.to_disk() == st.to_disk()
    assert back.to_json()["pid"] == os.getpid()
    assert "ocitool" not in back.to_json()
    store.remove("c1")
    assert store.ids() == []
    with pytest.raises(RuntimeStateError, match="does not exist"):
        store.load("c1")


def _try_lock_elsewhere(path: str, how: str) -> bool:
    """Whether another process can take the lock on ``path`` right now (never blocks)."""
    code = (
        "import fcntl, os, sys\n"
        f"fd = os.open({path!r}, os.O_RDONLY if {how!r} == 'flock' else os.O_RDWR)\n"
        "try:\n"
        f"    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB) if {how!r} == 'flock' "
        "else os.lockf(fd, os.F_TLOCK, 0)\n"
        "except OSError:\n    sys.exit(1)\n"
    )
    return subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_lock_excludes_other_processes_and_old_dirs_keep_flock(tmp_path: Path) -> None:
    store = StateStore(str(tmp_path / "root"))
    store.reserve("c1")
    lock_file = os.path.join(store.dir("c1"), "lock")
    fd = store.lock("c1")
    assert not _try_lock_elsewhere(lock_file, "lockf")
    store.unlock(fd)
    assert _try_lock_elsewhere(lock_file, "lockf")
    # a directory from before the lock file: flock on the directory, as before
    os.unlink(lock_file)
    fd = store.lock("c1")
    assert not _try_lock_elsewhere(store.dir("c1"), "flock")
    store.unlock(fd)
    assert not os.path.exists(lock_file)  # lock() never creates it (no race with remove)
    store.remove("c1")
    with pytest.raises(RuntimeStateError, match="does not exist"):
        store.lock("c1")


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b"])
def test_state_refuses_bad_ids(tmp_path: Path, bad: str) -> None:
    with pytest.raises(RuntimeStateError):
        StateStore(str(tmp_path)).dir(bad)


def test_dead_or_reused_pid_reads_as_stopped() -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    st = State(id="x", bundle="/b", status="running", pid=proc.pid, pid_start=1)
    assert st.refresh_status() == "stopped"
    mine = State(id="y", bundle="/b", status="running", pid=os.getpid(), pid_start=12345)
    assert mine.refresh_status() == "stopped"  # same pid, different start time


def _rootfs(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "rootfs"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    return root, outside


def test_resolution_never_leaves_root(tmp_path: Path) -> None:
    root, outside = _rootfs(tmp_path)
    os.symlink(str(outside), root / "abs")
    os.symlink("../../../../..", root / "up")
    (root / str(outside).lstrip("/")).mkdir(parents=True)
    res = RootResolver(LinuxSyscalls(), str(root))
    try:
        fd = res.open("/abs")
        try:
            assert os.path.samefile(f"/proc/self/fd/{fd}", root / str(outside).lstrip("/"))
        finally:
            os.close(fd)
        fd = res.open("/up/up/..")
        try:
            assert os.path.samefile(f"/proc/self/fd/{fd}", root)
        finally:
            os.close(fd)
        res.mkdir_all("/abs/new/deeper")
        res.mkdir_all("/up/made")
        res.touch("/abs/file")
        # the last part a dangling symlink out of root: its target is made inside root
        os.symlink(str(outside / "dangling"), root / "dangle")
        res.mkdir_all("/dangle")
        res.mkdir_all("/made/one")  # parent there, last part missing
    finally:
        res.close()
    assert list(outside.iterdir()) == []
    assert (root / str(outside).lstrip("/") / "dangling").is_dir()
    assert (root / "made" / "one").is_dir()
    assert (root / str(outside).lstrip("/") / "new" / "deeper").is_dir()
    assert (root / "made").is_dir()
    assert (root / str(outside).lstrip("/") / "file").is_file()


def test_dev_null_must_be_the_null_device(tmp_path: Path) -> None:
    root, _ = _rootfs(tmp_path)
    (root / "dev").mkdir()
    os.symlink("/proc/sys/kernel/core_pattern", root / "dev" / "null")
    res = RootResolver(LinuxSyscalls(), str(root))
    try:
        with pytest.raises(ExecError, match="char device 1:3"):
            check_dev_null(res.sys, res)
        os.unlink(root / "dev" / "null")
        (root / "dev" / "null").write_text("")
        with pytest.raises(ExecError, match="char device 1:3"):
            check_dev_null(res.sys, res)
    finally:
        res.close()


def test_host_interpreter_is_refused(tmp_path: Path) -> None:
    from ocitool.exec.linux import LinuxSyscalls
    from ocitool.exec.recording import RecordingSyscalls

    me = self_exe_id()
    sys_ = LinuxSyscalls()
    with pytest.raises(ExecError, match="magic link"):
        resolve_executable(sys_, "/proc/self/exe", [], me)
    script = tmp_path / "evil.sh"
    script.write_text("#!/proc/self/exe\nprint(1)\n")
    script.chmod(0o755)
    with pytest.raises(ExecError, match="magic link"):
        resolve_executable(sys_, str(script), [], me)
    link = tmp_path / "py"
    os.symlink(os.path.realpath(sys.executable), link)
    with pytest.raises(ExecError, match="own interpreter"):
        resolve_executable(sys_, str(link), [], me)
    assert resolve_executable(sys_, "sh", ["PATH=/nonexistent:/bin"], me) == "/bin/sh"
    with pytest.raises(ExecError, match="ENOENT"):
        resolve_executable(sys_, "no-such-program-x", ["PATH=/bin"], me)
    # the lookup goes through the backend: a recording one sees the stat and openat2 calls
    sh = os.stat("/bin/sh")
    rec = RecordingSyscalls(results={"try_stat": os.stat, "fstat": lambda fd: sh, "read": b""})
    assert resolve_executable(rec, "/bin/sh", [], me) == "/bin/sh"
    assert rec.names()[:3] == ["try_stat", "open", "openat2"]


def test_cli_argument_parsing() -> None:
    opts = _parse(["--id", "web", "--root=/tmp/r", "--dry-run", "bundle"])
    assert opts == {
        "id": "web",
        "root": "/tmp/r",
        "dry_run": True,
        "validate": False,
        "check": False,
        "systemd_cgroup": False,
        "bundle": "bundle",
    }
    assert _parse(["--systemd-cgroup", "b"])["systemd_cgroup"] is True
    for argv in ([], ["--id"], ["--bogus", "b"], ["a", "b"]):
        with pytest.raises(UsageError):
            _parse(argv)


def test_cli_dry_run_prints_the_plan_without_root() -> None:
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocitool.cli.main",
            "exec",
            "--dry-run",
            str(repo / "examples" / "busybox"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "pivot_root" in proc.stdout and "execve" in proc.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "ocitool.cli.main", "exec"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "missing BUNDLE" in bad.stderr


def test_cli_refuses_to_run_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocitool.cli import exec as cli_exec

    monkeypatch.setattr(cli_exec.os, "geteuid", lambda: 1000)
    with pytest.raises(ExecError, match="needs root") as info:
        cli_exec.main(["/nonexistent-bundle"])
    assert "--dry-run" in (info.value.hint or "")
