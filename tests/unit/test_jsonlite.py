"""ocitool.jsonlite reads and writes what json does, and refuses what json refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool.exec.state import State
from ocitool.jsonlite import dumps, dumps_indented, loads

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_same_as_json(value: object) -> None:
    for text in (json.dumps(value), json.dumps(value, indent=2, ensure_ascii=False)):
        assert loads(text) == json.loads(text)
    assert dumps(value) == json.dumps(value, separators=(",", ":"), allow_nan=False)
    assert dumps_indented(value) == json.dumps(value, indent=2)


def test_state_file_round_trip() -> None:
    st_ = State(
        id="c1",
        bundle='/b "q"',
        status="running",
        pid=42,
        annotations={"a": "é\n"},
        rollback=[["kill", [42], "kill init 42"]],
        pid_start=123,
        extra={"cgroup_dirs": ["/sys/fs/cgroup/pids/x"], "hooks": []},
    )
    text = dumps(st_.to_disk())
    assert loads(text) == json.loads(text)
    assert State.from_disk(loads(text)) == st_


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"a":1,}',
        "[1,]",
        "01",
        "+1",
        '"\x01"',
        '"\\x"',
        '{"a" 1}',
        "[1 2]",
        "tru",
        '"\\u12"',
        "1 2",
        '{"a":1}x',
    ],
)
def test_refuses_what_json_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        loads(text)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_refuses_non_finite(text: str) -> None:
    with pytest.raises(ValueError):
        loads(text)


def test_duplicate_keys_only_when_asked() -> None:
    assert loads('{"a": 1, "a": 2}') == {"a": 2}
    with pytest.raises(ValueError, match="duplicate"):
        loads('{"a": 1, "a": 2}', unique_keys=True)
    assert loads('{"a": {"b": 1}, "c": [1]}', unique_keys=True) == {"a": {"b": 1}, "c": [1]}


def test_writes_valid_utf8_for_any_string() -> None:
    text = dumps({"s": 'x\ud800é\n"', "n": [1, 2.5, None, True]})
    text.encode("utf-8")  # a lone surrogate is escaped, so this cannot fail
    assert json.loads(text) == {"s": 'x\ud800é\n"', "n": [1, 2.5, None, True]}
    with pytest.raises(ValueError):
        dumps(float("nan"))
    with pytest.raises(TypeError):
        dumps({"o": object()})
