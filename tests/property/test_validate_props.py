"""Properties of load + validate on randomly damaged configs.

* Nothing but :class:`OciToolError` subclasses ever escapes, whatever the damage
  (type swaps, deletions, corrupted enum values, unknown members, cut text).
* Every diagnostic is located, and its pointer resolves in the document (for a
  missing required member: its parent does).
* The fast pre-check and jsonschema agree, running jsonschema only on the
  rejected subtrees finds the same errors as running it on everything, and a
  schema finding is reported exactly when jsonschema says the document is invalid.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ocitool.errors import OciToolError
from ocitool.spec.load import join_pointer, parse_text, resolve_pointer, split_pointer
from ocitool.spec.schema import _localized_errors, fast_check, schema, validate_config

ROOT = Path(__file__).resolve().parents[2]
BASES = [
    json.loads((ROOT / "examples" / name / "config.json").read_text())
    for name in ("full", "busybox", "rootless")
]
SCHEMA_CODES = {f"OCI2{n:02d}" for n in range(1, 11)}
SLOW = Draft202012Validator(schema("config"))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

REPLACEMENTS: list[Any] = [
    None, True, False, 0, -1, 1.5, 2**64, -(2**63) - 1, "", "x", "/abs", "CAP_NOPE",
    [], [1], {}, {"k": "v"}, "1.0.0", 1e300,
]  # fmt: skip


def pointers(value: Any, base: str = "") -> list[str]:
    out = [base]
    if isinstance(value, dict):
        for key, child in value.items():
            out += pointers(child, join_pointer(base, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += pointers(child, join_pointer(base, index))
    return out


def parent_of(doc: Any, pointer: str) -> tuple[Any, str]:
    *parents, last = split_pointer(pointer)
    node = doc
    for token in parents:
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node, last


def corrupt(value: str, how: int) -> str:
    if how == 0:
        return value.lower()
    if how == 1:
        return value + "X"
    if how == 2:
        return value[:-1]
    return value.replace("_", "-")


@st.composite
def mutated_configs(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        targets = pointers(doc)
        pointer = draw(st.sampled_from(targets))
        op = draw(st.sampled_from(["swap", "delete", "enum", "unknown", "dup"]))
        if pointer == "":
            if op == "swap":
                doc = draw(st.sampled_from(REPLACEMENTS))
            continue
        parent, last = parent_of(doc, pointer)
        key: Any = int(last) if isinstance(parent, list) else last
        current = parent[key]
        if op == "swap":
            parent[key] = draw(st.sampled_from(REPLACEMENTS))
        elif op == "delete":
            del parent[key]
        elif op == "enum" and isinstance(current, str):
            parent[key] = corrupt(current, draw(st.integers(0, 3)))
        elif op == "unknown" and isinstance(current, dict):
            current[draw(st.sampled_from(["extra", "Terminal", "x-y", "", "pid"]))] = 1
        elif op == "dup" and isinstance(current, list) and current:
            current.append(copy.deepcopy(current[0]))
        if not isinstance(doc, dict | list):
            break
    return doc


def check_located(text: str, data: Any) -> None:
    doc = parse_text(text, "m.json")
    diags = validate_config(doc)
    for diag in diags:
        assert diag.line is not None and diag.column is not None, diag.render()
        assert diag.path == "m.json"
        assert "is not valid under any of the given schemas" not in diag.message
        assert diag.message
        try:
            resolve_pointer(data, diag.pointer)
        except KeyError:
            assert diag.code == "OCI203", diag.render()
            parent = diag.pointer.rsplit("/", 1)[0]
            resolve_pointer(data, parent)
    valid = SLOW.is_valid(data)
    assert fast_check("config")(data) == valid
    everywhere = {(tuple(e.absolute_path), e.validator) for e in SLOW.iter_errors(data)}
    localized = {
        (tuple(e.absolute_path), e.validator)
        for e in _localized_errors("config", data, schema("config"), [])
    }
    assert localized == everywhere
    assert any(d.code in SCHEMA_CODES for d in diags) == (not valid), [d.render() for d in diags]


@SETTINGS
@given(mutated_configs(), st.sampled_from([None, 1, 2]))
def test_mutated_configs_give_located_resolvable_diagnostics(data: Any, indent: int | None) -> None:
    text = json.dumps(data, indent=indent)
    check_located(text, data)


@SETTINGS
@given(st.sampled_from(BASES), st.integers(0, 10**9), st.sampled_from([None, 2]))
def test_truncated_text_only_raises_ocitool_errors(base: Any, cut: int, indent: int | None) -> None:
    text = json.dumps(base, indent=indent)
    text = text[: cut % max(1, len(text))]
    try:
        doc = parse_text(text, "cut.json")
    except OciToolError as err:
        for diag in err.as_diagnostics():
            assert diag.code.startswith("OCI1")
            assert diag.line is not None
        return
    validate_config(doc)


@SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_only_raise_ocitool_errors(raw: bytes) -> None:
    from ocitool.spec.load import decode_bytes

    try:
        doc = parse_text(decode_bytes(raw, "raw.json"), "raw.json")
    except OciToolError:
        return
    for diag in validate_config(doc):
        assert diag.code.startswith("OCI2")
