"""The model covers the whole runtime-spec: every member our schema knows has a model field.

Walks schemas/config.schema.json from the root (Linux and the common parts),
following $ref, arrays and map values, next to the model records, and
checks that each schema property has a field of the matching (snake_case)
name, or is a map key that the model turns into a node field.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ocitool import records
from ocitool.spec import model as m

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schemas" / "config.schema.json").read_text())
# Platforms other than Linux are kept raw (Spec.other_platforms), not modelled.
OTHER_PLATFORMS = {"windows", "solaris", "vm", "zos", "freebsd"}
SPECIAL = {"class": "klass"}


def snake(name: str) -> str:
    if name in SPECIAL:
        return SPECIAL[name]
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def node_class(annotation: Any) -> type | None:
    """The Node class inside Optional[...] / tuple[..., ...], if any."""
    if isinstance(annotation, type) and issubclass(annotation, m.Node):
        return annotation
    for arg in typing.get_args(annotation):
        found = node_class(arg)
        if found is not None:
            return found
    return None


def walk(schema: dict[str, Any], cls: type, where: str, missing: list[str]) -> None:
    schema = resolve(schema)
    if schema.get("type") == "array" and "items" in schema:
        walk(schema["items"], cls, where + "[]", missing)
        return
    props = schema.get("properties")
    if props is None and isinstance(schema.get("additionalProperties"), dict):
        # a map (timeOffsets, netDevices, rdma): the key becomes a field of the node
        walk(schema["additionalProperties"], cls, where + "{}", missing)
        return
    hints = typing.get_type_hints(cls, {**vars(typing), **vars(m), "Mapping": Mapping})
    fields = set(records.fields(cls))
    for name, sub in (props or {}).items():
        if where == "" and name in OTHER_PLATFORMS:
            continue
        field = snake(name)
        if field not in fields:
            missing.append(f"{where}/{name} (no field {cls.__name__}.{field})")
            continue
        child = node_class(hints[field])
        if child is not None:
            walk(sub, child, f"{where}/{name}", missing)


def test_every_schema_member_has_a_model_field() -> None:
    missing: list[str] = []
    walk(SCHEMA, m.Spec, "", missing)
    assert not missing, "model lacks: " + "; ".join(missing)


def test_walk_reaches_deep_nodes() -> None:
    seen: list[str] = []

    def spy(schema: dict[str, Any], cls: type, where: str, missing: list[str]) -> None:
        seen.append(cls.__name__)
        original(schema, cls, where, missing)

    global walk
    original = walk
    walk = spy  # type: ignore[assignment]
    try:
        original(SCHEMA, m.Spec, "", [])
    finally:
        walk = original
    for name in (
        "SeccompArg",
        "ThrottleDevice",
        "Rdma",
        "TimeOffset",
        "NetDevice",
        "IDMapping",
        "InterfacePriority",
        "Hook",
        "Scheduler",
        "IntelRdt",
        "MemoryPolicy",
    ):
        assert name in seen, name
