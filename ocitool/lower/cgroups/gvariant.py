"""A subset of GVariant text format, for ``org.systemd.property.*`` annotation values.

runc passes each such annotation's value through godbus's ``ParseVariant``
(GVariant text format, https://docs.gtk.org/glib/gvariant-text.html) and
sends the result as a D-Bus variant. We parse the forms systemd properties
take in practice and refuse the rest with a reason (fail closed), never guess:

* ``true`` / ``false`` -> ``b``;
* a type keyword and a number: ``byte``, ``int16``, ``uint16``, ``int32``,
  ``uint32``, ``int64``, ``uint64``, ``double`` (``uint64 123``);
* a bare integer -> ``i`` (int32), a bare decimal with ``.`` or ``e`` -> ``d``,
  as GVariant infers them;
* a string in single or double quotes (``'inactive-or-failed'``), with
  backslash escapes of the quote and backslash -> ``s``;
* an array of strings or of bare integers ``['a', 'b']`` / ``[1, 2]``, and the
  typed empty arrays ``@as []``, ``@ai []``, ``@au []``, ``@at []``.

The result is ``(signature, value)`` with Python values jeepney can send.
"""

from __future__ import annotations

import re
from typing import Any

INT_TYPES = {
    "byte": ("y", 0, 2**8 - 1),
    "int16": ("n", -(2**15), 2**15 - 1),
    "uint16": ("q", 0, 2**16 - 1),
    "int32": ("i", -(2**31), 2**31 - 1),
    "uint32": ("u", 0, 2**32 - 1),
    "int64": ("x", -(2**63), 2**63 - 1),
    "uint64": ("t", 0, 2**64 - 1),
}
EMPTY_ARRAYS = {"@as": "as", "@ai": "ai", "@au": "au", "@at": "at"}
_INT = re.compile(r"[+-]?(0x[0-9a-fA-F]+|[0-9]+)")
_FLOAT = re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?")


class GVariantError(ValueError):
    """Text this parser does not accept (message says what and why)."""


def parse(text: str) -> tuple[str, Any]:
    """``(D-Bus signature, value)`` of one GVariant text value."""
    s = text.strip()
    if s in ("true", "false"):
        return "b", s == "true"
    head, _, rest = s.partition(" ")
    if head in INT_TYPES:
        sig, low, high = INT_TYPES[head]
        value = _int(rest.strip())
        if not low <= value <= high:
            raise GVariantError(f"{rest.strip()} is out of range for {head}")
        return sig, value
    if head == "double":
        return "d", _float(rest.strip())
    if head in EMPTY_ARRAYS:
        if rest.strip() != "[]":
            raise GVariantError(f"only an empty array may follow {head}")
        return EMPTY_ARRAYS[head], []
    if s[:1] in ("'", '"'):
        text, end = _string(s, 0)
        if end != len(s):
            raise GVariantError("text after the closing quote")
        return "s", text
    if s.startswith("["):
        return _array(s)
    if _INT.fullmatch(s):
        value = _int(s)
        if not -(2**31) <= value <= 2**31 - 1:
            raise GVariantError(f"{s} is out of range for int32 (give a type, e.g. uint64 {s})")
        return "i", value
    if _FLOAT.fullmatch(s):
        return "d", _float(s)
    raise GVariantError(
        f"{s!r} is not a value this runtime parses (booleans, typed or bare numbers, "
        "quoted strings, arrays of strings or integers)"
    )


def _int(text: str) -> int:
    if not _INT.fullmatch(text):
        raise GVariantError(f"{text!r} is not an integer")
    return int(text, 0) if "x" in text.lower() else int(text)


def _float(text: str) -> float:
    if not _FLOAT.fullmatch(text):
        raise GVariantError(f"{text!r} is not a number")
    return float(text)


def _string(s: str, start: int) -> tuple[str, int]:
    quote = s[start]
    out: list[str] = []
    i = start + 1
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            if i + 1 >= len(s) or s[i + 1] not in ("\\", "'", '"'):
                raise GVariantError("only \\\\, \\' and \\\" escapes are supported")
            out.append(s[i + 1])
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise GVariantError("unterminated string")


def _array(s: str) -> tuple[str, Any]:
    if not s.endswith("]"):
        raise GVariantError("unterminated array")
    body = s[1:-1].strip()
    if not body:
        raise GVariantError("an empty array needs its type, e.g. @as []")
    if body[0] in ("'", '"'):
        items: list[str] = []
        i = 0
        while True:
            value, i = _string(body, i)
            items.append(value)
            rest = body[i:].lstrip()
            if not rest:
                return "as", items
            if not rest.startswith(","):
                raise GVariantError("expected ',' between array items")
            body = rest[1:].lstrip()
            i = 0
    numbers = [_int(part.strip()) for part in body.split(",")]
    if any(not -(2**31) <= n <= 2**31 - 1 for n in numbers):
        raise GVariantError("an array item is out of range for int32")
    return "ai", numbers
