"""Typed records: frozen, keyword-only value classes that are cheap to define.

Why not ``dataclasses``: ``@dataclass`` writes the source of ``__init__``,
``__repr__``, ``__eq__``, ``__hash__`` and ``__setattr__`` for every class and
``exec``s it, and ``import dataclasses`` pulls in ``inspect`` and ``re``. With
about sixty plan op classes that is most of what starting a container from a
cached plan would cost (bench/README.md, "records"). A :class:`Record`
subclass instead has its fields read once, in ``__init_subclass__``, and
shares one generic ``__init__``, ``__eq__``, ``__hash__`` and ``__repr__``.

Type checkers see a frozen, keyword-only dataclass: :class:`Record` is
decorated with ``typing.dataclass_transform`` (PEP 681), so mypy checks
constructor calls and refuses assignments exactly as for ``@dataclass(
frozen=True, kw_only=True)``. The decorator is only applied for the type
checker; at run time ``typing`` is not imported (it is not on the start path).

Rules of a record class:

* a field is a class-level annotation that is not ``ClassVar[...]``; its
  default, if any, is the value assigned in the class body;
* defaults must be immutable (they are shared, never copied);
* fields of base classes come first; a subclass may re-declare a field to
  change its default;
* instances are frozen: assignment raises :class:`FrozenRecordError`; use
  :func:`replace` for a changed copy.
"""

from __future__ import annotations

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar, dataclass_transform

    R = TypeVar("R", bound="Record")
else:

    def dataclass_transform(**_options: object) -> object:
        return lambda cls: cls


class _Missing:
    """The default of a field that has none (a required keyword)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenRecordError(AttributeError):
    """An attempt to assign to or delete a field of a record."""


_CLASS_VAR = ("ClassVar", "typing.ClassVar")
"""How a class variable's annotation starts (annotations are text: PEP 563)."""


@dataclass_transform(kw_only_default=True, frozen_default=True, eq_default=True)
class Record:
    """Base of every typed record (see the module doc for the rules)."""

    __record_fields__: ClassVar[dict[str, Any]] = {}
    """Field name -> default (:data:`MISSING` when required), base fields first."""
    __record_defaults__: ClassVar[dict[str, Any]] = {}
    """The fields that have a default, with it."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, Any] = {}
        for base in cls.__bases__[::-1]:  # each base's own list already holds its bases'
            fields.update(getattr(base, "__record_fields__", ()))
        own = cls.__dict__
        for name, annotation in own.get("__annotations__", {}).items():
            text = annotation if isinstance(annotation, str) else repr(annotation)
            if not text.startswith(_CLASS_VAR) and not name.startswith("__"):
                fields[name] = own.get(name, MISSING)
        cls.__record_fields__ = fields
        cls.__record_defaults__ = {n: d for n, d in fields.items() if d is not MISSING}

    def __init__(self, **values: Any) -> None:
        cls = type(self)
        state = self.__dict__
        state.update(cls.__record_defaults__)
        state.update(values)
        if state.keys() != cls.__record_fields__.keys():
            state.clear()
            _refuse(cls, values)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenRecordError(f"{type(self).__name__} is frozen; use records.replace()")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"{type(self).__name__} is frozen; use records.replace()")

    def _values(self) -> tuple[object, ...]:
        state = self.__dict__
        return tuple(state[name] for name in type(self).__record_fields__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        state = self.__dict__
        inner = ", ".join(f"{name}={state[name]!r}" for name in type(self).__record_fields__)
        return f"{type(self).__qualname__}({inner})"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), dict(self.__dict__)))


def _refuse(cls: type[Record], values: dict[str, Any]) -> None:
    """Raise the TypeError a constructor call with unknown or missing fields deserves."""
    fields = cls.__record_fields__
    unknown = sorted(values.keys() - fields.keys())
    if unknown:
        raise TypeError(
            f"{cls.__name__}() got unexpected keyword argument(s): {', '.join(unknown)}"
        )
    missing = sorted(n for n, d in fields.items() if d is MISSING and n not in values)
    raise TypeError(f"{cls.__name__}() missing required keyword argument(s): {', '.join(missing)}")


def _rebuild(cls: type[R], values: dict[str, Any]) -> R:
    return cls(**values)


def fields(record: Record | type[Record]) -> tuple[str, ...]:
    """The field names of a record (or record class), in declaration order."""
    cls = record if isinstance(record, type) else type(record)
    return tuple(cls.__record_fields__)


def values(record: Record) -> dict[str, Any]:
    """Field name -> value, in declaration order."""
    state = record.__dict__
    return {name: state[name] for name in type(record).__record_fields__}


def replace(record: R, **changes: Any) -> R:
    """A copy of ``record`` with some fields changed (``dataclasses.replace``)."""
    return type(record)(**{**values(record), **changes})


def is_record(value: object) -> bool:
    """True for a record instance (not a record class)."""
    return isinstance(value, Record)
