"""ocitool/exec/sealed.py without root: the calls each stage makes, and its refusals.

The attack itself (and that the sealed runtime withstands it) is
tests/integration/test_exec_5736.py.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from ocitool.exec import hostwrite, sealed
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
    monkeypatch.setattr(hostwrite, "privileged_over_host", lambda: True)
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


class _Stat:
    def __init__(self, uid: int, mode: int, size: int = 3) -> None:
        self.st_uid, self.st_mode, self.st_size = uid, mode, size
        self.st_dev, self.st_ino = 1, 2


def _rootless(monkeypatch: pytest.MonkeyPatch, writable: bool) -> RecordingSyscalls:
    from ocitool.exec.syscalls import sys_error

    monkeypatch.delitem(os.environ, sealed.FDS_ENV, raising=False)
    monkeypatch.setattr(hostwrite, "privileged_over_host", lambda: False)
    monkeypatch.setattr(hostwrite, "container_may_write", lambda uid, mode: writable)
    monkeypatch.setattr(sealed, "_state", dict(sealed._state))
    data = [b"ELF", b""]
    return RecordingSyscalls(
        results={
            "open_tree": sys_error("open_tree", ("/",), 1),
            "open": 7,
            "fstat": _Stat(1000, 0o100755),
            "memfd_create": 9,
            "read": lambda fd, n: data.pop(0),
            "write": lambda fd, b: len(b),
            "file_seals": lambda fd, add=0: add,
        }
    )


def test_rootless_stage_one_reexecutes_from_a_sealed_memfd_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No privilege over the host and an interpreter a container could write: it is
    copied into a memfd, sealed against every change, and executed from there. No
    open_tree is tried: even where it works (root of podman's user namespace), the
    read-only copy could not be verified there (no /proc/self/map_files)."""
    rec = _rootless(monkeypatch, writable=True)
    sealed.ensure(rec)  # the recording fexecve returns; the real one does not
    assert rec.names() == [
        "open",
        "fstat",
        "memfd_create",
        "read",
        "write",
        "file_seals",
        "close",
        "fexecve",
    ]
    assert rec.calls[0].args[0] == "/proc/self/exe"
    assert rec.calls[2].args[1] & sealed.MFD_ALLOW_SEALING
    assert rec.calls[5].args == (9, sealed.SEALS)
    fd, argv, env = rec.calls[-1].args
    assert fd == 9 and argv[0] == sys.executable
    assert f"{sealed.MEMFD_ENV}=1" in env


def test_rootless_interpreter_no_container_can_write_is_used_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rec = _rootless(monkeypatch, writable=False)
    sealed.ensure(rec)
    assert rec.names() == ["open", "fstat", "close"]
    assert sealed.is_sealed()


def test_rootless_stage_two_refuses_an_interpreter_that_is_not_sealed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The marker set by hand while the interpreter is a plain file: refused (OCI530)
    and removed from the environment."""
    monkeypatch.setattr(sealed, "_state", dict(sealed._state))
    monkeypatch.setitem(os.environ, sealed.MEMFD_ENV, "1")
    rec = RecordingSyscalls(results={"open": 7, "file_seals": 0, "fstat": _Stat(0, 0o100755)})
    with pytest.raises(Exception) as info:
        sealed.ensure(rec)
    assert getattr(info.value, "code", None) == "OCI530"
    assert sealed.MEMFD_ENV.encode() not in os.environb
    assert not sealed.is_sealed()


def test_rootless_verify_refuses_a_changed_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    st = os.stat("/proc/self/exe")
    state = dict(sealed._state, rootless=True, sealed=True, exe=(st.st_dev, st.st_ino))
    monkeypatch.setattr(sealed, "_state", state)
    monkeypatch.setattr(hostwrite, "privileged_over_host", lambda: False)
    sealed.verify()  # the same interpreter: let through
    state["exe"] = (st.st_dev, st.st_ino + 1)
    with pytest.raises(Exception) as info:
        sealed.verify()
    assert getattr(info.value, "code", None) == "OCI530"
    state["exe"] = (st.st_dev, st.st_ino)
    monkeypatch.setattr(hostwrite, "privileged_over_host", lambda: True)
    with pytest.raises(Exception) as info:
        sealed.verify()  # privileged now: the rootless rule no longer holds
    assert getattr(info.value, "code", None) == "OCI530"


def test_a_rootless_seal_that_fails_is_an_oci530_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocitool.exec.syscalls import sys_error

    rec = _rootless(monkeypatch, writable=True)
    rec.results["memfd_create"] = sys_error("memfd_create", ("ocitool-runtime",), 24)
    with pytest.raises(Exception) as info:
        sealed.ensure(rec)
    assert getattr(info.value, "code", None) == "OCI530"
    assert "EMFILE" in info.value.message  # type: ignore[attr-defined]
    assert "fexecve" not in rec.names()
