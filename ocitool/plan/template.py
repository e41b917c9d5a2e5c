"""Plan templates: one lowering serves every container an engine creates from the same image.

podman (and CRI engines) write a new config.json per container: it holds the
container's 64-hex id (in mount sources, the cgroup path, the bundle path),
its 12-hex short form (hostname, HOSTNAME=), the overlay layer's own 64-hex
id (root.path), and a creation timestamp annotation. So a plan cache entry
keyed on the exact config never hits there, and every ``create`` pays for
the model imports and lowering.

A template is an entry of the plan cache (:mod:`ocitool.plan.cache`) whose
tokens are those ids. Its key is the config with the ids replaced by
placeholders, minus ``annotations`` (lowering reads none; they are still
checked to be a string map), plus the bundle path, the host facts, the
lowering options and the code version, as for every entry. On a hit the
placeholders get the new ids and the real op objects are rebuilt.

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

from ocitool.jsonlite import loads
from ocitool.plan import cache
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ocitool.plan.ops.base import Op

FORMAT = 2
SHORT = 12  # the short id engines use as hostname (docker/podman convention)
_HEX = "0123456789abcdef"
# every ASCII character that is not a lowercase hex digit becomes a separator
_SPLIT = {c: " " for c in range(128) if chr(c) not in _HEX}
# the variant used for the equivariance check: each hex digit shifted by 7
_SHIFT = str.maketrans(_HEX, _HEX[7:] + _HEX[:7])


def is_hex_id(s: str) -> bool:
    return len(s) == 64 and not s.strip(_HEX)


class Template:
    """The normalized form of one create request."""

    __slots__ = ("tokens", "text", "data", "annotations", "bundle", "key")
    # (never for the systemd driver: its key would leave out the annotations it reads)

    def __init__(
        self,
        tokens: list[str],
        text: str,
        data: dict[str, Any],
        annotations: dict[str, str],
        bundle: str,
        options: tuple[str, ...],
    ) -> None:
        self.tokens, self.text, self.data = tokens, text, data
        self.annotations, self.bundle = annotations, bundle
        norm = subst(text, tokens, None) + "\0" + subst(bundle, tokens, None)
        import zlib

        from ocitool.host import HostInfo

        name = f"t-{zlib.crc32(norm.encode()):08x}-{len(norm)}"
        self.key = cache.make_key(
            (str(FORMAT), norm), "", HostInfo.detect(), options, tuple(tokens), name
        )


def subst(s: str, tokens: list[str], values: list[str] | None) -> str:
    """tokens -> placeholders (values None), or placeholders -> values."""
    if values is None:
        for i, tok in enumerate(tokens):
            s = s.replace(tok, cache.placeholder(i))
    else:
        for i, val in enumerate(values):
            s = s.replace(cache.placeholder(i), val)
    return s


def prepare(
    config: bytes, bundle: str, cid: str, options: tuple[str, ...] = ("cgroupfs",)
) -> Template | None:
    """A Template for this request, or None when it is not one we template:
    the id must be a 64-hex id, the config plain JSON with string annotations."""
    if not is_hex_id(cid):
        return None
    try:
        data = loads(config.decode("utf-8"), unique_keys=True)
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
    return Template(tokens, text, data, annotations, bundle, options)


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
    ops: list[Op],
    meta: dict[str, Any],
    relower: Callable[[str, str, str], tuple[list[Op], dict[str, Any]]],
) -> bool:
    """Save the template of ``ops`` if lowering the variant request gives the same template.

    ``relower(config_text, bundle, cid) -> (ops, meta)`` lowers a config (pure).
    Returns whether a template was stored.
    """
    keep = {"rootfs": meta["rootfs"], "terminal": bool(meta["terminal"])}
    rows, meta_t = cache.stored_form(ops, keep, t.key.tokens)
    values, text_v, bundle_v = variant(t)
    try:
        ops_v, meta_v = relower(text_v, bundle_v, values[0])
    except Exception:  # noqa: BLE001 - a variant that does not lower is just not templated
        return False
    keep_v = {"rootfs": meta_v["rootfs"], "terminal": bool(meta_v["terminal"])}
    if cache.stored_form(ops_v, keep_v, tuple(values)) != (rows, meta_t):
        return False
    return cache.write_rows(root, t.key, rows, meta_t)


def load(root: str, t: Template) -> tuple[list[Op], dict[str, Any]] | None:
    """(ops, meta) with this request's ids, or None."""
    return cache.load(root, t.key)
