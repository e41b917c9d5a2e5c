"""Attacks from inside a container image that must fail (one test per CVE class)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers_exec.bundle import BASE_CONFIG
from tests.integration.conftest import ocitool_exec

pytestmark = pytest.mark.integration


def test_mount_target_symlink_cannot_escape_rootfs(
    bundle_factory: Callable[..., Path], state_root: Path, tmp_path: Path
) -> None:
    """CVE-2021-30465 class: an image symlink must not redirect a mount onto the host."""
    host_dir = tmp_path / "host-target"
    host_dir.mkdir()
    mounts = [
        *BASE_CONFIG["mounts"],
        {"destination": "/escape/sub", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/escape2/sub", "type": "tmpfs", "source": "tmpfs"},
    ]
    bundle = bundle_factory(
        ["sh", "-c", "grep -c ' /tmp/' /proc/self/mountinfo; ls -d /escape/sub /escape2/sub"],
        mounts=mounts,
    )
    rootfs = bundle / "rootfs"
    os.symlink(str(host_dir), rootfs / "escape")  # absolute: would be the host's path
    os.symlink("../../../../../../../.." + str(host_dir), rootfs / "escape2")
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 0, proc.stderr
    # nothing was created in (or mounted on) the host directory ...
    assert list(host_dir.iterdir()) == []
    # ... the mounts landed inside the rootfs, where the symlinks point *in the container*
    inside = rootfs / str(host_dir).lstrip("/") / "sub"
    assert inside.is_dir()
    assert "/escape/sub" in proc.stdout and "/escape2/sub" in proc.stdout


def test_leaked_host_fd_is_not_visible(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    """CVE-2024-21626 class: an fd the runtime inherited must not reach the container."""
    bundle = bundle_factory(["sh", "-c", "ls /proc/self/fd | tr '\\n' ' '"])
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    try:
        proc = ocitool_exec(bundle, state_root, pass_fds=(fd,))
    finally:
        os.close(fd)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "1", "2", "3"]


def test_cwd_through_leaked_fd_is_refused(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    """CVE-2024-21626 class: process.cwd = /proc/self/fd/N (a host directory) fails."""
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    try:
        bundle = bundle_factory(
            ["sh", "-c", "ls ../../../ ; echo ESCAPED"], process={"cwd": f"/proc/self/fd/{fd}"}
        )
        proc = ocitool_exec(bundle, state_root, pass_fds=(fd,))
    finally:
        os.close(fd)
    assert proc.returncode != 0
    assert "ESCAPED" not in proc.stdout
    assert "/process/cwd" in proc.stderr and "outside the container root" in proc.stderr


def test_dev_null_symlink_is_not_used_for_masking(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    """CVE-2025-31133 class: the image's /dev/null is a symlink to a procfs file.

    The device op replaces it with the real node, and masking checks that what
    it binds is char 1:3 (unit-tested in test_exec_resolve with the node left as
    a symlink). Either way no masked path may show core_pattern.
    """
    mounts = [
        m
        for m in BASE_CONFIG["mounts"]
        if m["destination"] != "/dev" and not m["destination"].startswith("/dev/")
    ]
    bundle = bundle_factory(
        [
            "sh",
            "-c",
            "echo RAN; stat -c '%F %t:%T' /dev/null; cat /proc/keys /proc/timer_list | wc -c",
        ],
        mounts=mounts,
    )
    dev = bundle / "rootfs" / "dev"
    dev.mkdir(exist_ok=True)
    os.symlink("/proc/sys/kernel/core_pattern", dev / "null")
    before = Path("/proc/sys/kernel/core_pattern").read_text()
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["RAN", "character special file 1:3", "0"]
    assert Path("/proc/sys/kernel/core_pattern").read_text() == before


@pytest.mark.parametrize("how", ["direct", "symlink", "shebang"])
def test_host_interpreter_cannot_be_run(
    bundle_factory: Callable[..., Path], state_root: Path, how: str
) -> None:
    """CVE-2019-5736 class: /proc/self/exe of the init is the host's Python."""
    code = "print('PWNED')"
    args = {
        "direct": ["/proc/self/exe", "-c", code],
        "symlink": ["/bin/evil", "-c", code],
        "shebang": ["/bin/evil.sh"],
    }[how]
    bundle = bundle_factory(args)
    os.symlink("/proc/self/exe", bundle / "rootfs" / "bin" / "evil")
    script = bundle / "rootfs" / "bin" / "evil.sh"
    script.write_text(f"#!/proc/self/exe\n{code}\n")
    script.chmod(0o755)
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode != 0
    assert "PWNED" not in proc.stdout
    assert "magic link" in proc.stderr or "own interpreter" in proc.stderr
    # and the interpreter on the host is unchanged and still runs
    assert subprocess.run([sys.executable, "-c", "pass"]).returncode == 0


def test_init_is_not_dumpable_while_it_waits(root_required: None, tmp_path: Path) -> None:
    """CVE-2019-5736 class: while the init (the host's Python) waits for start, a
    process like the container's (root without CAP_SYS_PTRACE) cannot open
    /proc/<init>/exe, though it can open that of a process with its own credentials.
    (Two barriers apply: the init is non-dumpable and holds capabilities the
    prober lacks.)"""
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(repo)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["control=OK", "init=EACCES"], proc.stdout + proc.stderr


PROBE = r"""
import errno, os, subprocess, sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from tests.helpers_exec.bundle import make_bundle
from tests.helpers_exec.plans import busybox_plan
from ocitool.exec import lifecycle
from ocitool.exec.context import ExecContext
from ocitool.exec.linux import LinuxSyscalls
from ocitool.exec.state import StateStore
from ocitool.exec import sealed

sealed.ensure(LinuxSyscalls())  # as ocitool-runc create does: run from a read-only copy
top = Path(sys.argv[1])
bundle = make_bundle(top / "b", ["true"])
ops = busybox_plan(str(bundle / "rootfs"), "dump", ["true"], cgroups=False)
ctx = ExecContext(sys=LinuxSyscalls(), container_id="dump", bundle=str(bundle),
                  rootfs=str(bundle / "rootfs"))
store = StateStore(str(top / "state"))
st = lifecycle.create(ops, ctx, store)
try:
    pid = os.fork()
    if pid == 0:
        # a process like the container's: root, but without CAP_SYS_PTRACE anywhere
        sys_ = LinuxSyscalls()
        sys_.prctl(24, 19)  # PR_CAPBSET_DROP, CAP_SYS_PTRACE
        eff, perm, _ = sys_.capget()
        keep = ~(1 << 19)
        sys_.capset(eff & keep, perm & keep, 0)
        control = subprocess.Popen(["sleep", "30"])  # same creds, dumpable
        for name, target in (("control", control.pid), ("init", st.pid)):
            try:
                os.close(os.open(f"/proc/{target}/exe", os.O_RDONLY))
                print(f"{name}=OK", flush=True)
            except OSError as exc:
                print(f"{name}={errno.errorcode[exc.errno]}", flush=True)
        control.kill()
        control.wait()
        os._exit(0)
    os.waitpid(pid, 0)
finally:
    lifecycle.delete(ops, ExecContext(sys=LinuxSyscalls(), container_id="dump"), store,
                     force=True)
"""
