"""Validate config.json, state.json and features.json against ocitool's own schemas.

The schemas (``schemas/*.schema.json``, JSON Schema draft 2020-12) are read
and compiled once per process. A fast compiled check answers "valid?" first;
only documents that fail it go through ``jsonschema`` (imported lazily), whose
errors are turned into specific, located diagnostics:

* ``OCI201`` wrong JSON type          * ``OCI206`` number out of range
* ``OCI202`` value not in the allowed set
* ``OCI203`` required member missing  * ``OCI207`` wrong length / size / duplicates
* ``OCI204`` text does not match the expected form
* ``OCI205`` unknown member (a warning: runtime-spec says runtimes MUST ignore them)
* ``OCI208`` members that must come together, or at least one of several
* ``OCI209`` any other schema rule
* ``OCI210`` ociVersion is not a runtime-spec 1.x version
* ``OCI211`` ociVersion is newer than 1.3 (a warning)
* ``OCI212`` the same namespace type or rlimit listed twice (runtimes MUST refuse)
* ``OCI213`` values that contradict each other (cpu burst above quota, errnoRet with an
  action that returns no errno, memory policy nodes vs mode, rlimit soft above hard)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ocitool.errors import Diagnostic
from ocitool.resources import resource_path
from ocitool.spec.load import Document
from ocitool.spec.schema_checks import KNOWN_MINOR, consistency_checks, version_checks
from ocitool.spec.schema_fast import Compiler
from ocitool.spec.schema_messages import convert_error, json_type

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaError

__all__ = [
    "KINDS", "KNOWN_MINOR", "fast_check", "schema", "schema_diagnostics", "sort_diagnostics",
    "validate_config", "validate_document", "validate_features", "validate_state",
]  # fmt: skip

KINDS = ("config", "state", "features")

_SCHEMAS: dict[str, dict[str, Any]] = {}
_FAST: dict[str, Callable[[Any], bool]] = {}
_COMPILERS: dict[str, Compiler] = {}
_VALIDATORS: dict[str, Any] = {}


def schema(kind: str = "config") -> dict[str, Any]:
    """The parsed schema document for ``kind`` (read from disk once)."""
    if kind not in _SCHEMAS:
        if kind not in KINDS:
            raise ValueError(f"unknown document kind {kind!r}; expected one of {KINDS}")
        with open(resource_path("schemas", f"{kind}.schema.json"), encoding="utf-8") as fh:
            _SCHEMAS[kind] = json.load(fh)
    return _SCHEMAS[kind]


def _compiler(kind: str) -> Compiler:
    if kind not in _COMPILERS:
        _COMPILERS[kind] = Compiler(schema(kind))
    return _COMPILERS[kind]


def fast_check(kind: str = "config") -> Callable[[Any], bool]:
    """True exactly when the document has no schema error (compiled once per kind)."""
    if kind not in _FAST:
        _FAST[kind] = _compiler(kind).check(schema(kind))
    return _FAST[kind]


def _validator(kind: str) -> Any:
    if kind not in _VALIDATORS:
        from jsonschema import Draft202012Validator

        _VALIDATORS[kind] = Draft202012Validator(schema(kind))
    return _VALIDATORS[kind]


# ---------------------------------------------------------------- public API


def validate_config(doc: Document) -> list[Diagnostic]:
    """Every schema and consistency defect of a config.json, located and sorted."""
    return validate_document(doc, "config")


def validate_state(doc: Document) -> list[Diagnostic]:
    """Defects of a runtime state document (``runc state`` output, runtime.md)."""
    return validate_document(doc, "state")


def validate_features(doc: Document) -> list[Diagnostic]:
    """Defects of a runtime features document (``runc features`` output, features.md)."""
    return validate_document(doc, "features")


def validate_document(doc: Document, kind: str = "config") -> list[Diagnostic]:
    data = doc.data
    found: list[tuple[Diagnostic, bool]] = []  # (diagnostic, locate at the member name?)
    if not fast_check(kind)(data):
        found.extend(schema_diagnostics(data, kind))
    if isinstance(data, dict):
        found.extend((d, False) for d in version_checks(data, kind, found))
        if kind == "config":
            found.extend((d, False) for d in consistency_checks(data))
    return sort_diagnostics(_locate(doc, d, at_key) for d, at_key in found)


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(
        diags, key=lambda d: (d.line or 0, d.column or 0, d.severity != "error", d.code, d.pointer)
    )


def _locate(doc: Document, diag: Diagnostic, at_key: bool) -> Diagnostic:
    try:
        pos = doc.key_position(diag.pointer) if at_key else doc.position(diag.pointer)
    except RecursionError:  # the position scanner recurses; absurdly deep JSON stays unlocated
        pos = None
    located = diag.with_path(diag.path or doc.path)
    return located.located(*pos) if pos else located


# ---------------------------------------------------------- jsonschema errors


def schema_diagnostics(data: Any, kind: str) -> list[tuple[Diagnostic, bool]]:
    """Diagnostics for every jsonschema error (unlocated), de-duplicated."""
    out: list[tuple[Diagnostic, bool]] = []
    seen: set[tuple[str, str, str]] = set()
    for err in _localized_errors(kind, data, schema(kind), []):
        for diag, at_key in convert_error(err):
            key = (diag.code, diag.pointer, diag.message)
            if key not in seen:
                seen.add(key)
                out.append((diag, at_key))
    return out


_DESCEND = ("properties", "items", "additionalProperties")


def _localized_errors(kind: str, data: Any, node: Any, path: list[Any]) -> Iterable[SchemaError]:
    """jsonschema errors, found by running it only where the fast check fails.

    Why: jsonschema over a whole config costs milliseconds. Members and items
    that pass the compiled check are skipped; at a failing node jsonschema sees
    a shallow copy of the schema (its own keywords, not its members' schemas)
    and this walk descends into the failing members itself.
    """
    compiler = _compiler(kind)
    node = compiler.resolve(node)
    if not isinstance(node, dict) or compiler.check(node)(data):
        if node is False:
            yield from _validator(kind).evolve(schema=False).iter_errors(data)
        return
    shallow = {k: v for k, v in node.items() if k not in _DESCEND}
    props = node.get("properties") or {}
    extra = node.get("additionalProperties", True)
    if props:
        shallow["properties"] = dict.fromkeys(props, True)
    if extra is False:
        shallow["additionalProperties"] = False
    for err in _validator(kind).evolve(schema=shallow).iter_errors(data):
        err.path.extendleft(reversed(path))
        yield err
    if isinstance(data, dict) and json_type(data) in _types(node, "object"):
        for key, value in data.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield from _localized_errors(kind, value, sub, [*path, key])
    elif isinstance(data, list) and isinstance(node.get("items"), dict):
        for index, value in enumerate(data):
            yield from _localized_errors(kind, value, node["items"], [*path, index])


def _types(node: dict[str, Any], default: str) -> tuple[str, ...]:
    spec = node.get("type", default)
    return tuple(spec) if isinstance(spec, list) else (spec,)
