"""jsonlite reads what json reads (for ocitool's own state files) and refuses what json refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool.exec.state import State, dumps
from ocitool.runc.jsonlite import loads, loads_py

LOADERS = pytest.mark.parametrize("load", [loads, loads_py], ids=["c", "py"])

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
        assert loads_py(text) == json.loads(text)


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
    with pytest.raises(ValueError):
        loads_py(text)


@LOADERS
@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_refuses_non_finite(load: object, text: str) -> None:
    with pytest.raises(ValueError):
        load(text)  # type: ignore[operator]


@settings(max_examples=50, deadline=None)
@given(JSON)
def test_large_documents_go_through_the_c_scanner_alike(value: object) -> None:
    from ocitool.runc import jsonlite

    text = json.dumps({"pad": "x" * jsonlite.SMALL, "v": value})
    assert len(text) >= jsonlite.SMALL
    assert loads(text) == json.loads(text)
    for bad in (text[:-1] + ",}", text + "x", text.replace('"pad"', "pad", 1)):
        with pytest.raises(ValueError):
            loads(bad)
