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

import difflib
import json
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeGuard

from ocitool.errors import Diagnostic
from ocitool.resources import resource_path
from ocitool.spec.load import Document, join_pointer
from ocitool.spec.schema_fast import Compiler

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaError

KINDS = ("config", "state", "features")
KNOWN_MINOR = 3  # runtime-spec 1.3 is the newest version ocitool knows

_SCHEMAS: dict[str, dict[str, Any]] = {}
_FAST: dict[str, Callable[[Any], bool]] = {}
_COMPILERS: dict[str, Compiler] = {}
_VALIDATORS: dict[str, Any] = {}

_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:[-+].*)?$")

_JSON_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "boolean": "a boolean (true or false)",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}


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
        found.extend((d, False) for d in _version_checks(data, kind, found))
        if kind == "config":
            found.extend((d, False) for d in _consistency_checks(data))
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
        for diag, at_key in _convert(err):
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


def _convert(err: SchemaError) -> list[tuple[Diagnostic, bool]]:  # noqa: C901 - a dispatch table
    path = list(err.absolute_path)
    ptr = _pointer(path)
    name = dotted(path)
    value = err.instance
    kind = err.validator
    if path == ["ociVersion"] and kind in ("type", "pattern"):
        return [(_version_error(value), False)]
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
            return _convert(best)
    msg = f"{name} ({show(err.instance)}) matches none of the allowed forms"
    return [(_diag("OCI209", msg, ptr, None, "see docs/validate.md"), False)]


# ------------------------------------------------------------ beyond the schema


def _version_error(value: Any) -> Diagnostic:
    hint = 'runtime-spec versions are SemVer, e.g. "1.3.0" (runc writes "1.0.2-dev")'
    expected = "a runtime-spec 1.x version such as 1.3.0"
    if isinstance(value, str):
        match = _SEMVER.match(value)
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


def _version_checks(
    data: dict[str, Any], kind: str, found: list[tuple[Diagnostic, bool]]
) -> list[Diagnostic]:
    if kind != "config" or any(d.code == "OCI210" for d, _ in found):
        return []
    version = data.get("ociVersion")
    match = _SEMVER.match(version) if isinstance(version, str) else None
    if match and match.group(1) == "1" and int(match.group(2)) > KNOWN_MINOR:
        msg = (
            f"ociVersion {version} is newer than runtime-spec 1.{KNOWN_MINOR}, the newest "
            "ocitool knows; fields added later are reported as unknown"
        )
        return [
            Diagnostic(
                code="OCI211",
                message=msg,
                pointer="/ociVersion",
                severity="warning",
                expected=f"1.0.0 to 1.{KNOWN_MINOR}.x",
                hint="1.x versions are backward compatible, so this usually works",
            )  # fmt: skip
        ]
    return []


def _duplicates(items: Any, field: str, base: str, what: str) -> list[Diagnostic]:
    if not isinstance(items, list):
        return []
    first: dict[str, int] = {}
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get(field), str):
            continue
        value = item[field]
        if value in first:
            msg = (
                f"{what} {show(value)} is listed twice ({base}[{first[value]}] and "
                f"{base}[{index}]); runtimes must refuse this"
            )
            pointer = "/" + base.replace(".", "/") + f"/{index}/{field}"
            out.append(
                Diagnostic(
                    code="OCI212",
                    message=msg,
                    pointer=pointer,
                    expected=f"each {what} at most once",
                    hint="merge the entries into one",
                )  # fmt: skip
            )
        else:
            first[value] = index
    return out


def _int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _conflict(message: str, pointer: str, expected: str, hint: str) -> Diagnostic:
    return Diagnostic(code="OCI213", message=message, pointer=pointer, expected=expected, hint=hint)


_NO_ERRNO_ACTIONS = frozenset(
    "SCMP_ACT_" + a
    for a in ("KILL", "KILL_PROCESS", "KILL_THREAD", "TRAP", "ALLOW", "LOG", "NOTIFY")
)
_MPOL_NO_NODES = ("MPOL_DEFAULT", "MPOL_LOCAL")
_MPOL_NEED_NODES = (
    "MPOL_BIND",
    "MPOL_INTERLEAVE",
    "MPOL_WEIGHTED_INTERLEAVE",
    "MPOL_PREFERRED_MANY",
)


def _cpu_checks(cpu: Any) -> list[Diagnostic]:
    if not isinstance(cpu, dict):
        return []
    quota, burst = cpu.get("quota"), cpu.get("burst")
    if _int(quota) and _int(burst) and quota > 0 and burst > quota:
        return [
            _conflict(
                f"linux.resources.cpu.burst ({burst}) is larger than quota ({quota})",
                "/linux/resources/cpu/burst",
                f"a burst of at most {quota}",
                "runtime-spec: burst MUST be no larger than any positive quota",
            )
        ]
    return []


def _seccomp_checks(seccomp: Any) -> list[Diagnostic]:
    """errnoRet only goes with actions that return an errno (the runtime MUST fail otherwise)."""
    if not isinstance(seccomp, dict):
        return []
    out = []
    action = seccomp.get("defaultAction")
    if "defaultErrnoRet" in seccomp and isinstance(action, str) and action in _NO_ERRNO_ACTIONS:
        out.append(
            _conflict(
                f"linux.seccomp.defaultErrnoRet is set but defaultAction {action} returns no errno",
                "/linux/seccomp/defaultErrnoRet",
                "defaultAction SCMP_ACT_ERRNO or SCMP_ACT_TRACE",
                "remove defaultErrnoRet, or use SCMP_ACT_ERRNO as the default action",
            )
        )
    syscalls = seccomp.get("syscalls")
    for index, rule in enumerate(syscalls if isinstance(syscalls, list) else []):
        if not isinstance(rule, dict) or "errnoRet" not in rule:
            continue
        action = rule.get("action")
        if isinstance(action, str) and action in _NO_ERRNO_ACTIONS:
            out.append(
                _conflict(
                    f"linux.seccomp.syscalls[{index}].errnoRet is set but action {action} "
                    "returns no errno",
                    f"/linux/seccomp/syscalls/{index}/errnoRet",
                    "action SCMP_ACT_ERRNO or SCMP_ACT_TRACE",
                    "remove errnoRet, or use SCMP_ACT_ERRNO",
                )
            )
    return out


def _memory_policy_checks(policy: Any) -> list[Diagnostic]:
    """set_mempolicy(2) refuses nodes for some modes and needs them for others."""
    if not isinstance(policy, dict) or not isinstance(policy.get("mode"), str):
        return []
    mode, nodes = policy["mode"], policy.get("nodes")
    has_nodes = isinstance(nodes, str) and nodes != ""
    if mode in _MPOL_NO_NODES and has_nodes:
        return [
            _conflict(
                f"linux.memoryPolicy.nodes is {show(nodes)} but mode {mode} takes no nodes",
                "/linux/memoryPolicy/nodes",
                f"no nodes with {mode}",
                "remove nodes, or choose a mode such as MPOL_BIND",
            )
        ]
    if mode in _MPOL_NEED_NODES and not has_nodes and (nodes is None or isinstance(nodes, str)):
        return [
            _conflict(
                f"linux.memoryPolicy.mode {mode} needs at least one node in 'nodes'",
                "/linux/memoryPolicy/mode",
                f'nodes such as "0-1" with {mode}',
                'add "nodes", e.g. "0-1"',
            )
        ]
    return []


def _rlimit_checks(rlimits: Any) -> list[Diagnostic]:
    out = []
    for index, item in enumerate(rlimits if isinstance(rlimits, list) else []):
        if not isinstance(item, dict):
            continue
        soft, hard = item.get("soft"), item.get("hard")
        if _int(soft) and _int(hard) and soft > hard:
            out.append(
                _conflict(
                    f"process.rlimits[{index}].soft ({soft}) is above its hard limit ({hard})",
                    f"/process/rlimits/{index}/soft",
                    f"a soft limit of at most {hard}",
                    "setrlimit(2) refuses a soft limit above the hard limit; lower soft",
                )
            )
    return out


def _consistency_checks(data: dict[str, Any]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    linux = data.get("linux")
    process = data.get("process")
    if isinstance(linux, dict):
        out += _duplicates(linux.get("namespaces"), "type", "linux.namespaces", "namespace type")
        resources = linux.get("resources")
        out += _cpu_checks(resources.get("cpu") if isinstance(resources, dict) else None)
        out += _seccomp_checks(linux.get("seccomp"))
        out += _memory_policy_checks(linux.get("memoryPolicy"))
    if isinstance(process, dict):
        out += _duplicates(process.get("rlimits"), "type", "process.rlimits", "rlimit")
        out += _rlimit_checks(process.get("rlimits"))
    return out
