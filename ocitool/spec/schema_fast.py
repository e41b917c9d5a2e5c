"""A fast yes/no JSON Schema check: the schema compiled once into nested closures.

Why: ``jsonschema`` is thorough but costs about a millisecond per config and
its import alone is slow. Almost every config is valid, so ``validate`` first
asks this checker "is it valid?" and only when the answer is no does it run
``jsonschema`` to find out exactly what is wrong and where. Both must agree;
a property test compares them on mutated configs.

Only the keywords our schemas use are supported; compiling a schema with any
other validation keyword raises ``ValueError`` (so the two cannot silently
drift apart).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never affect validity.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
)


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPE_CHECKS: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": _is_integer,
    "number": _is_number,
}


def _strict_equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers (as in jsonschema)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    return bool(a == b)


class Compiler:
    """Compiles (sub)schemas of one root document; each node is compiled once."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}
        self.cache: dict[int, tuple[Any, Check]] = {}

    def resolve(self, node: Any) -> Any:
        """Follow a pure ``{"$ref": ...}`` node to its target (other nodes are returned as is)."""
        while isinstance(node, dict) and "$ref" in node and len(node) == 1:
            target: Any = self.root
            for token in node["$ref"][2:].split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def check(self, node: Any) -> Check:
        """The compiled check for ``node`` (a subschema of the root), cached by identity."""
        hit = self.cache.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        compiled = self.compile(node)
        self.cache[id(node)] = (node, compiled)
        return compiled

    def ref(self, target: str) -> Check:
        if target in self.refs:
            return self.refs[target]
        if not target.startswith("#/"):
            raise ValueError(f"only local $ref is supported: {target}")
        cell: list[Check] = []
        self.refs[target] = lambda v: cell[0](v)  # placeholder for recursive schemas
        node: Any = self.root
        for token in target[2:].split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        compiled = self.compile(node)
        cell.append(compiled)
        self.refs[target] = compiled
        return compiled

    def compile(self, schema: Any) -> Check:  # noqa: C901 - one branch per keyword
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        checks: list[Check] = []
        keys = set(schema) - _ANNOTATIONS
        keys = {k for k in keys if not k.startswith("x-")}
        if "$ref" in keys:
            checks.append(self.ref(schema["$ref"]))
        if "type" in keys:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            fns = [_TYPE_CHECKS[t] for t in types]
            if len(fns) == 1:
                checks.append(fns[0])
            else:
                alternatives = tuple(fns)
                checks.append(lambda v: any(f(v) for f in alternatives))
        if "enum" in keys:
            values = schema["enum"]
            if all(isinstance(x, str) for x in values):
                allowed = frozenset(values)
                checks.append(lambda v: isinstance(v, str) and v in allowed)
            else:
                checks.append(lambda v: any(_strict_equal(v, x) for x in values))
        if "const" in keys:
            const = schema["const"]
            checks.append(lambda v: _strict_equal(v, const))
        checks.extend(self._object(schema, keys))
        checks.extend(self._array(schema, keys))
        checks.extend(self._string(schema, keys))
        checks.extend(self._number(schema, keys))
        checks.extend(self._combinators(schema, keys))
        unknown = keys - _HANDLED
        if unknown:
            raise ValueError(
                f"schema keyword(s) not supported by the fast checker: {sorted(unknown)}"
            )
        if not checks:
            return lambda v: True
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            a, b = checks
            return lambda v: a(v) and b(v)
        chain = tuple(checks)

        def all_checks(v: Any) -> bool:
            for check in chain:  # noqa: SIM110 - faster than all() over a generator here
                if not check(v):
                    return False
            return True

        return all_checks

    def _object(self, schema: dict[str, Any], keys: set[str]) -> list[Check]:
        out: list[Check] = []
        if keys & {"properties", "additionalProperties", "patternProperties"}:
            props = {k: self.compile(s) for k, s in schema.get("properties", {}).items()}
            patterns = [
                (re.compile(p), self.compile(s))
                for p, s in schema.get("patternProperties", {}).items()
            ]
            extra = schema.get("additionalProperties", True)
            extra_check = None if extra is True else self.compile(extra)

            def check_members(v: Any) -> bool:
                if not isinstance(v, dict):
                    return True
                get = props.get
                for key, value in v.items():
                    sub = get(key)
                    matched = sub is not None
                    if matched and not sub(value):  # type: ignore[misc]
                        return False
                    for rx, pcheck in patterns:
                        if rx.search(key):
                            matched = True
                            if not pcheck(value):
                                return False
                    if not matched and extra_check is not None and not extra_check(value):
                        return False
                return True

            out.append(check_members)
        if "required" in keys:
            required = tuple(schema["required"])

            def has_required(v: Any) -> bool:
                if isinstance(v, dict):
                    for k in required:
                        if k not in v:
                            return False
                return True

            out.append(has_required)
        if "dependentRequired" in keys:
            deps = [(k, tuple(d)) for k, d in schema["dependentRequired"].items()]
            out.append(
                lambda v: (
                    not isinstance(v, dict)
                    or all(k not in v or all(d in v for d in ds) for k, ds in deps)
                )
            )
        if "propertyNames" in keys:
            names = self.compile(schema["propertyNames"])
            out.append(lambda v: not isinstance(v, dict) or all(names(k) for k in v))
        if "minProperties" in keys:
            n = schema["minProperties"]
            out.append(lambda v: not isinstance(v, dict) or len(v) >= n)
        return out

    def _array(self, schema: dict[str, Any], keys: set[str]) -> list[Check]:
        out: list[Check] = []
        if "items" in keys:
            item = self.compile(schema["items"])

            def each_item(v: Any) -> bool:
                if isinstance(v, list):
                    for x in v:
                        if not item(x):
                            return False
                return True

            out.append(each_item)
        if "minItems" in keys:
            n = schema["minItems"]
            out.append(lambda v: not isinstance(v, list) or len(v) >= n)
        if "maxItems" in keys:
            m = schema["maxItems"]
            out.append(lambda v: not isinstance(v, list) or len(v) <= m)
        if schema.get("uniqueItems"):

            def unique(v: Any) -> bool:
                if not isinstance(v, list):
                    return True
                for i, a in enumerate(v):
                    for b in v[i + 1 :]:
                        if _strict_equal(a, b):
                            return False
                return True

            out.append(unique)
        return out

    def _string(self, schema: dict[str, Any], keys: set[str]) -> list[Check]:
        out: list[Check] = []
        if "pattern" in keys:
            search = re.compile(schema["pattern"]).search
            out.append(lambda v: not isinstance(v, str) or search(v) is not None)
        if "minLength" in keys:
            lo = schema["minLength"]
            out.append(lambda v: not isinstance(v, str) or len(v) >= lo)
        if "maxLength" in keys:
            hi = schema["maxLength"]
            out.append(lambda v: not isinstance(v, str) or len(v) <= hi)
        return out

    def _number(self, schema: dict[str, Any], keys: set[str]) -> list[Check]:
        out: list[Check] = []
        lo = schema.get("minimum")
        hi = schema.get("maximum")
        if lo is not None or hi is not None:

            def in_range(v: Any) -> bool:
                if not _is_number(v):
                    return True
                return (lo is None or v >= lo) and (hi is None or v <= hi)

            out.append(in_range)
        if "exclusiveMinimum" in keys:
            xlo = schema["exclusiveMinimum"]
            out.append(lambda v: not _is_number(v) or v > xlo)
        if "exclusiveMaximum" in keys:
            xhi = schema["exclusiveMaximum"]
            out.append(lambda v: not _is_number(v) or v < xhi)
        return out

    def _combinators(self, schema: dict[str, Any], keys: set[str]) -> list[Check]:
        out: list[Check] = []
        if "allOf" in keys:
            subs = [self.compile(s) for s in schema["allOf"]]
            out.append(lambda v: all(c(v) for c in subs))
        if "anyOf" in keys:
            any_subs = [self.compile(s) for s in schema["anyOf"]]
            out.append(lambda v: any(c(v) for c in any_subs))
        if "oneOf" in keys:
            one_subs = [self.compile(s) for s in schema["oneOf"]]
            out.append(lambda v: sum(1 for c in one_subs if c(v)) == 1)
        if "not" in keys:
            negated = self.compile(schema["not"])
            out.append(lambda v: not negated(v))
        if "if" in keys:
            cond = self.compile(schema["if"])
            then = self.compile(schema.get("then", True))
            other = self.compile(schema.get("else", True))
            out.append(lambda v: then(v) if cond(v) else other(v))
        return out


_HANDLED = frozenset(
    {
        "$ref", "type", "enum", "const", "properties", "additionalProperties",
        "patternProperties", "required", "dependentRequired", "propertyNames", "minProperties",
        "items", "minItems", "maxItems", "uniqueItems", "pattern", "minLength", "maxLength",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "allOf", "anyOf", "oneOf",
        "not", "if", "then", "else",
    }
)  # fmt: skip


def compile_schema(schema: dict[str, Any]) -> Check:
    """A function that returns True exactly when ``jsonschema`` would find no error."""
    return Compiler(schema).compile(schema)
