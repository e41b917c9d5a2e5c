"""The runtime <-> init messages: typed on both ends, one line each on the wire."""

from __future__ import annotations

import os

from ocitool.exec.handover import (
    Channel,
    Cleared,
    Closed,
    Detach,
    Done,
    Failed,
    Forked,
    Garbled,
    Go,
    Ready,
    Start,
    decode,
)


def test_every_message_round_trips() -> None:
    for msg in (Go(3), Start(), Detach(), Done(12), Ready(40), Cleared(), Forked(4242)):
        back = decode(msg.encode())
        assert type(back) is type(msg)
        assert getattr(back, "index", None) == getattr(msg, "index", None)
        assert getattr(back, "pid", None) == getattr(msg, "pid", None)
    failed = decode(Failed(7, 13, "mount(...)\n  failed:  EACCES").encode())
    assert isinstance(failed, Failed)
    assert (failed.index, failed.errno, failed.text) == (7, 13, "mount(...) failed: EACCES")
    assert isinstance(decode(Failed(-1, 0, "before any op").encode()), Failed)


def test_unknown_or_malformed_lines_are_garbled_not_guessed() -> None:
    for line in (b"X1", b"Gx", b"D", b"E1 x text", b"SS"):
        msg = decode(line)
        assert isinstance(msg, Garbled) and msg.raw == line
    assert isinstance(decode(b""), Closed)


def test_channel_splits_and_joins_lines() -> None:
    r, w = os.pipe()
    try:
        os.write(w, Done(1).encode() + b"\n" + Ready(2).encode()[:1])  # one and a half
        ch = Channel(r)
        first = ch.recv()
        assert isinstance(first, Done) and first.index == 1
        os.write(w, b"2\n")
        second = ch.recv()
        assert isinstance(second, Ready) and second.index == 2
        Channel(w).send(Forked(9))
        third = ch.recv()
        assert isinstance(third, Forked) and third.pid == 9
        os.write(w, b"D3")  # the writer dies mid-message: a torn line is end-of-file
        os.close(w)
        w = -1
        assert isinstance(ch.recv(), Closed)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
