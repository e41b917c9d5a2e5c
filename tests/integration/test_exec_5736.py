"""CVE-2019-5736 class: a container with CAP_SYS_PTRACE must not reach a writable host file
through a runtime process (docs/security.md, ocitool/exec/sealed.py).

The runtime under attack runs from a throwaway interpreter (``python3 -m venv
--copies``) with a throwaway copy of cffi's backend in its site-packages, so
the attacker really overwrites what it can reach and the host compares hashes.
The attacker (tests/helpers_exec/attack_5736.py) runs inside a container that
holds CAP_SYS_PTRACE, or CAP_SYS_PTRACE and CAP_SYS_ADMIN (which opens
``/proc/PID/map_files``). It takes handles on ``exe``, every ``map_files``
entry, every fd, ``cwd`` and ``root`` of each runtime process it sees, and
tries to write through them once the process has exec'd:

- ``create``/``start``: the init of a created container, seen from a process
  ``exec``-ed into it before ``start``; the attack runs after ``start``;
- ``exec``: every ``ocitool-runc exec`` joiner, seen from a process already in
  the container.

Nothing may be writable, and the throwaway files must keep their hashes.
Each test also checks that the attacker did reach a runtime process (and its
mapped files when it holds CAP_SYS_ADMIN), so a pass is not a missed race.
"""

from __future__ import annotations

import glob
import hashlib
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

from tests.helpers_exec.bundle import BASE_CONFIG, DEFAULT_CAPS, make_bundle

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
ATTACKER = REPO / "tests" / "helpers_exec" / "attack_5736.py"
S = f"-{os.getpid()}"


class Victim:
    """ocitool-runc (this checkout) run by a throwaway interpreter copy, under its own --root."""

    def __init__(self, tmp: Path) -> None:
        self.venv = tmp / "venv"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "venv",
                "--copies",
                "--system-site-packages",
                "--without-pip",
                str(self.venv),
            ],
            check=True,
        )
        self.python = self.venv / "bin" / "python3"
        import _cffi_backend  # the extension module every runtime maps: a throwaway copy

        site = glob.glob(str(self.venv / "lib" / "python3*" / "site-packages"))[0]
        self.backend = Path(site) / Path(str(_cffi_backend.__file__)).name
        shutil.copy2(str(_cffi_backend.__file__), self.backend)
        self.root = tmp / "state"
        self.log = tmp / "runtime.log"
        self.env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.env.pop("OCITOOL_DEBUG", None)
        self.before = self.hashes()

    def files(self) -> list[Path]:
        return [self.python, self.backend]

    def hashes(self) -> dict[str, str]:
        return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in self.files()}

    def targets(self, other_roots: tuple[Path, ...] = ()) -> str:
        ids = [[os.stat(p).st_dev, os.stat(p).st_ino] for p in self.files()]
        others = [[os.stat(p).st_dev, os.stat(p).st_ino] for p in other_roots]
        return json.dumps({"exe": ids[0], "throwaway": ids, "other_roots": others})

    def __call__(self, *args: str, timeout: float = 60) -> int:
        """Run one command; stdio is /dev/null (a container keeps it), errors go to --log."""
        return subprocess.run(
            [str(self.python), "-m", "ocitool.cli.runc", "--root", str(self.root)]
            + ["--log", str(self.log), *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            cwd=self.root.parent,
        ).returncode

    def ok(self, *args: str) -> None:
        rc = self(*args)
        assert rc == 0, f"{args[0]}: {self.log.read_text() if self.log.exists() else rc}"


@pytest.fixture
def victim(tmp_path: Path, root_required: None) -> Iterator[Victim]:
    v = Victim(tmp_path)
    yield v
    # with this interpreter: the victim's may have been overwritten (on a vulnerable runtime)
    runc = [sys.executable, "-m", "ocitool.cli.runc", "--root", str(v.root)]
    listed = subprocess.run([*runc, "list", "-q"], env=v.env, capture_output=True, text=True)
    for cid in listed.stdout.split():
        subprocess.run([*runc, "delete", "--force", cid], env=v.env, capture_output=True)


def attacker_bundle(path: Path, caps: list[str], args: list[str]) -> Path:
    """A busybox bundle whose process holds ``caps``, with the host's /usr (read-only) so
    that Debian's python3 can run the attacker, and a writable /report."""
    all_caps = DEFAULT_CAPS + caps
    make_bundle(
        path,
        args,
        root={"path": "rootfs", "readonly": False},
        process={"capabilities": {k: all_caps for k in ("bounding", "effective", "permitted")}},
        mounts=[
            *BASE_CONFIG["mounts"],
            {"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]},
        ],
    )
    rootfs = path / "rootfs"
    for name in ("lib", "lib64"):
        if not os.path.lexists(rootfs / name):
            os.symlink(f"usr/{name}", rootfs / name)
    shutil.copy2(ATTACKER, rootfs / "attack.py")
    (rootfs / "report").mkdir(exist_ok=True)
    return path


def attacker_args(
    victim: Victim, seconds: int = 120, other_roots: tuple[Path, ...] = ()
) -> list[str]:
    return ["/usr/bin/python3", "-S", "-I", "/attack.py", "/report/r.json", str(seconds)] + [
        victim.targets(other_roots)
    ]


def read_report(bundle: Path) -> dict[str, Any]:
    path = bundle / "rootfs" / "report" / "r.json"
    err = Path(str(path) + ".error")
    assert not err.exists(), err.read_text()
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def wait_report(bundle: Path, key: str, at_least: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        rep = read_report(bundle)
        value = rep.get(key, 0)
        count = len(value) if isinstance(value, list) else int(value)
        if count >= at_least or time.monotonic() > deadline:
            return rep
        time.sleep(0.05)


def check(
    victim: Victim, rep: dict[str, Any], caps: list[str], known: tuple[str, ...] = ()
) -> None:
    """No breach (except through the handles in ``known``), and the attack did run."""
    assert rep.get("seen"), f"the attacker never saw a runtime process: {rep}"
    assert rep["fds_taken"] > 0, f"no fd of a runtime process reached: {rep}"
    if "CAP_SYS_ADMIN" in caps:
        assert rep["map_files_taken"] > 0, f"no mapped file reached through map_files: {rep}"
    breaches = [b for b in rep["breaches"] if b["what"] not in known]
    assert breaches == [], f"a container reached writable host files: {breaches}"
    assert victim.hashes() == victim.before, "a runtime file was changed from the container"


CAPS = [
    pytest.param(["CAP_SYS_PTRACE"], id="ptrace"),
    pytest.param(["CAP_SYS_PTRACE", "CAP_SYS_ADMIN"], id="ptrace+sys_admin"),
]


@pytest.mark.parametrize("caps", CAPS)
def test_exec_joiners_expose_no_writable_host_file(
    victim: Victim, tmp_path: Path, caps: list[str]
) -> None:
    bundle = attacker_bundle(tmp_path / "attacker", caps, attacker_args(victim))
    cid = f"x5736e{S}"
    victim.ok("create", "--bundle", str(bundle), cid)
    victim.ok("start", cid)
    wait_report(bundle, "attacked", 0, 10)
    attacked = 0
    for _ in range(30):  # each exec is one chance for the attacker to catch the joiner
        victim.ok("exec", cid, "/bin/true")
        rep = wait_report(bundle, "attacked", attacked + 1, 8)
        attacked = rep.get("attacked", 0)
        if attacked >= 3 or rep.get("breaches"):
            break
    check(victim, read_report(bundle), caps)


@pytest.mark.parametrize("caps", CAPS)
def test_created_init_exposes_no_writable_host_file(
    victim: Victim, tmp_path: Path, caps: list[str]
) -> None:
    bundle = attacker_bundle(tmp_path / "attacker", caps, ["sleep", "60"])
    cid = f"x5736c{S}"
    victim.ok("create", "--bundle", str(bundle), cid)
    victim.ok("exec", "--detach", cid, *attacker_args(victim))
    rep = wait_report(bundle, "seen", 1, 20)  # the init, still the runtime, waiting for start
    assert rep.get("seen"), f"the attacker did not see the created init: {rep}"
    victim.ok("start", cid)
    check(victim, wait_report(bundle, "attacked", 1, 20), caps)


@pytest.mark.parametrize("caps", CAPS)
def test_init_joining_a_pid_namespace_exposes_no_writable_runtime_file(
    victim: Victim, tmp_path: Path, caps: list[str]
) -> None:
    """The init of a container that joins another's pid namespace is visible there from
    its fork on, through create and start. Its interpreter and mapped files must be
    read-only, and no host directory may be in reach: it forks into the namespace only
    after its root switch (ocitool/lower/joinedpid.py), so its root and cwd are the
    joining container's own root (which the attacker reaches through that container's
    processes anyway: allowed), never the host's. runc has this window; we close it."""
    joiner = tmp_path / "joiner"
    make_bundle(joiner, ["sleep", "30"])
    args = attacker_args(victim, other_roots=(joiner / "rootfs",))
    bundle = attacker_bundle(tmp_path / "attacker", caps, args)
    cid = f"x5736p{S}"
    victim.ok("create", "--bundle", str(bundle), cid)
    victim.ok("start", cid)
    wait_report(bundle, "attacked", 0, 10)
    runc = [sys.executable, "-m", "ocitool.cli.runc", "--root", str(victim.root)]
    state = subprocess.run([*runc, "state", cid], env=victim.env, capture_output=True, text=True)
    pid = json.loads(state.stdout)["pid"]
    config = json.loads((joiner / "config.json").read_text())
    config["linux"]["namespaces"] = [
        {"type": "pid", "path": f"/proc/{pid}/ns/pid"} if n["type"] == "pid" else n
        for n in config["linux"]["namespaces"]
    ]
    (joiner / "config.json").write_text(json.dumps(config))
    victim.ok("create", "--bundle", str(joiner), f"{cid}j")
    rep = wait_report(bundle, "seen", 1, 20)
    assert rep.get("seen"), f"the attacker did not see the joining init: {rep}"
    victim.ok("start", f"{cid}j")
    rep = wait_report(bundle, "attacked", 1, 20)
    check(victim, rep, caps)
    reached = [b for b in rep["breaches"] if b["what"] in ("root", "cwd")]
    assert reached == [], f"the joining init exposed a host directory: {reached}"


ROOTLESS_VICTIM = REPO / "tests" / "helpers_exec" / "victim_rootless.py"
ROOTLESS_ATTACKER = REPO / "tests" / "helpers_exec" / "attack_rootless.py"
NOBODY = 65534


def _as_nobody(*args: str) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *args]


@pytest.mark.parametrize("mode", ["sealed", "plain"])
def test_rootless_runtime_interpreter_cannot_be_overwritten(root_required: None, mode: str) -> None:
    """Rootless (docs/security.md): the runtime is an unprivileged user (nobody) whose
    interpreter is its own throwaway copy (``venv --copies`` of Debian's python3). The
    attacker holds every capability in the user namespace the runtime process entered
    (a rootless container's root) and the process stays dumpable (the worst case). It
    reaches ``exe`` but never ``map_files`` (capabilities in the initial user namespace
    only), and once the process is gone it overwrites the interpreter through ``exe``:
    ``plain`` shows that this works on an unsealed runtime; ``sealed`` (what
    ``ocitool-runc`` does) must leave the copy untouched."""
    from tests.helpers_exec.bundle import open_dir

    with open_dir("ocitool-5736-rootless-") as top:
        venv = top / "venv"
        subprocess.run(
            ["/usr/bin/python3", "-m", "venv", "--copies", "--system-site-packages"]
            + ["--without-pip", str(venv)],
            check=True,
        )
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(venv)], check=True)
        top.chmod(0o777)
        python = venv / "bin" / "python3"
        before = hashlib.sha256(python.read_bytes()).hexdigest()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO)}
        victim = subprocess.Popen(
            _as_nobody(str(python), str(ROOTLESS_VICTIM), mode, str(top)), env=env
        )
        try:
            deadline = time.monotonic() + 30
            while not (top / "pid").exists():
                assert victim.poll() is None, f"the runtime failed: {victim.returncode}"
                assert time.monotonic() < deadline, "the runtime never started"
                time.sleep(0.02)
            pid = (top / "pid").read_text()
            subprocess.run(
                _as_nobody("nsenter", "--user", "--preserve-credentials", "--target", pid)
                + ["/usr/bin/python3", "-S", "-I", str(ROOTLESS_ATTACKER), str(top)],
                check=True,
                timeout=60,
            )
        finally:
            victim.kill() if victim.poll() is None else None
            victim.wait()
        report = json.loads((top / "report.json").read_text())
        after = hashlib.sha256(python.read_bytes()).hexdigest()
    assert report["map_files"] > 0 and report["map_files_opened"] == 0, report
    assert report["map_files_refused"] == ["EPERM"], report
    if mode == "plain":  # the attack is real: an unsealed runtime loses its interpreter
        assert report["write"] == "written" and after != before, report
    else:
        assert report["exe_target"].startswith("/memfd:ocitool-runtime"), report
        assert report["write"] == "EPERM" and after == before, report
