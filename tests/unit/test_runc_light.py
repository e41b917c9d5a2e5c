"""The light pieces ocitool-runc's short commands use instead of json and signal."""

from __future__ import annotations

import json
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool.jsonlite import dumps_indented
from ocitool.runc.common import parse_signal

scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text('ab "\\/é', max_size=5)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("kq", max_size=2), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_indented_state_json_is_laid_out_like_json_dumps(value: object) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2)
    assert json.loads(dumps_indented(value)) == value


def test_control_characters_are_escaped_validly() -> None:
    value = {"a\nb": ["\x01", "tab\there"]}
    assert json.loads(dumps_indented(value)) == value


@pytest.mark.parametrize("sig", list(signal.Signals))
def test_every_signal_name_parses_with_and_without_prefix(sig: signal.Signals) -> None:
    assert parse_signal(sig.name) == sig.value
    assert parse_signal(sig.name[3:].lower()) == sig.value
    assert parse_signal(str(sig.value)) == sig.value


def test_realtime_offsets_and_aliases() -> None:
    assert parse_signal("SIGRTMIN+2") == signal.SIGRTMIN + 2
    assert parse_signal("RTMAX-1") == signal.SIGRTMAX - 1
    assert parse_signal("CLD") == signal.SIGCHLD


@pytest.mark.parametrize(
    "text", ["SIG_DFL", "SIG_IGN", "NSIG", "SIGFOO", "SIG0", "65", "SIG", "-9"]
)
def test_what_is_not_a_signal_is_refused(text: str) -> None:
    with pytest.raises(Exception, match="unknown signal"):
        parse_signal(text)
