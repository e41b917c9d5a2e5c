"""Rootless execution without a real user: the id-map helper applier (recording backend)
and the state root rule (runc's shouldHonorXDGRuntimeDir)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from ocitool.errors import ExecError, RuntimeStateError
from ocitool.exec import stateroot
from ocitool.exec.apply import APPLIERS
from ocitool.exec.context import ExecContext
from ocitool.exec.recording import RecordingSyscalls
from ocitool.plan.ops.base import Phase
from ocitool.plan.ops.rootless import CgroupsSkipped, IdMapHelper

HELPER = IdMapHelper(
    phase=Phase.CREATE_IDMAP,
    source="/linux/uidMappings",
    helper="newuidmap",
    mappings=((0, 1000, 1), (1, 100000, 65536)),
)
EXECUTABLE = SimpleNamespace(st_mode=0o100755)


def _ctx(rec: RecordingSyscalls) -> ExecContext:
    ctx = ExecContext(sys=rec)  # type: ignore[arg-type]
    ctx.pid = 4242
    return ctx


def _stat_only(found: str) -> object:
    return lambda path: EXECUTABLE if path == found else -2


def test_helper_is_found_on_path_and_run_with_the_init_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "relative:/opt/none:/usr/bin")
    rec = RecordingSyscalls(results={"try_stat": _stat_only("/usr/bin/newuidmap")})
    APPLIERS["idmap_helper"](HELPER, _ctx(rec))
    looked = [c.args[0] for c in rec.calls if c.name == "try_stat"]
    assert looked == ["/opt/none/newuidmap", "/usr/bin/newuidmap"]  # no relative entry
    (run,) = [c.args for c in rec.calls if c.name == "run_helper"]
    assert run == (
        "/usr/bin/newuidmap",
        ["newuidmap", "4242", "0", "1000", "1", "1", "100000", "65536"],
    )


def test_missing_helper_is_a_coded_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin")
    rec = RecordingSyscalls(results={"try_stat": lambda path: -2})
    with pytest.raises(ExecError) as info:
        APPLIERS["idmap_helper"](HELPER, _ctx(rec))
    assert info.value.code == "OCI540" and "uidmap" in (info.value.hint or "")
    assert info.value.pointer == "/linux/uidMappings"
    assert "run_helper" not in rec.names()


def test_a_non_executable_file_is_not_the_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin")
    plain = SimpleNamespace(st_mode=0o100644)
    rec = RecordingSyscalls(results={"try_stat": lambda path: plain})
    with pytest.raises(ExecError, match="not installed"):
        APPLIERS["idmap_helper"](HELPER, _ctx(rec))


def test_refused_ranges_carry_the_helpers_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin")
    said = b"newuidmap: uid range [1-65537) -> [100000-165536) not allowed\n"
    rec = RecordingSyscalls(
        results={"try_stat": _stat_only("/usr/bin/newuidmap"), "run_helper": (1, said)}
    )
    with pytest.raises(ExecError) as info:
        APPLIERS["idmap_helper"](HELPER, _ctx(rec))
    assert info.value.code == "OCI541"
    assert "[100000-165536) not allowed" in info.value.message
    assert "/etc/subuid" in (info.value.hint or "")


def test_skipped_cgroups_make_no_call() -> None:
    rec = RecordingSyscalls()
    APPLIERS["cgroups_skipped"](CgroupsSkipped(phase=Phase.CREATE_RUNTIME, reason="r"), _ctx(rec))
    assert rec.calls == []


def test_the_real_backend_reports_exit_status_and_stderr() -> None:
    from ocitool.exec.linux import LinuxSyscalls

    status, err = LinuxSyscalls().run_helper("/bin/sh", ["sh", "-c", "echo no >&2; exit 3"])
    assert (status, err) == (3, b"no\n")


# ------------------------------------------------------------------ state root


@pytest.mark.parametrize(
    ("euid", "xdg", "user", "userns", "honored"),
    [
        (1000, "/run/user/1000", "me", False, True),
        (1000, None, "me", False, False),
        (0, "/run/user/0", "root", False, False),  # real root keeps /run/ocitool
        (0, "/run/user/1000", "me", True, True),  # root of a user namespace
        (0, "/run/user/0", "root", True, False),
    ],
)
def test_xdg_runtime_dir_is_honored_as_runc_does(
    monkeypatch: pytest.MonkeyPatch,
    euid: int,
    xdg: str | None,
    user: str,
    userns: bool,
    honored: bool,
) -> None:
    monkeypatch.setattr(stateroot, "_in_user_namespace", lambda: userns)
    assert stateroot.honor_xdg_runtime_dir(euid, xdg, user) is honored


def test_default_root_without_root_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setattr(stateroot.os, "geteuid", lambda: 1000)
    root = stateroot.resolve_root(None)
    assert root == str(tmp_path / "ocitool")
    mode = os.stat(root).st_mode
    assert stat.S_IMODE(mode) == 0o1700  # 0700 and sticky, as runc's
    assert stateroot.resolve_root("rel") == os.path.abspath("rel")  # --root wins
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert stateroot.default_root() == ("/run/ocitool", False)


def test_an_unusable_xdg_dir_is_a_state_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(blocker))
    monkeypatch.setattr(stateroot.os, "geteuid", lambda: 1000)
    with pytest.raises(RuntimeStateError) as info:
        stateroot.resolve_root(None)
    assert info.value.code == "OCI620" and "XDG_RUNTIME_DIR" in (info.value.hint or "")
    assert str(blocker) in info.value.message  # the path, never the variable's value alone


def test_the_helper_runs_from_a_cached_plan_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan cache rebuilds the op from its JSON (lists become tuples again)."""
    from ocitool.plan.cache import op_from_json

    op = op_from_json(
        {
            "op": "idmap_helper",
            "phase": "create.idmap",
            "source": "/linux/gidMappings",
            "text": "run(...)",
            "helper": "newgidmap",
            "mappings": [[0, 1000, 1]],
            "pid": "{init}",
        }
    )
    monkeypatch.setenv("PATH", "/usr/bin")
    rec = RecordingSyscalls(results={"try_stat": _stat_only("/usr/bin/newgidmap")})
    APPLIERS["idmap_helper"](op, _ctx(rec))
    (run,) = [c.args for c in rec.calls if c.name == "run_helper"]
    assert run == ("/usr/bin/newgidmap", ["newgidmap", "4242", "0", "1000", "1"])
