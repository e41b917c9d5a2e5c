"""Detached create (the exec fifo hand-over): user namespaces and a runtime that exits at once.

``lifecycle.create`` runs in a child process that exits as soon as it
returns, as ``ocitool-runc create`` does under an engine; the container must
stay ``created`` and start later from another process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers_exec.bundle import make_bundle

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
S = f"-{os.getpid()}"

USERNS = {
    "linux": {
        "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "user")],
        "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
        "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    }
}

# Creates the container with lifecycle.create, prints the init's pid, exits at once.
# SLOW_CLEAR delays the init's prctl(PR_SET_PDEATHSIG, 0): the runtime must not
# exit before the init has cleared its parent death signal.
CREATE = r"""
import os, sys, time
from ocitool.cli.exec import _lower
from ocitool.exec import lifecycle
from ocitool.exec.context import ExecContext
from ocitool.exec.linux import LinuxSyscalls
from ocitool.exec.state import StateStore
from ocitool.exec.syscalls import PR_SET_PDEATHSIG

bundle, cid, root, slow = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
if sys.argv[5:] == ["private"]:  # the fifo create made before: private to host root
    def private_fifo(path, ops):
        os.mkfifo(path, 0o600)
        os.chmod(path, 0o600)
    lifecycle.make_exec_fifo = private_fifo
if sys.argv[5:] == ["die"]:  # the runtime dies after saving the state, before the hand-over
    from ocitool.exec.process import Engine
    Engine.detach = lambda self: os._exit(9)

class SlowClear(LinuxSyscalls):
    def prctl(self, option, arg2=0, arg3=0, arg4=0, arg5=0):
        if option == PR_SET_PDEATHSIG and arg2 == 0 and slow:
            time.sleep(slow)
        return super().prctl(option, arg2, arg3, arg4, arg5)

from ocitool.exec import sealed
sealed.ensure(LinuxSyscalls())  # as ocitool-runc create does: run from a read-only copy
_, plan, meta = _lower(bundle, cid, False)
ctx = ExecContext(sys=SlowClear(), container_id=cid, bundle=bundle, rootfs=meta["rootfs"])
try:
    st = lifecycle.create(plan.ops, ctx, StateStore(root))
except Exception as exc:
    print(getattr(exc, "message", repr(exc)), file=sys.stderr, flush=True)
    os._exit(1)
print(st.pid, flush=True)
os._exit(0)
"""


def _create(
    bundle: Path, cid: str, root: Path, out: Path, slow: float = 0.0, *extra: str
) -> tuple[int, str]:
    err = out.with_suffix(".err")
    # files, not pipes: the created init keeps its stdio open after create exits
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.run(
            [sys.executable, "-c", CREATE, str(bundle), cid, str(root), str(slow), *extra],
            stdout=fo,
            stderr=fe,
            stdin=subprocess.DEVNULL,
            timeout=60,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    return proc.returncode, err.read_text()


def _ops(bundle: Path, cid: str) -> list[Any]:
    from ocitool.cli.exec import _lower

    _, plan, _ = _lower(str(bundle), cid, False)
    return list(plan.ops)


def _ctx(bundle: Path, cid: str) -> Any:
    from ocitool.exec.context import ExecContext
    from ocitool.exec.linux import LinuxSyscalls

    return ExecContext(
        sys=LinuxSyscalls(), container_id=cid, bundle=str(bundle), rootfs=str(bundle / "rootfs")
    )


def _wait_text(path: Path, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while text not in path.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.read_text()


def _lifecycle_run(bundle: Path, cid: str, root: Path, out: Path, slow: float = 0.0) -> str:
    """create in a process that exits at once, then state/start/delete from this one."""
    from ocitool.exec import lifecycle
    from ocitool.exec.state import StateStore

    store = StateStore(str(root))
    try:
        rc, err = _create(bundle, cid, root, out, slow)
        assert rc == 0, err
        pid = int(out.read_text().split()[0])
        time.sleep(slow + 0.3)  # the init would be dead by now if it depended on create
        st = lifecycle.state(store, cid)
        assert (st.status, st.pid) == ("created", pid), "the init died with its create"
        lifecycle.start(_ops(bundle, cid), _ctx(bundle, cid), store)
        return _wait_text(out, "done")
    finally:
        if (root / cid / "state.json").exists():  # whatever happened, nothing is left
            lifecycle.delete(_ops(bundle, cid), _ctx(bundle, cid), store, force=True)


def test_create_survives_a_runtime_that_exits_at_once(world_top: Path) -> None:
    """The init clears PR_SET_PDEATHSIG before create returns (not after it reported)."""
    bundle = make_bundle(world_top / "b", ["sh", "-c", "echo started-ok; echo done"])
    text = _lifecycle_run(bundle, f"quick{S}", world_top / "root", world_top / "out", slow=0.5)
    assert "started-ok" in text


def test_detached_create_with_a_user_namespace(world_top: Path) -> None:
    """The init, root of a user namespace (host uid 100000), can open its exec fifo."""
    bundle = make_bundle(
        world_top / "b", ["sh", "-c", "cat /proc/self/uid_map; id -u; echo done"], **USERNS
    )
    subprocess.run(["chown", "-R", "-h", "100000:100000", str(bundle / "rootfs")], check=True)
    text = _lifecycle_run(bundle, f"uns{S}", world_top / "root", world_top / "out")
    lines = text.split("\n")
    assert lines[1].split() == ["0", "100000", "65536"] and lines[2] == "0", text


def test_an_exec_fifo_the_init_cannot_open_fails_create(world_top: Path) -> None:
    """A fifo the init may not write is an error of create (named op, nothing left)."""
    bundle = make_bundle(world_top / "b", ["true"], **USERNS)
    subprocess.run(["chown", "-R", "-h", "100000:100000", str(bundle / "rootfs")], check=True)
    cid = f"nofifo{S}"
    rc, err = _create(bundle, cid, world_top / "root", world_top / "out", 0.0, "private")
    assert rc == 1 and "wait_start" in err and "EACCES" in err, err
    assert not (world_top / "root" / cid).exists()
    assert not Path(f"/sys/fs/cgroup/pids/ocitool/{cid}").exists()


def test_host_root_ids_from_the_plans_id_maps(world_top: Path) -> None:
    from ocitool.exec.lifecycle import host_root_ids

    bundle = make_bundle(world_top / "b", ["true"], **USERNS)
    assert host_root_ids(_ops(bundle, "ids")) == (100000, 100000)
    plain = make_bundle(world_top / "p", ["true"])
    assert host_root_ids(_ops(plain, "ids")) == (-1, -1)


@pytest.mark.parametrize("join_pid", [False, True])
def test_a_runtime_dying_before_the_hand_over_takes_the_init_with_it(
    world_top: Path, join_pid: bool
) -> None:
    """Until the init has confirmed it no longer needs the runtime, the runtime's death
    kills it (PR_SET_PDEATHSIG): no process is left blocked on a fifo nobody opens.
    ``join_pid``: the init forks into a joined pid namespace after its root switch
    (lower/joinedpid.py); with no host /proc left it cannot re-arm the signal, and
    must still not outlive the runtime (end-of-file on the runtime's pipes)."""
    import json

    from ocitool.exec import lifecycle
    from ocitool.exec.state import StateStore

    bundle = make_bundle(world_top / "b", ["true"])
    holder = None
    if join_pid:  # a pid namespace to join, held by a process of its own
        holder = subprocess.Popen(["unshare", "--pid", "--fork", "sleep", "60"])
        time.sleep(0.3)
        inner = Path(f"/proc/{holder.pid}/task/{holder.pid}/children").read_text().split()
        config = json.loads((bundle / "config.json").read_text())
        config["linux"]["namespaces"] = [
            {"type": "pid", "path": f"/proc/{inner[0]}/ns/pid"} if n["type"] == "pid" else n
            for n in config["linux"]["namespaces"]
        ]
        (bundle / "config.json").write_text(json.dumps(config))
    cid, root = f"die{S}{int(join_pid)}", world_top / "root"
    store = StateStore(str(root))
    try:
        rc, err = _create(bundle, cid, root, world_top / "out", 0.0, "die")
        assert rc == 9, err
        pid = json.loads((root / cid / "state.json").read_text())["pid"]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.02)
        assert not _alive(pid), "the init outlived the runtime that created it"
        assert lifecycle.state(store, cid).status == "stopped"
    finally:
        if (root / cid / "state.json").exists():
            lifecycle.delete(_ops(bundle, cid), _ctx(bundle, cid), store, force=True)
        if holder is not None:
            holder.kill()
            holder.wait()


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a late reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"
