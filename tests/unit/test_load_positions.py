"""Document.position against an independent oracle: decoding at the offset gives that value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool.spec.load import join_pointer, load, parse_text, resolve_pointer

ROOT = Path(__file__).resolve().parents[2]

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
_keys = st.text(alphabet=st.sampled_from('ab/~"\\ é\n:,{}[]'), max_size=4)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=25,
)
_decoder = json.JSONDecoder()


def pointers(value: Any, base: str = "") -> list[str]:
    out = [base]
    if isinstance(value, dict):
        for k, v in value.items():
            out += pointers(v, join_pointer(base, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += pointers(v, join_pointer(base, i))
    return out


def offset_of(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + column - 1


def _check(text: str) -> None:
    doc = parse_text(text, "x.json")
    for pointer in pointers(doc.data):
        pos = doc.position(pointer)
        assert pos is not None, pointer
        decoded, _ = _decoder.raw_decode(text, offset_of(text, *pos))
        assert decoded == resolve_pointer(doc.data, pointer), pointer
        if pointer and isinstance(resolve_pointer(doc.data, pointer.rsplit("/", 1)[0]), dict):
            key_pos = doc.key_position(pointer)
            assert key_pos is not None
            key, _ = _decoder.raw_decode(text, offset_of(text, *key_pos))
            assert join_pointer(pointer.rsplit("/", 1)[0], key) == pointer
    # a member that does not exist is located at its nearest existing parent
    assert doc.position("/no-such-member/deeper") == doc.position("")


@settings(max_examples=150, deadline=None)
@given(data=_json, indent=st.sampled_from([None, 0, 1, 2, "\t"]), ascii_only=st.booleans())
def test_every_value_is_located_exactly(data: Any, indent: Any, ascii_only: bool) -> None:
    _check(json.dumps(data, indent=indent, ensure_ascii=ascii_only))


def test_examples_and_odd_spacing() -> None:
    for path in sorted((ROOT / "examples").glob("*/config.json")):
        _check(load(str(path)).text)
    _check('{ "a" :[ 1 ,"x" ] , "b":{ "c" : [ ] , "d":{ } } ,"e" : [ { "f" : [ "g" ] } ] }')


def test_only_containers_on_the_path_are_enumerated() -> None:
    text = json.dumps(
        {"linux": {"namespaces": [{"type": "pid"}, {"type": "uts"}], "env": ["A=1", "B=2"]}},
        indent=2,
    )
    doc = parse_text(text)
    doc.position("/linux/namespaces/1/type")
    doc.position("/linux/env/1")
    assert doc._index is not None
    assert set(doc._index._children) == {
        "",
        "/linux",
        "/linux/namespaces",
        "/linux/namespaces/1",
        "/linux/env",
    }
