"""The init -> runtime report channel is framed: messages that share one read stay apart.

A pipe is a byte stream: the init's "created" report and an error right after
it (or a fork's pid report and the child's next message) can arrive in one
read(2). Each message is one newline-terminated line.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator

import pytest

from ocitool.errors import ExecError
from ocitool.exec.apply import APPLIERS
from ocitool.exec.context import ExecContext
from ocitool.exec.handover import Done, Ready
from ocitool.exec.process import Engine
from ocitool.exec.recording import RecordingSyscalls
from ocitool.plan.ops.base import Phase
from ocitool.plan.ops.namespaces import Sethostname
from ocitool.plan.ops.process import WaitStart


@pytest.fixture
def engine() -> Iterator[tuple[Engine, int, int]]:
    """An engine wired to pipes we play the init on: (engine, report write end, ctl read end)."""
    ops = [
        Sethostname(phase=Phase.CREATE_INIT, hostname="a", source="/hostname"),
        Sethostname(phase=Phase.CREATE_INIT, hostname="b", source="/hostname"),
        WaitStart(phase=Phase.CREATE_PIVOT, source=None),
    ]
    eng = Engine(ops, ExecContext(sys=RecordingSyscalls()), APPLIERS)  # type: ignore[arg-type]
    rep_r, rep_w = os.pipe()
    ctl_r, ctl_w = os.pipe()
    eng._rep_r, eng._ctl_w = rep_r, ctl_w
    yield eng, rep_w, ctl_r
    eng.close_pipes()
    os.close(rep_w)
    os.close(ctl_r)


def test_two_reports_in_one_read_are_two_messages(engine: tuple[Engine, int, int]) -> None:
    eng, rep_w, _ = engine
    os.write(rep_w, b"D1\nR3\n")  # one write: one read gets both
    first, second = eng._report(), eng._report()
    assert isinstance(first, Done) and first.index == 1
    assert isinstance(second, Ready) and second.index == 3


def test_created_then_error_in_one_read_names_the_op(engine: tuple[Engine, int, int]) -> None:
    """R then E (e.g. the exec fifo cannot be opened): created first, then the op's error."""
    eng, rep_w, ctl_r = engine
    os.write(rep_w, b'R2\nE1 13 open("/proc/self/fd/7") failed: EACCES\n')
    created = eng._report()
    assert isinstance(created, Ready) and created.index == 2
    with pytest.raises(ExecError) as info:
        eng.detach()
    err = info.value
    assert "op #1 sethostname" in err.message and "EACCES" in err.message
    assert getattr(err, "errno", None) == errno.EACCES
    assert err.pointer == "/hostname"
    assert os.read(ctl_r, 64) == b"K\n"  # what the runtime told the init


def _eof_pipe(eng: Engine, data: bytes) -> None:
    """Replace the engine's report pipe with one holding ``data``, then end-of-file."""
    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    os.close(eng._rep_r)
    eng._rep_r = r


def test_a_torn_last_message_is_end_of_file(engine: tuple[Engine, int, int]) -> None:
    eng, _, _ = engine
    _eof_pipe(eng, b"D")  # the init died half-way through a write
    with pytest.raises(ExecError) as info:
        eng._report()
    assert "exited unexpectedly" in info.value.message


def test_detach_waits_for_the_init_to_confirm(engine: tuple[Engine, int, int]) -> None:
    eng, rep_w, ctl_r = engine
    os.write(rep_w, b"C\n")
    eng.detach()
    assert os.read(ctl_r, 64) == b"K\n"
    assert eng._rep_r == -1 and eng._ctl_w == -1


def test_an_unknown_message_is_an_error_that_shows_it(engine: tuple[Engine, int, int]) -> None:
    eng, rep_w, _ = engine
    os.write(rep_w, b"Zoo\n")
    with pytest.raises(ExecError, match="unexpected message from init: b'Zoo'"):
        eng._report()


def test_detach_fails_if_the_init_died(engine: tuple[Engine, int, int]) -> None:
    eng, _, _ = engine
    _eof_pipe(eng, b"")
    with pytest.raises(ExecError) as info:
        eng.detach()
    assert "before it was detached" in info.value.message
