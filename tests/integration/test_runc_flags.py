"""runc's flag spellings and semantics on a real container: ``update --cpu-share`` and
friends, ``exec --cgroup`` into an existing sub-cgroup, ``exec --apparmor`` applied."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.test_runc_lifecycle import (
    LOOP,
    Runtime,
    S,
    cgroup_dir,
    wait_file,
)

pytestmark = pytest.mark.integration


def test_update_exec_cgroup_and_lsm_flags(rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    cid = f"flags{S}"
    out, _ = rt.create(bundle_factory(LOOP), cid)
    assert rt("start", cid).returncode == 0
    wait_file(out, "started")
    v1 = cgroup_dir(cid, "cpu").is_dir()
    if v1:
        update = rt("update", "--cpu-share", "512", "--cpu-period", "100000", cid)
        assert update.returncode == 0, update.stderr
        assert (cgroup_dir(cid, "cpu") / "cpu.shares").read_text().strip() == "512"
    sub = cgroup_dir(cid, "pids") / "sub"
    sub.mkdir()
    try:
        proc = rt("exec", "--cgroup", "pids:sub", cid, "cat", "/proc/self/cgroup")
        assert proc.returncode == 0, proc.stderr
        pids_line = next(x for x in proc.stdout.splitlines() if ":pids:" in x)
        assert pids_line.endswith("/sub"), proc.stdout
        memory_line = next(x for x in proc.stdout.splitlines() if ":memory:" in x)
        assert not memory_line.endswith("/sub")  # only the named controller moved
        missing = rt("exec", "--cgroup", "nope", cid, "true")
        assert missing.returncode != 0 and "does not exist" in missing.stderr
        if not Path("/sys/module/apparmor/parameters/enabled").exists():
            refused = rt("exec", "--apparmor", "some-profile", cid, "true")
            assert refused.returncode != 0 and "AppArmor is not enabled" in refused.stderr
    finally:
        assert rt("kill", cid, "KILL").returncode == 0
        rt.wait_status(cid, "stopped")
        sub.rmdir()
    assert rt("delete", "--force", cid).returncode == 0


def _session_rings() -> list[str]:
    """The _ses.* keyrings the host's root can see in /proc/keys (description field)."""
    rows = Path("/proc/keys").read_text().splitlines()
    return [row.split()[8].rstrip(":") for row in rows if "_ses." in row and " keyring " in row]


@pytest.mark.parametrize("flag", [None, "--no-new-keyring"])
def test_session_keyring_per_container(
    rt: Runtime, bundle_factory: Callable[..., Path], flag: str | None
) -> None:
    """By default the container gets its own session keyring _ses.<id> (runc's name), which
    an exec joins too; --no-new-keyring makes none (the process keeps the runtime's)."""
    cid = f"keys{'-no' if flag else ''}{S}"
    out, _ = rt.create(bundle_factory(LOOP), cid, *([flag] if flag else []))
    assert rt("start", cid).returncode == 0
    wait_file(out, "started")
    try:
        ring = f"_ses.{cid}"
        assert (ring in _session_rings()) is (flag is None), _session_rings()
        ex = rt("exec", cid, "cat", "/proc/self/status")
        assert ex.returncode == 0, ex.stderr
        if flag is None:
            perm = next(
                r.split()[4] for r in Path("/proc/keys").read_text().splitlines() if ring in r
            )
            assert int(perm, 16) & 0x80000, perm  # searchable by its uid, as runc sets it
    finally:
        rt("delete", "--force", cid)
