"""Rootless podman as the unprivileged test user, runc and ocitool-runc side by side (#13).

Each case runs with both runtimes: runc is the reference (it proves the harness: the
user, its subordinate ranges, its podman set-up), ocitool-runc must do the same. The
user's podman gets its own storage (vfs, under a directory of this session) and
configuration (``CONTAINERS_CONF``), nothing under the user's home; the image is
busybox-static, imported from a local tar as tests/integration/test_podman.py does (no
registry). podman calls the runtime with no ``--root``: runc keeps its state in
``$XDG_RUNTIME_DIR/runc``, ocitool-runc in ``$XDG_RUNTIME_DIR/ocitool``. cgroup v1
here: rootless podman uses no cgroups (tests/hosts/v2 has the delegated v2 case).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.rootless_user import RootlessUser
from tests.helpers_exec.bundle import make_rootfs

pytestmark = pytest.mark.integration

IMAGE = "localhost/bb"
RUNTIMES = ("runc", "ocitool-runc")
STATE_DIR = {"runc": "runc", "ocitool-runc": "ocitool"}


class UserPodman:
    """podman as the user, on this session's storage, with one runtime."""

    def __init__(self, user: RootlessUser, base: Path, runtime: str) -> None:
        self.user = user
        self.base = base
        self.runtime = runtime
        self.env = {"CONTAINERS_CONF": str(base / "containers.conf")}
        binary = runtime if runtime == "runc" else str(user.bindir / runtime)
        self.cmd = [
            "podman",
            "--root", str(base / "storage"),
            "--runroot", str(base / "runroot"),
            "--storage-driver", "vfs",
            "--runtime", binary,
        ]  # fmt: skip

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.user.run([*self.cmd, *args], env=self.env, timeout=timeout)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self("run", "--network", "none", *args)

    @property
    def state(self) -> Path:
        return self.user.runtime_dir / STATE_DIR[self.runtime]


@pytest.fixture(scope="module")
def podman_base(rootless_user: RootlessUser) -> Iterator[Path]:
    """The user's podman storage and configuration with the busybox image in it."""
    with rootless_user.workdir("ocitool-rootless-podman-") as base:
        (base / "containers.conf").write_text(
            # no systemd here; podman's events go to a file, not the journal
            '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
        )
        rootfs = make_rootfs(base / "rootfs")
        subprocess.run(["chown", "-R", f"{rootless_user.uid}:{rootless_user.gid}", str(base)])
        pm = UserPodman(rootless_user, base, "runc")
        imported = rootless_user.sh(
            f"tar -C {rootfs} -c . | {' '.join(pm.cmd)} import - {IMAGE}", env=pm.env
        )
        assert imported.returncode == 0, imported.stderr
        try:
            yield base
        finally:
            pm("rm", "--all", "--force", "--time", "0")
            pm("rmi", "--all", "--force")


@pytest.fixture(params=RUNTIMES)
def podman(
    request: pytest.FixtureRequest, rootless_user: RootlessUser, podman_base: Path
) -> UserPodman:
    return UserPodman(rootless_user, podman_base, request.param)


def test_run_rm_and_exit_codes(podman: UserPodman) -> None:
    ok = podman.run("--rm", IMAGE, "true")
    assert ok.returncode == 0, ok.stderr
    three = podman.run("--rm", IMAGE, "sh", "-c", "echo hello; exit 3")
    assert (three.returncode, three.stdout) == (3, "hello\n"), three.stderr
    missing = podman.run("--rm", IMAGE, "/no/such/binary")
    assert missing.returncode in (126, 127), missing.stderr
    assert not podman("ps", "--all", "--quiet").stdout.strip()


def test_default_user_namespace_maps_the_subordinate_ranges(podman: UserPodman) -> None:
    """podman's own namespace maps the user to 0 and its /etc/subuid range from 1; the
    container sees that map and runs as root in it."""
    proc = podman.run("--rm", IMAGE, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u")
    assert proc.returncode == 0, proc.stderr
    *maps, uid = proc.stdout.splitlines()
    user = podman.user
    start, count = user.subordinate("uid")
    gstart, gcount = user.subordinate("gid")
    assert [[int(f) for f in ln.split()] for ln in maps] == [
        [0, user.uid, 1], [1, start, count], [0, user.gid, 1], [1, gstart, gcount],
    ]  # fmt: skip
    assert uid == "0"


def test_exec_stop_and_nothing_left(podman: UserPodman) -> None:
    name = f"rl-{podman.runtime}-{os.getpid()}"
    started = podman.run("-d", "--name", name, IMAGE, "sleep", "1000")
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    try:
        assert (podman.state / cid).is_dir(), sorted(os.listdir(podman.state))
        proc = podman("exec", name, "sh", "-c", "echo in-exec; exit 5")
        assert (proc.returncode, proc.stdout) == (5, "in-exec\n"), proc.stderr
        proc = podman("exec", "--user", "1234:1234", name, "id", "-u")
        assert (proc.returncode, proc.stdout) == (0, "1234\n"), proc.stderr
        # PID 1 `sleep` ignores SIGTERM: stop escalates to SIGKILL after the timeout
        stop = podman("stop", "--time", "1", name)
        assert stop.returncode == 0, stop.stderr
        code = podman("inspect", "--format", "{{.State.ExitCode}}", name)
        assert code.stdout.strip() == "137", code.stderr
    finally:
        podman("rm", "--force", "--time", "0", name)
    assert podman("inspect", name).returncode != 0
    assert not (podman.state / cid).exists()


def test_userns_keep_id(podman: UserPodman) -> None:
    """--userns=keep-id: the user is itself inside, and what it writes to a bind-mounted
    host directory is the user's on the host."""
    user = podman.user
    with user.workdir("ocitool-rootless-vol-") as vol:
        proc = podman.run(
            "--rm", "--userns=keep-id", "-v", f"{vol}:/vol", IMAGE,
            "sh", "-c", "id -u; id -g; echo x > /vol/made-inside",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == [str(user.uid), str(user.gid)]
        st = (vol / "made-inside").stat()
        assert (st.st_uid, st.st_gid) == (user.uid, user.gid)
