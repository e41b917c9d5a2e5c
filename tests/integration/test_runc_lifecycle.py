"""ocitool-runc's lifecycle with real containers: every command, status transition and error.

The runtime runs as a separate process, as engines run it. Detached
containers write their stdio to files (not pipes: the container keeps them
open after ``create`` returns, as it does under conmon). Every test deletes
what it created (the ``rt`` fixture force-deletes whatever is left under its
root).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# container ids (and so cgroup paths, which do not depend on --root) unique to this run
S = f"-{os.getpid()}"


def runtime_command() -> list[str]:
    """How to run ocitool-runc from the tests: this interpreter, this checkout."""
    return [sys.executable, "-m", "ocitool.cli.runc"]


def runtime_binary(tmp: Path) -> str:
    """An executable path for engines (podman --runtime, ctr --runc-binary).

    The installed launcher when there is one. podman starts conmon, and so the
    runtime, without the caller's PYTHONPATH: when the tests run with one (a
    work tree other than the installed one), a wrapper carries it over.
    """
    script = Path(sys.executable).with_name("ocitool-runc")
    pythonpath = os.environ.get("PYTHONPATH")
    if script.exists() and not pythonpath:
        return str(script)
    wrapper = tmp / "ocitool-runc"
    run = f'"{script}"' if script.exists() else f'"{sys.executable}" -m ocitool.cli.runc'
    wrapper.write_text(
        f'#!/bin/sh\nPYTHONPATH="{REPO}${{PYTHONPATH:+:$PYTHONPATH}}" exec {run} "$@"\n'
    )
    wrapper.chmod(0o755)
    return str(wrapper)


class Runtime:
    """ocitool-runc under one --root, with its output captured."""

    def __init__(self, root: Path, logs: Path) -> None:
        self.root = root
        self.logs = logs
        self.n = 0

    def __call__(
        self,
        *args: str,
        stdin: str | None = None,
        timeout: float = 60,
        glob: tuple[str, ...] = (),
        **kw: Any,
    ) -> subprocess.CompletedProcess[str]:
        cmd = [*runtime_command(), "--root", str(self.root), *glob, *args]
        return subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            cwd=REPO,
            **kw,
        )

    def detached(self, *args: str, timeout: float = 60, **kw: Any) -> tuple[int, Path, Path, str]:
        """Run a command whose container keeps stdio: (rc, stdout file, stderr file, our err)."""
        self.n += 1
        out = self.logs / f"out{self.n}"
        err = self.logs / f"err{self.n}"
        with open(out, "w") as fo, open(err, "w") as fe:
            proc = subprocess.run(
                [*runtime_command(), "--root", str(self.root), *args],
                stdout=fo,
                stderr=fe,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                cwd=REPO,
                **kw,
            )
        return proc.returncode, out, err, err.read_text()

    def create(self, bundle: Path, cid: str, *extra: str) -> tuple[Path, Path]:
        rc, out, err, text = self.detached("create", "--bundle", str(bundle), *extra, cid)
        assert rc == 0, text
        return out, err

    def state(self, cid: str) -> dict[str, Any]:
        proc = self("state", cid)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def wait_status(self, cid: str, status: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            st = self.state(cid)
            if st["status"] == status or time.monotonic() > deadline:
                return st
            time.sleep(0.05)

    def cleanup(self) -> None:
        for cid in self("list", "-q").stdout.split():
            self("delete", "--force", cid)


def wait_file(path: Path, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while text not in path.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.read_text()


def cgroup_dir(cid: str, controller: str = "pids") -> Path:
    return Path("/sys/fs/cgroup") / controller / "ocitool" / cid


LOOP = ["sh", "-c", "echo started; trap 'echo got-term; exit 0' TERM; while :; do sleep 0.05; done"]


# ------------------------------------------------------------------ status transitions
def test_create_start_kill_delete(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    bundle = bundle_factory(LOOP, annotations={"org.example/a": "b"})
    pid_file = tmp_path / "init.pid"
    out, _ = rt.create(bundle, f"life{S}", "--pid-file", str(pid_file))
    st = rt.state(f"life{S}")
    assert st["status"] == "created"
    assert st["pid"] == int(pid_file.read_text()) > 0
    assert Path(f"/proc/{st['pid']}").exists()
    assert st["bundle"] == str(bundle) and st["rootfs"] == str(bundle / "rootfs")
    assert st["annotations"] == {"org.example/a": "b"}
    assert st["owner"] == "root" and st["created"].endswith("Z")
    assert st["ociVersion"].startswith("1.")
    time.sleep(0.2)
    assert "started" not in out.read_text()  # the init waits for start
    assert rt("start", f"life{S}").returncode == 0
    assert "started" in wait_file(out, "started")
    assert rt.state(f"life{S}")["status"] == "running"
    assert rt("kill", f"life{S}", "TERM").returncode == 0
    st = rt.wait_status(f"life{S}", "stopped")
    assert st["status"] == "stopped" and st["pid"] == 0
    assert "got-term" in out.read_text()
    assert cgroup_dir(f"life{S}").is_dir()
    assert rt("delete", f"life{S}").returncode == 0
    assert not cgroup_dir(f"life{S}").exists()
    gone = rt("state", f"life{S}")
    assert gone.returncode == 1 and "container does not exist" in gone.stderr


def test_stopped_after_process_exits_on_its_own(
    rt: Runtime, bundle_factory: Callable[..., Path]
) -> None:
    bundle = bundle_factory(["true"])
    rt.create(bundle, f"short{S}")
    assert rt("start", f"short{S}").returncode == 0
    assert rt.wait_status(f"short{S}", "stopped")["status"] == "stopped"
    killed = rt("kill", f"short{S}", "KILL")
    assert killed.returncode == 1 and "container not running" in killed.stderr
    again = rt("start", f"short{S}")
    assert again.returncode == 1 and "cannot start a container that has stopped" in again.stderr
    assert rt("delete", f"short{S}").returncode == 0


def test_pid_reuse_is_detected_by_start_time(
    rt: Runtime, bundle_factory: Callable[..., Path]
) -> None:
    bundle = bundle_factory(["sleep", "100"])
    rt.create(bundle, f"reuse{S}")
    path = rt.root / f"reuse{S}" / "state.json"
    data = json.loads(path.read_text())
    pid = data["pid"]
    # pretend the recorded init started at another time: the live pid is someone else
    data["ocitool"]["pid_start"] = int(data["ocitool"]["pid_start"]) + 12345
    path.write_text(json.dumps(data))
    assert rt.state(f"reuse{S}")["status"] == "stopped"
    killed = rt("kill", f"reuse{S}", "KILL")
    assert killed.returncode == 1 and "container not running" in killed.stderr
    assert Path(f"/proc/{pid}").exists()  # the other process was not signalled
    os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------------ error contracts
def test_error_contracts_change_nothing(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    bundle = bundle_factory(["sleep", "100"])
    unknown = rt("state", f"nope{S}")
    assert unknown.returncode == 1 and unknown.stderr.strip().endswith("container does not exist")
    assert not (rt.root / f"nope{S}").exists()

    rt.create(bundle, f"dup{S}")
    before = rt.state(f"dup{S}")
    rc, _, _, err = rt.detached("create", "--bundle", str(bundle), f"dup{S}")
    assert rc == 1 and "container with given ID already exists" in err
    assert rt.state(f"dup{S}") == before

    assert rt("start", f"dup{S}").returncode == 0
    running = rt.state(f"dup{S}")
    again = rt("start", f"dup{S}")
    assert again.returncode == 1
    assert "cannot start an already running container" in again.stderr
    assert rt.state(f"dup{S}") == running

    busy = rt("delete", f"dup{S}")
    assert busy.returncode == 1
    assert f"cannot delete container dup{S} that is not stopped: running" in busy.stderr
    assert rt.state(f"dup{S}") == running and Path(f"/proc/{running['pid']}").exists()

    missing = rt("delete", f"nope{S}")
    assert missing.returncode == 1 and "container does not exist" in missing.stderr
    forced = rt("delete", "--force", f"nope{S}")
    assert forced.returncode == 0 and forced.stdout == forced.stderr == ""

    assert rt("delete", "--force", f"dup{S}").returncode == 0
    assert not Path(f"/proc/{running['pid']}").exists() or _zombie(running["pid"])
    assert not cgroup_dir(f"dup{S}").exists()

    bad = rt("create", "--bundle", str(bundle / "nowhere"), f"x1{S}")
    assert bad.returncode == 1 and not (rt.root / f"x1{S}").exists()
    usage = rt("start")
    assert usage.returncode == 1 and '"start" requires exactly 1 argument(s)' in usage.stderr
    no_id = rt("create", "--bundle", str(bundle))
    assert no_id.returncode == 1 and '"create" requires exactly 1 argument(s)' in no_id.stderr
    assert sorted(p.name for p in rt.root.iterdir() if not p.name.startswith(".")) == []
    flag = rt("state", "--bogus", f"x{S}")
    assert flag.returncode == 1 and "flag provided but not defined: -bogus" in flag.stderr


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_log_format_json_and_log_file(rt: Runtime, tmp_path: Path) -> None:
    proc = rt("state", f"nope{S}", glob=("--log-format", "json"))
    assert proc.returncode == 1
    line = json.loads(proc.stderr.strip().splitlines()[-1])
    assert line["level"] == "error" and line["msg"] == "container does not exist"
    assert line["time"].endswith("Z")
    log = tmp_path / "log.json"
    proc = rt("delete", f"nope{S}", glob=("--log", str(log), "--log-format", "json"))
    assert proc.returncode == 1
    assert json.loads(log.read_text().splitlines()[-1])["msg"] == "container does not exist"
    assert "container does not exist" in proc.stderr  # and plainly on stderr, as runc does
    text = rt("state", f"nope{S}", glob=("--log", str(tmp_path / "log.txt")))
    assert 'level=error msg="container does not exist"' in (tmp_path / "log.txt").read_text()
    assert text.returncode == 1


def test_global_flags(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    # this host has no systemd as init: the systemd driver is refused before anything is made
    refused = rt(
        "run", "--bundle", str(bundle_factory(["true"])), f"x{S}", glob=("--systemd-cgroup",)
    )
    assert refused.returncode == 1 and "--systemd-cgroup needs systemd" in refused.stderr
    assert not rt.root.exists() or not (rt.root / f"x{S}").exists()
    version = rt("--version")
    assert version.returncode == 0 and "ocitool-runc version" in version.stdout
    assert "spec: 1." in version.stdout
    helped = rt("--help")
    assert helped.returncode == 0 and "exec" in helped.stdout
    bundle = bundle_factory(["true"])
    debug = rt("run", "--bundle", str(bundle), f"dbg{S}", glob=("--debug",))
    assert debug.returncode == 0 and "level=debug" in debug.stderr


# ------------------------------------------------------------------ kill
@pytest.mark.parametrize("sig", ["TERM", "SIGTERM", "15"])
def test_kill_signal_names_and_numbers(
    rt: Runtime, bundle_factory: Callable[..., Path], sig: str
) -> None:
    bundle = bundle_factory(LOOP)
    out, _ = rt.create(bundle, f"k{S}")
    assert rt("start", f"k{S}").returncode == 0
    wait_file(out, "started")
    assert rt("kill", f"k{S}", sig).returncode == 0
    assert rt.wait_status(f"k{S}", "stopped")["status"] == "stopped"
    assert "got-term" in out.read_text()


def test_kill_all_and_bad_signal(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    bundle = bundle_factory(["sh", "-c", "sleep 100 & sleep 100 & wait"])
    rt.create(bundle, f"ka{S}")
    assert rt("start", f"ka{S}").returncode == 0
    bad = rt("kill", f"ka{S}", "NOSUCH")
    assert bad.returncode == 1 and "unknown signal" in bad.stderr
    deadline = time.monotonic() + 5
    while len(json.loads(rt("ps", "--format", "json", f"ka{S}").stdout)) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert rt("kill", "--all", f"ka{S}", "KILL").returncode == 0
    assert rt.wait_status(f"ka{S}", "stopped")["status"] == "stopped"
    assert (cgroup_dir(f"ka{S}") / "cgroup.procs").read_text().split() == []


def test_kill_created_container(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    bundle = bundle_factory(["true"])
    rt.create(bundle, f"kc{S}")
    assert rt("kill", f"kc{S}", "9").returncode == 0
    assert rt.wait_status(f"kc{S}", "stopped")["status"] == "stopped"


# ------------------------------------------------------------------ run
def test_run_exit_codes_and_flags(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    b3 = bundle_factory(["sh", "-c", "echo out; echo err >&2; exit 3"])
    proc = rt("run", "--bundle", str(b3), f"r3{S}")
    assert proc.returncode == 3 and proc.stdout == "out\n" and "err" in proc.stderr
    assert not (rt.root / f"r3{S}").exists() and not cgroup_dir(f"r3{S}").exists()
    # no pid namespace: pid 1 of one would be immune to its own SIGKILL
    b137 = bundle_factory(
        ["sh", "-c", "kill -9 $$"],
        linux={"namespaces": [{"type": t} for t in ("network", "ipc", "uts", "mount")]},
    )
    assert rt("run", "--bundle", str(b137), f"r137{S}").returncode == 137
    missing = bundle_factory(["/no/such/binary"])
    bad = rt("run", "--bundle", str(missing), f"rmiss{S}")
    assert bad.returncode != 0 and "no/such/binary" in bad.stderr
    assert not (rt.root / f"rmiss{S}").exists()

    keep = rt("run", "--keep", "--bundle", str(b3), f"rkeep{S}")
    assert keep.returncode == 3
    assert rt.state(f"rkeep{S}")["status"] == "stopped"
    assert rt("delete", f"rkeep{S}").returncode == 0

    pid_file = tmp_path / "run.pid"
    sleeper = bundle_factory(["sleep", "100"])
    rc, _, _, err = rt.detached(
        "run", "-d", "--pid-file", str(pid_file), "--bundle", str(sleeper), f"rdet{S}"
    )
    assert rc == 0, err
    st = rt.state(f"rdet{S}")
    assert st["status"] == "running" and st["pid"] == int(pid_file.read_text())
    assert rt("delete", "-f", f"rdet{S}").returncode == 0

    nopivot = rt("run", "--no-pivot", "--bundle", str(b3), f"rnp{S}")
    assert nopivot.returncode == 3 and nopivot.stdout == "out\n"


def test_run_foreground_state_and_signal_forwarding(
    rt: Runtime, bundle_factory: Callable[..., Path]
) -> None:
    bundle = bundle_factory(LOOP)
    proc = subprocess.Popen(
        [*runtime_command(), "--root", str(rt.root), "run", "--bundle", str(bundle), f"fg{S}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "started\n"
        assert rt.state(f"fg{S}")["status"] == "running"
        proc.send_signal(signal.SIGTERM)  # forwarded to the container
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "got-term" in out
    assert not (rt.root / f"fg{S}").exists()


def test_preserve_fds(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    bundle = bundle_factory(["sh", "-c", "cat <&3"])
    r, w = os.pipe()
    os.write(w, b"through-fd-3\n")
    os.close(w)
    cmd = [
        *runtime_command(),
        "--root",
        str(rt.root),
        "run",
        "--preserve-fds",
        "1",
        "--bundle",
        str(bundle),
        f"pfd{S}",
    ]
    try:  # the engine's fd 3 is our pipe
        proc = subprocess.run(
            cmd,
            preexec_fn=lambda: os.dup2(r, 3),
            pass_fds=(3,),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
        )
    finally:
        os.close(r)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "through-fd-3\n"
    without = bundle_factory(["sh", "-c", "ls /proc/self/fd"])
    plain = rt("run", "--bundle", str(without), f"nofd{S}")
    assert plain.stdout.split() == ["0", "1", "2", "3"]  # 3 is ls's own directory fd


# ------------------------------------------------------------------ exec
def _status_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith(("Cap", "NoNewPrivs", "Seccomp"))]


def test_exec_joins_namespaces_cgroup_and_security(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }
    bundle = bundle_factory(["sleep", "100"], linux={"seccomp": seccomp}, hostname="inside")
    rt.create(bundle, f"ex{S}")
    assert rt("start", f"ex{S}").returncode == 0
    init = rt.state(f"ex{S}")["pid"]
    init_status = Path(f"/proc/{init}/status").read_text()
    proc = rt(
        "exec",
        f"ex{S}",
        "sh",
        "-c",
        "cat /proc/self/status; hostname; echo $$; mkdir /tmp/x || echo blocked; exit 7",
    )
    assert proc.returncode == 7, proc.stderr
    assert _status_lines(proc.stdout) == _status_lines(init_status)
    assert "inside" in proc.stdout and "blocked" in proc.stdout
    assert "Seccomp:\t2" in proc.stdout

    pid_file = tmp_path / "exec.pid"
    rc, _, _, err = rt.detached(
        "exec", "--detach", "--pid-file", str(pid_file), f"ex{S}", "sleep", "50"
    )
    assert rc == 0, err
    pid = int(pid_file.read_text())
    for ns in ("pid", "mnt", "net", "uts", "ipc"):
        assert os.readlink(f"/proc/{pid}/ns/{ns}") == os.readlink(f"/proc/{init}/ns/{ns}")
    assert Path(f"/proc/{pid}/cgroup").read_text() == Path(f"/proc/{init}/cgroup").read_text()
    assert os.readlink(f"/proc/{pid}/root") == "/"
    assert os.stat(f"/proc/{pid}/root").st_ino == os.stat(f"/proc/{init}/root").st_ino
    ps = json.loads(rt("ps", "--format", "json", f"ex{S}").stdout)
    assert init in ps and pid in ps


def test_exec_flags_and_process_file(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    bundle = bundle_factory(["sleep", "100"])
    rt.create(bundle, f"exf{S}")
    assert rt("start", f"exf{S}").returncode == 0
    proc = rt(
        "exec",
        "--cwd",
        "/tmp",
        "--env",
        "FOO=bar",
        "-e",
        "TERM=dumb",
        "--user",
        "0:0",
        f"exf{S}",
        "sh",
        "-c",
        "pwd; echo $FOO $TERM; id -u; id -g",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["/tmp", "bar", "dumb", "0", "0"]
    process = {
        "args": ["sh", "-c", "echo from-file; pwd; exit 9"],
        "cwd": "/etc",
        "env": ["PATH=/bin"],
        "user": {"uid": 0, "gid": 0},
        "terminal": False,
    }
    pfile = tmp_path / "process.json"
    pfile.write_text(json.dumps(process))
    proc = rt("exec", "--process", str(pfile), f"exf{S}")
    assert proc.returncode == 9 and proc.stdout.split() == ["from-file", "/etc"]
    missing = rt("exec", f"exf{S}", "/no/such")
    assert missing.returncode != 0 and "/no/such" in missing.stderr
    none = rt("exec", f"nope{S}", "true")
    assert none.returncode == 1 and "container does not exist" in none.stderr
    assert rt("kill", f"exf{S}", "KILL").returncode == 0
    rt.wait_status(f"exf{S}", "stopped")
    stopped = rt("exec", f"exf{S}", "true")
    assert stopped.returncode == 1 and "stopped" in stopped.stderr


def _console_listener(path: Path) -> Any:
    import socket

    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)
    srv.settimeout(20)
    return srv


def _read_pty(master: int, want: str, timeout: float = 10) -> str:
    import select

    buf = b""
    deadline = time.monotonic() + timeout
    while want.encode() not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf.decode(errors="replace")


def _on_pty(argv: list[str]) -> tuple[int, str]:
    """Run ``argv`` in a new session with a fresh pty as its stdio, reading until a
    /dev/pts/ name shows up: (exit status, what it wrote)."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=REPO, start_new_session=True
        )
        os.close(slave)
        text = _read_pty(master, "/dev/pts/")
        return proc.wait(30), text
    finally:
        os.close(master)


def test_exec_tty_over_console_socket(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    from ocitool.exec.console import receive_fd

    bundle = bundle_factory(["sleep", "100"])
    rt.create(bundle, f"tty{S}")
    assert rt("start", f"tty{S}").returncode == 0
    sock_path = tmp_path / "console.sock"
    srv = _console_listener(sock_path)
    try:
        rc, _, _, err = rt.detached(
            "exec",
            "--tty",
            "--detach",
            "--console-socket",
            str(sock_path),
            f"tty{S}",
            "sh",
            "-c",
            "tty; echo tty-ok; sleep 1",
        )
        assert rc == 0, err
        conn, _ = srv.accept()
        name, master = receive_fd(conn)
        conn.close()
    finally:
        srv.close()
    try:
        assert name == "/dev/ptmx"
        text = _read_pty(master, "tty-ok")
    finally:
        os.close(master)
    assert "/dev/pts/0" in text and "tty-ok" in text
    no_sock = rt("exec", "--tty", f"tty{S}", "true")
    assert no_sock.returncode == 1 and "console" in no_sock.stderr


def test_create_with_terminal_sends_pty_master(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    from ocitool.exec.console import receive_fd

    bundle = bundle_factory(["sh", "-c", "tty; echo term-ok; sleep 1"], process={"terminal": True})
    refused = rt("create", "--bundle", str(bundle), f"t0{S}")
    assert refused.returncode == 1
    assert "cannot allocate tty if runc will detach without setting console socket" in (
        refused.stderr
    )
    assert not (rt.root / f"t0{S}").exists()
    sock_path = tmp_path / "c.sock"
    srv = _console_listener(sock_path)
    try:
        rt.create(bundle, f"t1{S}", "--console-socket", str(sock_path))
        conn, _ = srv.accept()
        name, master = receive_fd(conn)
        conn.close()
    finally:
        srv.close()
    try:
        assert rt("start", f"t1{S}").returncode == 0
        text = _read_pty(master, "term-ok")
    finally:
        os.close(master)
    assert name == "/dev/ptmx" and "/dev/pts/0" in text and "term-ok" in text


# ------------------------------------------------------------------ list, ps, pause, update
def test_list_and_ps(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    assert rt("list", "--format", "json").stdout.strip() == "null"
    bundle = bundle_factory(["sleep", "100"])
    rt.create(bundle, f"l1{S}")
    rt.create(bundle_factory(["sleep", "100"]), f"l2{S}")
    assert rt("start", f"l2{S}").returncode == 0
    rows = {r["id"]: r for r in json.loads(rt("list", "-f", "json").stdout)}
    assert rows[f"l1{S}"]["status"] == "created" and rows[f"l2{S}"]["status"] == "running"
    assert rows[f"l1{S}"]["bundle"] == str(bundle)
    table = rt("list").stdout.splitlines()
    assert table[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert sorted(line.split()[0] for line in table[1:]) == [f"l1{S}", f"l2{S}"]
    assert sorted(rt("list", "-q").stdout.split()) == [f"l1{S}", f"l2{S}"]
    pid = rows[f"l2{S}"]["pid"]
    assert json.loads(rt("ps", "--format", "json", f"l2{S}").stdout) == [pid]
    ps = rt("ps", f"l2{S}").stdout.splitlines()
    assert "PID" in ps[0].split() and any(str(pid) in line.split() for line in ps[1:])


def test_pause_resume(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    bundle = bundle_factory(["sleep", "100"])
    rt.create(bundle, f"pz{S}")
    not_running = rt("pause", f"pz{S}")
    assert not_running.returncode == 1 and "container not running" in not_running.stderr
    assert rt("start", f"pz{S}").returncode == 0
    assert rt("pause", f"pz{S}").returncode == 0
    assert rt.state(f"pz{S}")["status"] == "paused"
    assert (cgroup_dir(f"pz{S}", "freezer") / "freezer.state").read_text().strip() == "FROZEN"
    pid = rt.state(f"pz{S}")["pid"]
    assert Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("S", "D")
    start = rt("start", f"pz{S}")
    assert start.returncode == 1 and "paused" in start.stderr
    assert rt("resume", f"pz{S}").returncode == 0
    assert rt.state(f"pz{S}")["status"] == "running"
    again = rt("resume", f"pz{S}")
    assert again.returncode == 1 and "container not paused" in again.stderr
    assert rt("pause", f"pz{S}").returncode == 0
    assert rt("delete", "--force", f"pz{S}").returncode == 0  # a paused container can be removed
    assert not cgroup_dir(f"pz{S}", "freezer").exists()


def test_sigkill_of_a_paused_container_kills_and_thaws(
    rt: Runtime, bundle_factory: Callable[..., Path]
) -> None:
    """A frozen task acts on SIGKILL only once thawed: kill KILL thaws the v1 freezer after
    queuing the signal, as runc does, so the container dies and delete needs no --force."""
    bundle = bundle_factory(["sleep", "100"])
    rt.create(bundle, f"pk{S}")
    assert rt("start", f"pk{S}").returncode == 0
    assert rt("pause", f"pk{S}").returncode == 0
    assert rt("kill", f"pk{S}", "KILL").returncode == 0
    assert rt.wait_status(f"pk{S}", "stopped")["status"] == "stopped"
    freezer = cgroup_dir(f"pk{S}", "freezer") / "freezer.state"
    assert freezer.read_text().strip() == "THAWED"
    assert rt("delete", f"pk{S}").returncode == 0
    assert not cgroup_dir(f"pk{S}", "freezer").exists()


def test_update_resources(rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path) -> None:
    bundle = bundle_factory(["sleep", "100"], linux={"resources": {"pids": {"limit": 100}}})
    rt.create(bundle, f"up{S}")
    assert rt("start", f"up{S}").returncode == 0
    read = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"
    assert rt("exec", f"up{S}", "sh", "-c", read).stdout.split()[1] == "100"
    assert rt("update", "--memory", "64m", "--pids-limit", "42", f"up{S}").returncode == 0
    assert rt("exec", f"up{S}", "sh", "-c", read).stdout.split() == [str(64 << 20), "42"]
    res = tmp_path / "res.json"
    res.write_text(json.dumps({"pids": {"limit": 17}}))
    assert rt("update", "--resources", str(res), f"up{S}").returncode == 0
    assert rt("exec", f"up{S}", "sh", "-c", read).stdout.split() == [str(64 << 20), "17"]
    piped = rt("update", "-r", "-", f"up{S}", stdin=json.dumps({"memory": {"limit": 50 << 20}}))
    assert piped.returncode == 0, piped.stderr
    assert rt("exec", f"up{S}", "sh", "-c", read).stdout.split() == [str(50 << 20), "17"]
    bad = rt("update", "-r", "-", f"up{S}", stdin="{not json")
    assert bad.returncode == 1 and "invalid JSON" in bad.stderr


# ------------------------------------------------------------------ features, spec
def test_features_and_spec(rt: Runtime, tmp_path: Path) -> None:
    from ocitool.spec.load import parse_text
    from ocitool.spec.schema import validate_features

    proc = rt("features")
    assert proc.returncode == 0
    assert [
        d
        for d in validate_features(parse_text(proc.stdout, "features.json"))
        if d.severity == "error"
    ] == []
    data = json.loads(proc.stdout)
    assert data["linux"]["cgroup"]["systemd"] is True
    assert "CAP_SYS_ADMIN" in data["linux"]["capabilities"]
    spec = rt("spec", "--bundle", str(tmp_path))
    assert spec.returncode == 0, spec.stderr
    assert json.loads((tmp_path / "config.json").read_text())["process"]["args"] == ["sh"]


# ------------------------------------------------------------------ hooks
def test_hooks_failures_and_order(
    rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    log = tmp_path / "hooks.log"
    log.touch()

    def hook(name: str, code: int = 0) -> dict[str, Any]:
        script = f'read -r s; echo "{name} $s" >> {log}; exit {code}'
        return {"path": "/bin/sh", "args": ["sh", "-c", script]}

    for kind in ("prestart", "createRuntime", "createContainer"):
        bad = bundle_factory(["true"], hooks={kind: [hook(kind, 3)]})
        rc, _, _, err = rt.detached("create", "--bundle", str(bad), f"hb{S}")
        assert rc == 1 and "hook" in err, (kind, err)
        assert not (rt.root / f"hb{S}").exists() and not cgroup_dir(f"hb{S}").exists()
    log.write_text("")

    good = bundle_factory(
        ["true"],
        hooks={
            "createRuntime": [hook("createRuntime")],
            "poststart": [hook("poststart", 5)],
            "poststop": [hook("poststop")],
        },
    )
    rt.create(good, f"hg{S}")
    started = rt("start", f"hg{S}")
    assert started.returncode == 0, started.stderr  # a failing poststart is only logged
    assert "poststart" in started.stderr
    rt.wait_status(f"hg{S}", "stopped")
    assert rt("delete", f"hg{S}").returncode == 0
    lines = log.read_text().splitlines()
    names = [ln.split()[0] for ln in lines]
    assert names == ["createRuntime", "poststart", "poststop"]
    states = [json.loads(ln.split(" ", 1)[1]) for ln in lines]
    assert all(s["id"] == f"hg{S}" for s in states)
    assert states[-1]["status"] == "stopped"


# ------------------------------------------------------------------ concurrency
def test_concurrent_runtimes_do_not_corrupt_state(
    rt: Runtime, bundle_factory: Callable[..., Path]
) -> None:
    bundle = bundle_factory(["sleep", "100"])

    def spawn(*args: str) -> tuple[subprocess.Popen[str], Path]:
        # stderr to a file: a created container keeps the runtime's stdio open
        err = rt.logs / f"c{len(list(rt.logs.iterdir()))}.err"
        with open(err, "w") as fe:
            proc = subprocess.Popen(
                [*runtime_command(), "--root", str(rt.root), *args],
                stdout=subprocess.DEVNULL,
                stderr=fe,
                stdin=subprocess.DEVNULL,
                text=True,
                cwd=REPO,
            )
        return proc, err

    same = [spawn("create", "--bundle", str(bundle), f"same{S}") for _ in range(6)]
    results = [(p.wait(60), err.read_text()) for p, err in same]
    assert sorted(rc for rc, _ in results) == [0, 1, 1, 1, 1, 1], results
    assert all("already exists" in err for rc, err in results if rc)
    assert rt.state(f"same{S}")["status"] == "created"

    many = [spawn("create", "--bundle", str(bundle), f"m{i}{S}") for i in range(5)]
    assert [p.wait(60) for p, _ in many] == [0] * 5
    starts = [spawn("start", f"same{S}") for _ in range(4)]
    assert sorted(p.wait(60) for p, _ in starts) == [0, 1, 1, 1]
    ids = rt("list", "-q").stdout.split()
    assert sorted(ids) == sorted([f"same{S}", *(f"m{i}{S}" for i in range(5))])
    for cid in ids:
        json.loads((rt.root / cid / "state.json").read_text())
    deletes = [spawn("delete", "--force", cid) for cid in ids]
    assert [p.wait(60) for p, _ in deletes] == [0] * len(ids)
    assert rt("list", "-q").stdout == ""


def test_run_foreground_terminal_relays_a_pty(
    rt: Runtime, bundle_factory: Callable[..., Path]
) -> None:
    """runc run with process.terminal and a terminal on stdin: the runtime relays a pty."""

    bundle = bundle_factory(
        ["sh", "-c", "test -t 0 && test -t 1 && echo is-a-tty; tty; exit 4"],
        process={"terminal": True},
    )
    status, text = _on_pty(
        [*runtime_command(), "--root", str(rt.root), "run", "--bundle", str(bundle), f"fgt{S}"]
    )
    assert status == 4
    # the pty comes from the container's devpts (as runc's): ttyname() finds it
    assert "is-a-tty\r\n/dev/pts/0" in text, text


def test_hot_path_imports(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    """A real run imports neither jsonschema, rich, lark nor argparse (python -X importtime)."""
    bundle = bundle_factory(["true"])
    code = "import sys; from ocitool.cli.runc import main; sys.exit(main())"
    for cid in (f"imp1{S}", f"imp2{S}"):  # the second run reads the plan cache
        proc = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-c",
                code,
                "--root",
                str(rt.root),
                "run",
                "--bundle",
                str(bundle),
                cid,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        modules = {
            line.split("|")[-1].strip().split(".")[0]
            for line in proc.stderr.splitlines()
            if line.startswith("import time:")
        }
        assert modules, "no -X importtime output"
        assert modules & {"jsonschema", "rich", "lark", "argparse"} == set()


def test_exec_tty_in_the_foreground_relays_a_pty(
    rt: Runtime, bundle_factory: Callable[..., Path]
) -> None:

    bundle = bundle_factory(["sleep", "100"])
    rt.create(bundle, f"xt{S}")
    assert rt("start", f"xt{S}").returncode == 0
    status, text = _on_pty(
        [
            *runtime_command(),
            "--root",
            str(rt.root),
            "exec",
            "-t",
            f"xt{S}",
            "sh",
            "-c",
            "test -t 0 && test -t 1 && echo exec-tty; tty; exit 3",
        ]
    )
    assert status == 3
    assert "exec-tty\r\n/dev/pts/0" in text, text


def test_create_start_with_a_user_namespace(rt: Runtime, tmp_path: Path) -> None:
    """Detached create of a user-namespaced container: the init (host uid 100000) opens its
    exec fifo, create returns with the container created, start runs it."""
    from tests.helpers_exec.bundle import userns_bundle

    args = ["sh", "-c", "cat /proc/self/uid_map; id -u; echo userns-done"]
    with userns_bundle(args, 100000, "ocitool-runc-userns-") as bundle:
        out, _ = rt.create(bundle, f"uns{S}")
        assert rt.state(f"uns{S}")["status"] == "created"
        assert rt("start", f"uns{S}").returncode == 0
        text = wait_file(out, "userns-done")
        assert rt.wait_status(f"uns{S}", "stopped")["status"] == "stopped"
        assert rt("delete", f"uns{S}").returncode == 0
    assert text.split("\n")[:2] == ["         0     100000      65536", "0"], text
