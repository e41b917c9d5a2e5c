"""ocitool.records: typed records without dataclasses' generated source."""

from __future__ import annotations

import pickle
from typing import ClassVar

import pytest

from ocitool.records import FrozenRecordError, Record, fields, is_record, replace, values


class Point(Record):
    kind: ClassVar[str] = "point"
    x: int
    y: int = 0
    label: str | None = None


class Labelled(Point):
    kind: ClassVar[str] = "labelled"
    label: str | None = "here"  # a new default for an inherited field
    tags: tuple[str, ...] = ()


def test_fields_in_declaration_order_base_first_class_vars_left_out() -> None:
    assert fields(Point) == ("x", "y", "label")
    assert fields(Labelled(x=1)) == ("x", "y", "label", "tags")


def test_defaults_and_values() -> None:
    p = Labelled(x=1, tags=("a",))
    assert values(p) == {"x": 1, "y": 0, "label": "here", "tags": ("a",)}
    assert Point(x=1).label is None


def test_missing_and_unknown_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="missing required keyword argument.*x"):
        Point(y=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument.*z"):
        Point(x=1, z=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1)  # type: ignore[misc]


def test_frozen() -> None:
    p = Point(x=1)
    with pytest.raises(FrozenRecordError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenRecordError):
        del p.x  # type: ignore[misc]


def test_equality_hash_and_repr_follow_the_fields() -> None:
    assert Point(x=1, y=2) == Point(x=1, y=2)
    assert Point(x=1) != Point(x=2)
    assert Point(x=1, label="here") != Labelled(x=1)  # another class
    assert hash(Point(x=1, y=2)) == hash(Point(x=1, y=2))
    assert len({Point(x=1), Point(x=1), Point(x=3)}) == 2
    assert repr(Point(x=1)) == "Point(x=1, y=0, label=None)"


def test_replace_copies_with_changes() -> None:
    p = Labelled(x=1)
    q = replace(p, y=5)
    assert isinstance(q, Labelled) and (q.x, q.y, q.label) == (1, 5, "here") and p.y == 0
    with pytest.raises(TypeError):
        replace(p, nope=1)


def test_pickle_and_is_record() -> None:
    p = Labelled(x=1, tags=("t",))
    assert pickle.loads(pickle.dumps(p)) == p
    assert is_record(p) and not is_record(Labelled) and not is_record(object())
