"""JSON for the container start path, through CPython's C codec (``_json``) without ``json``.

Why: importing the ``json`` package imports ``re`` and ``enum``, which costs more
than the rest of a short ``ocitool-runc`` command and a noticeable share of
``ocitool exec`` (bench/README.md, "JSON"). ``_json`` is the accelerator that
package itself uses; here it is driven directly with the same settings, so the
results are ``json``'s: :func:`loads` is ``json.loads`` (strict: no NaN or
Infinity, optionally no duplicate keys), :func:`dumps` is ``json.dumps`` with
compact separators and ASCII output. Where ``_json`` is missing (another
Python), both fall back to the package. This is the only JSON codec of the
start path; everything else uses ``json``.
"""

from __future__ import annotations

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

_WS = " \t\n\r"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key in a JSON object")
    return out


def _unserializable(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


class _Settings:
    """What ``_json``'s scanner reads from its context (json.JSONDecoder's attributes)."""

    strict = True
    object_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_no_constant)

    def __init__(self, unique_keys: bool) -> None:
        self.object_pairs_hook = _no_duplicates if unique_keys else None
        self.memo: dict[str, str] = {}


_SCANNERS: dict[bool, Any] = {}
_ENCODER: list[Any] = []


def loads(text: str, *, unique_keys: bool = False) -> Any:
    """``json.loads(text)``, strict; ``unique_keys``: a repeated key in an object is a
    ValueError too. Any error is a ValueError."""
    scan = _SCANNERS.get(unique_keys)
    if scan is None:
        try:
            from _json import make_scanner
        except ImportError:  # another Python: the package, with the same settings
            import json

            return json.loads(
                text,
                object_pairs_hook=_no_duplicates if unique_keys else None,
                parse_constant=_no_constant,
            )
        scan = _SCANNERS[unique_keys] = make_scanner(_Settings(unique_keys))  # type: ignore[arg-type]
    start = len(text) - len(text.lstrip(_WS))
    try:
        value, end = scan(text, start)
    except StopIteration as exc:
        raise ValueError(f"no JSON value at {start}") from exc
    except SystemError:
        # _json raises json.decoder.JSONDecodeError, but only finds it when json.decoder
        # is imported (else: "returned NULL without setting an exception"): on this error
        # path, let the package parse the text again and say what is wrong
        import json

        json.loads(text, parse_constant=_no_constant)
        raise ValueError("invalid JSON") from None
    if text[end:].strip(_WS):
        raise ValueError(f"extra data at {end}")
    return value


def dumps(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"), allow_nan=False)`` (ASCII, so a lone
    surrogate is written as ``\\udXXX`` and the text is always valid UTF-8)."""
    if not _ENCODER:
        try:
            from _json import encode_basestring_ascii, make_encoder
        except ImportError:
            import json

            return json.dumps(value, separators=(",", ":"), allow_nan=False)
        _ENCODER.append(
            make_encoder(
                None, _unserializable, encode_basestring_ascii, None, ":", ",", False, False, False
            )
        )
    return "".join(_ENCODER[0](value, 0))


def dumps_indented(value: Any, indent: int = 2, level: int = 0) -> str:
    """:func:`dumps` laid out like ``json.dumps(value, indent=indent)`` (runc's ``state``
    prints indented JSON)."""
    if not isinstance(value, dict | list | tuple) or not value:
        return dumps(value)
    pad = " " * (indent * (level + 1))
    if isinstance(value, dict):
        items = [
            f"{pad}{dumps(str(k))}: {dumps_indented(v, indent, level + 1)}"
            for k, v in value.items()
        ]
        opening, closing = "{", "}"
    else:
        items = [pad + dumps_indented(v, indent, level + 1) for v in value]
        opening, closing = "[", "]"
    return opening + "\n" + ",\n".join(items) + "\n" + " " * (indent * level) + closing
