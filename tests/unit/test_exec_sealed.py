"""ocitool/exec/sealed.py without root: the calls each stage makes, and its refusals.

The attack itself (and that the sealed runtime withstands it) is
tests/integration/test_exec_5736.py.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from ocitool.exec import sealed
from ocitool.exec.recording import RecordingSyscalls


def _real_dir_fd(*_args: Any) -> int:
    return os.open("/", os.O_PATH | os.O_DIRECTORY)


def test_stage_one_clones_the_tree_read_only_and_reexecutes_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(os.environ, sealed.FDS_ENV, raising=False)
    rec = RecordingSyscalls(results={"open": _real_dir_fd})
    sealed.ensure(rec)  # the recording execve returns; the real one does not
    names = rec.names()
    assert names == [
        "open_tree",
        "mount_setattr",
        "open",
        "open",
        "fchdir",
        "chroot",
        "chdir",
        "close",
        "execve",
    ]
    calls = {c.name: c.args for c in rec.calls}
    assert calls["open_tree"] == (
        sealed.AT_FDCWD,
        "/",
        sealed.OPEN_TREE_CLONE | sealed.AT_RECURSIVE | sealed.OPEN_TREE_CLOEXEC,
    )
    tree = 102  # what the recording open_tree returns
    assert calls["mount_setattr"] == (
        tree,
        "",
        sealed.AT_EMPTY_PATH | sealed.AT_RECURSIVE,
        sealed.MOUNT_ATTR_RDONLY,
        0,
        0,
        0,
    )
    assert calls["fchdir"] == (tree,) and calls["chroot"] == (".",)
    assert calls["chdir"] == (os.getcwd(),)  # the same directory, inside the copy
    path, argv, env = calls["execve"]
    assert path == sys.executable and argv == [sys.executable, *sys.orig_argv[1:]]
    root_fd, cwd_fd = (c.args for c in rec.calls if c.name == "open")
    marker = [e for e in env if e.startswith(sealed.FDS_ENV + "=")]
    assert len(marker) == 1
    fds = [int(x) for x in marker[0].split("=", 1)[1].split(",")]
    for fd in fds:  # kept open across execve
        assert os.get_inheritable(fd)
        os.close(fd)
    assert root_fd[0] == "/" and cwd_fd[0] == "."


def test_stage_one_failure_is_an_oci530_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocitool.exec.syscalls import sys_error

    monkeypatch.delitem(os.environ, sealed.FDS_ENV, raising=False)
    rec = RecordingSyscalls(results={"open_tree": sys_error("open_tree", ("/",), 1)})
    with pytest.raises(Exception) as info:
        sealed.ensure(rec)
    assert getattr(info.value, "code", None) == "OCI530"
    assert "EPERM" in info.value.message  # type: ignore[attr-defined]
    assert rec.names() == ["open_tree"]


@pytest.mark.parametrize("value", ["1,2", "junk"])
def test_stage_two_refuses_an_interpreter_that_is_not_read_only(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """The marker set by hand (this interpreter is not on a read-only mount) is refused,
    and removed from the environment either way: hooks and containers never see it."""
    monkeypatch.setitem(os.environ, sealed.FDS_ENV, value)
    os.environ[sealed.FDS_ENV] = value
    from ocitool import lightos

    lightos.environ[sealed.FDS_ENV.encode()] = value.encode()
    rec = RecordingSyscalls()
    with pytest.raises(Exception) as info:
        sealed.ensure(rec)
    assert getattr(info.value, "code", None) == "OCI530"
    assert rec.calls == []  # nothing changed: still on the real root
    assert sealed.FDS_ENV.encode() not in lightos.environ
    assert sealed.FDS_ENV not in os.environ


def test_an_unsealed_process_is_refused_before_it_could_be_seen() -> None:
    """This test process runs from the host's files: verify() names them and refuses."""
    bad = sealed.writable_mappings()
    assert bad[0] == "/proc/self/exe"
    if os.geteuid() == 0:  # map_files needs CAP_SYS_ADMIN: otherwise every mapping counts
        assert any("python" in p or "libc" in p for p in bad[1:])
    with pytest.raises(Exception) as info:
        sealed.verify()
    assert getattr(info.value, "code", None) == "OCI530"
