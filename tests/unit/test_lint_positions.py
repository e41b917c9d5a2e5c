"""The lint locator agrees with the loader's positions for every value of any JSON document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool.lint.positions import Locator
from ocitool.spec.load import join_pointer, load, parse_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

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


def pointers(value: Any, base: str = "") -> list[str]:
    out = [base]
    if isinstance(value, dict):
        for k, v in value.items():
            out += pointers(v, join_pointer(base, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += pointers(v, join_pointer(base, i))
    return out


def _agree(text: str, data: Any) -> None:
    doc = parse_text(text, "x.json")
    locator = Locator(doc)
    for pointer in pointers(data):
        assert locator.position(pointer) == doc.position(pointer), pointer
    # missing members fall back to the nearest parent, like the loader
    for pointer in ("/missing", "/0/missing/deeper"):
        assert Locator(doc).position(pointer) == doc.position(pointer)


@settings(max_examples=150, deadline=None)
@given(data=_json, indent=st.sampled_from([None, 0, 1, 2, "\t"]), ascii_only=st.booleans())
def test_locator_matches_loader(data: Any, indent: Any, ascii_only: bool) -> None:
    _agree(json.dumps(data, indent=indent, ensure_ascii=ascii_only), data)


def test_fixtures_and_odd_spacing() -> None:
    for path in FIXTURES.glob("*.json"):
        doc = load(str(path))
        _agree(doc.text, doc.data)
    text = '{ "a" :[ 1 ,"x" ] , "b":{ "c" : [ ] , "d":{ } } ,"e" : [ { "f" : [ "g" ] } ] }'
    _agree(text, json.loads(text))


def test_containers_are_enumerated_once() -> None:
    text = json.dumps(
        {"linux": {"namespaces": [{"type": "pid"}, {"type": "uts"}], "env": ["A=1", "B=2"]}},
        indent=2,
    )
    doc = parse_text(text)
    locator = Locator(doc)
    assert locator.position("/linux/namespaces/1/type") == doc.position("/linux/namespaces/1/type")
    assert locator.position("/linux/env/1") == doc.position("/linux/env/1")
    assert set(locator._children) == {
        "",
        "/linux",
        "/linux/namespaces",
        "/linux/namespaces/1",
        "/linux/env",
    }
