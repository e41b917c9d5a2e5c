"""The exec fifo's failure record: what a detached init writes, what ``start`` reads."""

from __future__ import annotations

import os

from ocitool.exec import startreport


def _through_a_pipe(*records: tuple[int, int, str, str]) -> bytes:
    r, w = os.pipe()
    os.write(w, startreport.RELEASED)
    for rec in records:
        startreport.report_after_start(w, *rec)
    os.close(w)
    try:
        return startreport.read_to_eof(r)
    finally:
        os.close(r)


def test_a_release_with_nothing_after_it_is_no_failure() -> None:
    assert startreport.parse(_through_a_pipe()) is None
    assert startreport.parse(b"") is None  # the init died before the release byte


def test_the_record_round_trips() -> None:
    text = "op #113 chdir [exec] (from /process/cwd) failed: ... ENOENT \u00e9\0nul"
    got = startreport.parse(_through_a_pipe((113, 2, "/process/cwd", text)))
    assert got is not None
    assert (got.index, got.errno, got.pointer, got.message) == (113, 2, "/process/cwd", text)


def test_a_long_message_is_read_to_the_end_and_capped() -> None:
    got = startreport.parse(_through_a_pipe((5, 0, "", "x" * 100_000)))
    assert got is not None and got.index == 5 and 0 < len(got.message) < 100_000


def test_anything_else_after_the_release_is_a_failure_not_ignored() -> None:
    got = startreport.parse(b"0garbage")
    assert got is not None and got.index == -1 and "garbage" in got.message


def test_a_closed_descriptor_is_not_an_error() -> None:
    startreport.report_after_start(-1, 1, 1, "", "x")
