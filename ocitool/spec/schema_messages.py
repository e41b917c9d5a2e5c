"""Turn jsonschema errors into specific diagnostics: what was wrong, what was allowed, a fix.

Why a module of its own: jsonschema's messages ("is not valid under any of the
given schemas") say neither where nor what to do. Each validator kind maps to
a stable code (OCI201-OCI210, see ``ocitool.spec.schema``) and a message built
from the value, the schema's ``x-expected`` / ``x-hint`` / ``x-aliases``
annotations and the closest allowed spelling.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ocitool.errors import Diagnostic
from ocitool.redact import env_value, is_env_pointer
from ocitool.spec.load import join_pointer

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaError

SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:[-+].*)?$")

_JSON_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "boolean": "a boolean (true or false)",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}


def _pointer(path: Iterable[Any]) -> str:
    ptr = ""
    for token in path:
        ptr = join_pointer(ptr, token)
    return ptr


def dotted(pointer_path: Iterable[Any]) -> str:
    """``linux.namespaces[0].type`` for a path (readable in messages)."""
    text = ""
    for token in pointer_path:
        if isinstance(token, int):
            text += f"[{token}]"
        else:
            text += f".{token}" if text else str(token)
    return text or "the document"


def show(value: Any, limit: int = 60) -> str:
    """A short JSON rendering of a value for messages."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _close(word: Any, choices: Iterable[Any]) -> str | None:
    if not isinstance(word, str):
        return None
    options = [c for c in choices if isinstance(c, str)]
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return match[0] if match else None


def _expected(err: SchemaError, fallback: str) -> str:
    sub = err.schema if isinstance(err.schema, dict) else {}
    return str(sub.get("x-expected") or fallback)


def _hint(err: SchemaError) -> str | None:
    sub = err.schema if isinstance(err.schema, dict) else {}
    hint = sub.get("x-hint")
    return str(hint) if hint else None


def _type_hint(value: Any, wanted: Any, want: str) -> str:
    """Suggest the fix for the common slips: quoted numbers and booleans, a lone value."""
    types = wanted if isinstance(wanted, list) else [wanted]
    if isinstance(value, str):
        text = value.strip()
        if "boolean" in types and text in ("true", "false"):
            return f"write {text} without quotes"
        if ("integer" in types or "number" in types) and re.fullmatch(r"-?[0-9]+", text):
            return f"write {text} without quotes"
    if "array" in types and not isinstance(value, list):
        return f"wrap the value in a list: [{show(value, 40)}]"
    return f"change the value to {want}"


def _pattern_hint(value: Any, expected: str, pattern: str) -> str | None:
    """Try the usual slips (relative path, missing unit, case, separators); name a fix that works."""
    if isinstance(value, str):
        if "absolute path" in expected and not value.startswith("/"):
            return f'start the path with "/", e.g. "/{value}"'
        candidates = [value.strip(), value + "B", value.upper(), value.replace(";", ","),
                      value.replace(" ", ""), value.replace("\n", "")]  # fmt: skip
        try:
            rx = re.compile(pattern)
        except re.error:
            rx = None
        for candidate in candidates:
            if rx is not None and candidate != value and rx.search(candidate):
                return f'did you mean "{candidate}"?'
    return None


def _range_hint(sub: Any) -> str:
    sub = sub if isinstance(sub, dict) else {}
    lo, hi = sub.get("minimum"), sub.get("maximum")
    if lo is not None and hi is not None:
        return f"use a value from {lo} to {hi}"
    if lo is not None:
        return f"use a value of at least {lo}"
    if hi is not None:
        return f"use a value of at most {hi}"
    return "use a value in the allowed range"


def _type_names(spec: Any) -> str:
    types = spec if isinstance(spec, list) else [spec]
    return " or ".join(_JSON_TYPE_NAMES.get(str(t), str(t)) for t in types)


class _EnvHidden:
    """A schema error under an ``env`` whose messages may not show the value (ocitool.redact)."""

    def __init__(self, err: SchemaError) -> None:
        self._err = err
        self.instance = env_value(err.instance)
        self.message = "the value is hidden (environment)"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._err, name)


def convert_error(err: SchemaError) -> list[tuple[Diagnostic, bool]]:  # noqa: C901 - a dispatch table
    if is_env_pointer(_pointer(err.absolute_path)) and not isinstance(err, _EnvHidden):
        err = _EnvHidden(err)  # type: ignore[assignment]
    path = list(err.absolute_path)
    ptr = _pointer(path)
    name = dotted(path)
    value = err.instance
    kind = err.validator
    if path == ["ociVersion"] and kind in ("type", "pattern"):
        return [(version_error(value), False)]
    if kind in ("anyOf", "oneOf"):
        return _convert_alternatives(err, name, ptr)
    if "propertyNames" in err.relative_schema_path:
        return _convert_property_name(err, name, ptr)
    if kind == "type":
        want = _type_names(err.validator_value)
        expected = _expected(err, want)
        got = "null" if value is None else f"{json_type(value)} {show(value)}"
        msg = f"{name} must be {want}, not {got}"
        hint = _hint(err) or _type_hint(value, err.validator_value, want)
        return [(_diag("OCI201", msg, ptr, expected, hint), False)]
    if kind in ("enum", "const"):
        allowed = err.validator_value if kind == "enum" else [err.validator_value]
        listed = ", ".join(str(a) for a in allowed)
        expected = _expected(err, f"one of {listed}")
        aliases = err.schema.get("x-aliases", {}) if isinstance(err.schema, dict) else {}
        guess = aliases.get(value) if isinstance(value, str) else None
        guess = guess or _close(value, allowed)
        hint = f'did you mean "{guess}"?' if guess else f"allowed values: {listed}"
        msg = f"{name} is {show(value)}, which is not {expected}"
        if len(allowed) <= 12:
            msg += f" (allowed: {listed})"
        return [(_diag("OCI202", msg, ptr, expected, hint), False)]
    if kind == "required":
        return _convert_required(err, path, name)
    if kind == "dependentRequired":
        out = []
        for member, needs in err.validator_value.items():
            if isinstance(value, dict) and member in value:
                for need in needs:
                    if need not in value:
                        msg = f"{name}.{member} is set, so {name}.{need} must be set too"
                        hint = f"add '{need}' next to '{member}', or remove '{member}'"
                        diag = _diag("OCI208", msg, join_pointer(ptr, member), f"'{need}'", hint)
                        out.append((diag, True))
        return out
    if kind == "additionalProperties":
        return _convert_unknown(err, path, ptr)
    if kind in ("pattern", "format"):
        expected = _expected(err, f"text matching {err.validator_value}")
        msg = f"{name} is {show(value)}, which is not {expected}"
        fix = _pattern_hint(value, expected, str(err.validator_value)) or _hint(err)
        return [(_diag("OCI204", msg, ptr, expected, fix or f"write {expected}"), False)]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = err.validator_value
        relation = {
            "minimum": f"below the minimum {bound}",
            "maximum": f"above the maximum {bound}",
            "exclusiveMinimum": f"not greater than {bound}",
            "exclusiveMaximum": f"not less than {bound}",
        }[kind]
        expected = _expected(err, relation)
        msg = f"{name} is {show(value)}, {relation}; expected {expected}"
        hint = _hint(err) or _range_hint(err.schema)
        return [(_diag("OCI206", msg, ptr, expected, hint), False)]
    if kind in ("minItems", "maxItems", "minLength", "maxLength", "uniqueItems", "minProperties"):
        return [(_convert_size(err, kind, name, ptr, value), False)]
    if kind == "false":
        msg = f"{name} is not allowed here"
        return [(_diag("OCI209", msg, ptr, None, "remove it"), False)]
    msg = f"{name} breaks the schema rule '{kind}': {err.message}"
    return [(_diag("OCI209", msg, ptr, None, "see docs/validate.md"), False)]


def _diag(code: str, message: str, pointer: str, expected: str | None, hint: str | None,
          severity: str = "error") -> Diagnostic:  # fmt: skip
    return Diagnostic(
        code=code, message=message, pointer=pointer, expected=expected, hint=hint,
        severity=severity,  # type: ignore[arg-type]
    )  # fmt: skip


def _convert_required(
    err: SchemaError, path: list[Any], name: str
) -> list[tuple[Diagnostic, bool]]:
    value = err.instance
    missing = [m for m in err.validator_value if not (isinstance(value, dict) and m in value)]
    out = []
    for member in missing:
        msg = f"{name} is missing the required member '{member}'"
        where = err.schema.get("x-required-hint") if isinstance(err.schema, dict) else None
        hint = str(where) if where else f'add "{member}" to {name}'
        diag = _diag("OCI203", msg, _pointer([*path, member]), f"'{member}'", hint)
        out.append((diag, False))
    return out


def _convert_unknown(err: SchemaError, path: list[Any], ptr: str) -> list[tuple[Diagnostic, bool]]:
    value = err.instance if isinstance(err.instance, dict) else {}
    known = list((err.schema.get("properties") or {}).keys())
    patterns = [re.compile(p) for p in (err.schema.get("patternProperties") or {})]
    where = dotted(path)
    out = []
    for member in value:
        if member in known or any(p.search(member) for p in patterns):
            continue
        guess = _close(member, known)
        if guess:
            hint = f"did you mean '{guess}'? runtimes ignore members they do not know"
        else:
            hint = "runtimes ignore unknown members; check the spelling or remove it"
        msg = f"unknown member '{member}' in {where}"
        diag = _diag("OCI205", msg, join_pointer(ptr, member), None, hint, "warning")
        out.append((diag, True))
    return out


def _convert_property_name(err: SchemaError, name: str, ptr: str) -> list[tuple[Diagnostic, bool]]:
    """A member name rejected by ``propertyNames`` (jsonschema reports the name as the instance)."""
    member = err.instance
    sub = err.schema if isinstance(err.schema, dict) else {}
    allowed = list(sub.get("enum") or [])
    if sub.get("x-expected"):
        expected = str(sub["x-expected"])
    elif err.validator == "minLength":
        expected = "a non-empty name"
    elif allowed:
        expected = "one of " + ", ".join(str(a) for a in allowed)
    else:
        expected = "a valid member name"
    guess = _close(member, allowed) if allowed else None
    hint = f"did you mean '{guess}'?" if guess else f"rename the member to {expected}"
    msg = f"{name} has the member name {show(member)}, which is not {expected}"
    code = "OCI202" if err.validator == "enum" else "OCI204"
    target = join_pointer(ptr, member) if isinstance(member, str) else ptr
    return [(_diag(code, msg, target, expected, hint), True)]


def _convert_size(err: SchemaError, kind: str, name: str, ptr: str, value: Any) -> Diagnostic:
    bound = err.validator_value
    if kind == "minItems":
        msg = f"{name} has {len(value)} entries; at least {bound} required"
        expected = f"at least {bound} entr{'y' if bound == 1 else 'ies'}"
    elif kind == "maxItems":
        msg = f"{name} has {len(value)} entries; at most {bound} allowed"
        expected = f"at most {bound} entries"
    elif kind == "minLength":
        msg = f"{name} is {show(value)}; it must not be shorter than {bound} character(s)"
        expected = _expected(err, f"at least {bound} character(s)")
    elif kind == "maxLength":
        msg = f"{name} is {len(value)} characters long; at most {bound} allowed"
        expected = _expected(err, f"at most {bound} characters")
    elif kind == "minProperties":
        msg = f"{name} must have at least {bound} member(s)"
        expected = f"at least {bound} member(s)"
    else:
        msg = f"{name} lists the same entry more than once"
        expected = "unique entries"
    hint = _hint(err) or {
        "minItems": "add the missing entries",
        "maxItems": "remove entries",
        "minLength": "give a non-empty value, or leave the member out",
        "maxLength": "shorten the value",
        "minProperties": "add members, or leave the object out",
    }.get(kind, "remove the repeated entries")
    return _diag("OCI207", msg, ptr, expected, hint)


def _convert_alternatives(err: SchemaError, name: str, ptr: str) -> list[tuple[Diagnostic, bool]]:
    context = list(err.context or [])
    if context and all(e.validator == "required" for e in context):
        options = [str(e.validator_value[0]) for e in context if e.validator_value]
        listed = ", ".join(f"'{o}'" for o in options)
        msg = f"{name} must set at least one of {listed}"
        hint = f"add one of {listed} (both are allowed)"
        return [(_diag("OCI208", msg, ptr, f"at least one of {listed}", hint), False)]
    if context:
        from jsonschema.exceptions import best_match

        best = best_match(context)
        if best is not None:
            return convert_error(best)
    msg = f"{name} ({show(err.instance)}) matches none of the allowed forms"
    return [(_diag("OCI209", msg, ptr, None, "see docs/validate.md"), False)]


# ------------------------------------------------------------ ociVersion


def version_error(value: Any) -> Diagnostic:
    hint = 'runtime-spec versions are SemVer, e.g. "1.3.0" (runc writes "1.0.2-dev")'
    expected = "a runtime-spec 1.x version such as 1.3.0"
    if isinstance(value, str):
        match = SEMVER.match(value)
        if match and match.group(1) != "1":
            major = match.group(1)
            msg = (
                f"ociVersion {value} has major version {major}; "
                "ocitool understands runtime-spec 1.x"
            )
            hint = "a new major version may change meanings; use a runtime that supports it"
            return _diag("OCI210", msg, "/ociVersion", expected, hint)
        msg = f"ociVersion {show(value)} is not a SemVer 2.0.0 version"
    else:
        msg = f"ociVersion must be a string, not {json_type(value)} {show(value)}"
    return _diag("OCI210", msg, "/ociVersion", expected, hint)
