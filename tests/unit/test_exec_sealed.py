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
    rec = RecordingSyscalls()
    with pytest.raises(Exception) as info:
        sealed.ensure(rec)
    assert getattr(info.value, "code", None) == "OCI530"
    assert rec.calls == []  # nothing changed: still on the real root
    assert sealed.FDS_ENV.encode() not in os.environb
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


def _plan(pidns: bool = True, extra: list[Any] | None = None) -> list[Any]:
    from tests.helpers_exec.plans import busybox_plan

    return busybox_plan("/r", "c", ["true"], cgroups=False, pidns=pidns) + (extra or [])


def test_a_foreground_init_alone_in_a_new_pid_namespace_is_not_observable() -> None:
    from ocitool.plan.ops.base import Phase
    from ocitool.plan.ops.hooks import RunHook
    from ocitool.plan.ops.namespaces import Setns

    assert not sealed.observable(_plan())
    assert sealed.observable(_plan(pidns=False))  # no pid namespace of its own
    joined = Setns(phase=Phase.CREATE_INIT, path="/proc/7/ns/pid", nstype="CLONE_NEWPID")
    assert sealed.observable([joined, *_plan(pidns=False)])
    for kind in ("prestart", "createRuntime", "createContainer", "startContainer"):
        hook = RunHook(phase=Phase.CREATE_INIT, kind=kind, index=0, path="/bin/true")
        assert sealed.observable(_plan(extra=[hook])), kind
    after = RunHook(phase=Phase.CREATE_INIT, kind="poststart", index=0, path="/bin/true")
    assert not sealed.observable(_plan(extra=[after]))  # runs after the init's execve


def test_exec_waits_until_an_unsealed_init_has_execd(tmp_path: Any) -> None:
    """A foreground run that did not seal marks its state until the init's execve; exec
    joins only once the mark is gone (here: a live pid, the mark cleared after 0.2 s)."""
    import threading
    import time

    from ocitool.exec.state import State, StateStore, proc_start_time
    from ocitool.runc.cmd_exec import _after_init_exec

    store = StateStore(str(tmp_path))
    store.reserve("c1")
    st = State(id="c1", bundle="/b", status="running", pid=os.getpid())
    st.pid_start = proc_start_time(os.getpid())
    st.extra[sealed.INIT_UNSEALED] = True
    store.save(st)

    def clear() -> None:
        time.sleep(0.2)
        del st.extra[sealed.INIT_UNSEALED]
        store.save(st)

    t = threading.Thread(target=clear)
    t0 = time.monotonic()
    t.start()
    got = _after_init_exec(store, store.load("c1"))
    waited = time.monotonic() - t0
    t.join()
    assert sealed.INIT_UNSEALED not in got.extra
    assert waited >= 0.2
