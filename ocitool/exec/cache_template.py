"""Plan templates: one lowering serves every container an engine creates from the same image.

podman (and CRI engines) write a new config.json per container: it holds the
container's 64-hex id (in mount sources, the cgroup path, the bundle path),
its 12-hex short form (hostname, HOSTNAME=), the overlay layer's own 64-hex
id (root.path), and a creation timestamp annotation. So the plan cache of
:mod:`ocitool.exec.fastplan`, keyed on the exact config, never hits there,
and every ``create`` pays ~100 ms of model imports and lowering.

A template is the lowered plan with those ids replaced by placeholders. Its
key is the config with the same replacement, minus ``annotations`` (lowering
reads none; they are still checked to be a string map), plus the bundle path,
the host facts and the code stamps fastplan uses. On a hit the placeholders
get the new ids.

Correctness: the plan must be exactly what lowering would give. That holds
only if lowering treats the ids as opaque strings (copies them, never slices,
hashes or compares them). This is checked, not assumed: when a template is
stored, the config is lowered a second time with every id replaced by a
different id of the same shape, and the template is kept only if both plans
reduce to the same template. A config where an id is used any other way
(a truncation we do not model, a hash, a length-dependent choice) fails
that check and is simply not templated.
"""

from __future__ import annotations

from ocitool.exec import fastplan
from ocitool.exec.syscalls import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

FORMAT = 1
SHORT = 12  # the short id engines use as hostname (docker/podman convention)
_HEX = "0123456789abcdef"
# every ASCII character that is not a lowercase hex digit becomes a separator
_SPLIT = {c: " " for c in range(128) if chr(c) not in _HEX}
# the variant used for the equivariance check: each hex digit shifted by 7
_SHIFT = str.maketrans(_HEX, _HEX[7:] + _HEX[:7])


def placeholder(i: int) -> str:
    return f"\x00ocitool-t{i}\x00"


def is_hex_id(s: str) -> bool:
    return len(s) == 64 and not s.strip(_HEX)


class Template:
    """The normalized form of one create request."""

    __slots__ = ("tokens", "text", "data", "annotations", "bundle", "name", "blob")

    def __init__(
        self,
        tokens: list[str],
        text: str,
        data: dict[str, Any],
        annotations: dict[str, str],
        bundle: str,
    ) -> None:
        self.tokens, self.text, self.data = tokens, text, data
        self.annotations, self.bundle = annotations, bundle
        norm = subst(text, tokens, None) + "\0" + subst(bundle, tokens, None)
        self.blob = b"\0".join(
            [
                str(FORMAT).encode(),
                norm.encode(),
                fastplan.host_fingerprint(),
                fastplan.code_fingerprint(),
            ]
        )
        import zlib

        self.name = f"t-{zlib.crc32(self.blob):08x}-{len(self.blob)}"


def subst(s: str, tokens: list[str], values: list[str] | None) -> str:
    """tokens -> placeholders (values None), or placeholders -> values."""
    if values is None:
        for i, tok in enumerate(tokens):
            s = s.replace(tok, placeholder(i))
    else:
        for i, val in enumerate(values):
            s = s.replace(placeholder(i), val)
    return s


def _walk(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list | tuple):
        return type(value)(_walk(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: _walk(v, fn) for k, v in value.items()}
    return value


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(name)


class _Strict:
    """The decoder settings ``_json``'s C scanner reads (as json.JSONDecoder's attributes)."""

    strict = True
    object_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str] = {}
    object_pairs_hook = staticmethod(_no_dupes)
    parse_constant = staticmethod(_no_constant)


def loads(config: bytes) -> Any:
    """json.loads, strict (no duplicate keys, no NaN), without importing ``json``: the
    package pulls in ``re`` and ``enum`` (~6 ms per create); its C scanner does not."""
    text = config.decode("utf-8")
    try:
        from _json import make_scanner
    except ImportError:  # another Python: the package, same settings
        import json

        return json.loads(text, object_pairs_hook=_no_dupes, parse_constant=_no_constant)
    ws = " \t\n\r"
    start = len(text) - len(text.lstrip(ws))
    try:
        value, end = make_scanner(_Strict())(text, start)  # type: ignore[arg-type]
    except StopIteration as exc:
        raise ValueError("not JSON") from exc
    if text[end:].strip(ws):
        raise ValueError("extra data")
    return value


def prepare(config: bytes, bundle: str, cid: str) -> Template | None:
    """A Template for this request, or None when it is not one we template:
    the id must be a 64-hex id, the config plain JSON with string annotations."""
    if not is_hex_id(cid):
        return None
    try:
        data = loads(config)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    annotations = data.pop("annotations", {})
    if not isinstance(annotations, dict) or not all(
        isinstance(v, str) for v in annotations.values()
    ):
        return None
    # the key's text: repr is deterministic for JSON values, keeps key order (which
    # lowering follows, e.g. for sysctls) and needs no import
    text = repr(data)
    tokens = [cid]
    for word in (text + " " + bundle).translate(_SPLIT).split():
        if is_hex_id(word) and word not in tokens:
            tokens.append(word)
    tokens.append(cid[:SHORT])  # after the full ids: it is their prefix
    return Template(tokens, text, data, annotations, bundle)


def _rows(ops: Any, tokens: list[str]) -> list[Any]:
    """Plan ops as plain data (the fastplan row form) with ``tokens`` as placeholders."""

    def norm(s: str) -> str:
        return subst(s, tokens, None)

    rows = []
    for op in ops:
        ph = op.phase
        fields = _walk(fastplan.op_fields(op), norm)
        text = norm(op.text())
        source = op.source
        marked = "\x00ocitool-t" in text or fastplan._contains(fields, "\x00ocitool-t")
        rows.append(
            (op.name, (ph.value, ph.order, ph.process, ph.command), source, text, fields, marked)
        )
    return rows


def variant(t: Template) -> tuple[list[str], str, str]:
    """(tokens, config text, bundle) with every id replaced by a different one of the same shape."""
    import json

    values = [tok.translate(_SHIFT) for tok in t.tokens]
    text = json.dumps(t.data, ensure_ascii=False)
    text = subst(subst(text, t.tokens, None), t.tokens, values)
    bundle = subst(subst(t.bundle, t.tokens, None), t.tokens, values)
    return values, text, bundle


def store(
    root: str,
    t: Template,
    ops: Any,
    meta: dict[str, Any],
    relower: Callable[[str, str, str], tuple[Any, dict[str, Any]]],
) -> bool:
    """Save the template of ``ops`` if lowering the variant request gives the same template.

    ``relower(config_text, bundle, cid) -> (ops, meta)`` lowers a config (pure).
    Returns whether a template was stored.
    """
    rows = _rows(ops, t.tokens)
    meta_t = _walk(
        {"rootfs": meta["rootfs"], "terminal": bool(meta["terminal"])},
        lambda s: subst(s, t.tokens, None),
    )
    values, text_v, bundle_v = variant(t)
    try:
        ops_v, meta_v = relower(text_v, bundle_v, values[0])
    except Exception:  # noqa: BLE001 - a variant that does not lower is just not templated
        return False
    rows_v = _rows(ops_v, values)
    meta_vt = _walk(
        {"rootfs": meta_v["rootfs"], "terminal": bool(meta_v["terminal"])},
        lambda s: subst(s, values, None),
    )
    if rows_v != rows or meta_vt != meta_t:
        return False
    return fastplan.write_entry(root, t.name, FORMAT, t.blob, meta_t, rows)


def load(root: str, t: Template) -> tuple[list[Any], dict[str, Any]] | None:
    """(ops in fastplan's light form, meta) with this request's ids, or None."""
    entry = fastplan.read_entry(root, t.name, FORMAT, t.blob)
    if entry is None:
        return None
    meta, rows = entry

    def fill(s: str) -> str:
        return subst(s, [], t.tokens) if "\x00" in s else s

    phases: dict[str, fastplan.FastPhase] = {}
    ops = []
    for name, (value, order, process, command), source, text, fields, marked in rows:
        phase = phases.get(value)
        if phase is None:
            phase = phases[value] = fastplan.FastPhase(value, order, process, command)
        if marked:
            text, fields = fill(text), _walk(fields, fill)
        ops.append(fastplan.FastOp(name, phase, source, text, fields))
    return ops, _walk(meta, fill)
