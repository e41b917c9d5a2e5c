"""A hook's kernel calls go through Syscalls: the recording backend sees all of them."""

from __future__ import annotations

import os

import pytest

from ocitool.exec import hooks
from ocitool.exec.recording import RecordingSyscalls


def test_the_runtime_side_of_a_hook() -> None:
    rec = RecordingSyscalls()
    hooks.run_hook(rec, "/bin/hook", ["hook", "a"], ["K=v"], b'{"id":"c"}', None)
    assert [(c.name, c.args) for c in rec.calls] == [
        ("pipe2", (os.O_CLOEXEC,)),
        ("fork", ()),
        ("close", (104,)),
        ("write", (105, b'{"id":"c"}')),
        ("close", (105,)),
        ("waitpid", (1000, 0)),
    ]


class _Exit(Exception):
    pass


def test_the_hook_process_dup2s_the_pipe_and_execs(monkeypatch: pytest.MonkeyPatch) -> None:
    def leave(code: int) -> None:
        raise _Exit(code)

    monkeypatch.setattr(hooks.os, "_exit", leave)
    monkeypatch.setattr(hooks, "reset_dispositions", lambda: None)
    rec = RecordingSyscalls(results={"fork": 0, "execve": OSError(2, "ENOENT")})
    with pytest.raises(_Exit) as info:
        hooks.run_hook(rec, "/bin/hook", [], ["K=v"], b"{}", None)
    assert info.value.args == (127,)  # execve failed: the child exits, never returns
    assert [(c.name, c.args) for c in rec.calls] == [
        ("pipe2", (os.O_CLOEXEC,)),
        ("fork", ()),
        ("dup2", (104, 0)),
        ("execve", ("/bin/hook", ["/bin/hook"], ["K=v"])),
    ]
