"""A small strict JSON reader for the state files ocitool itself writes.

``loads`` reads small documents with ``loads_py`` below and large ones with
``_json``'s C scanner when CPython has it (0.4-0.8 ms to load, none of
``json``'s ``re``/``enum``); ``loads_py`` is also the reference.

``json`` imports ``re`` and ``enum`` (~7 ms); ``start``, ``kill``, ``state``
and ``delete`` read one small state.json each, so a few dozen lines of
recursive descent are cheaper than the import. Strict RFC 8259 (no NaN, no
trailing commas, no control characters in strings); anything it does not
accept raises ValueError, and callers fall back to ``json``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WS = " \t\n\r"
_ESC = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_NUM = "+-0123456789.eE"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Strict:
    """The settings ``_json``'s C scanner reads (json.JSONDecoder's attribute names)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str] = {}
    parse_constant = staticmethod(_no_constant)


_SCANNER: list[Any] = []  # the C scanner, made on the first large document
SMALL = 8192  # below this the reader below beats loading _json (~0.4-0.8 ms)


def _c_scanner() -> Any:
    if not _SCANNER:
        try:
            from _json import make_scanner
        except ImportError:
            _SCANNER.append(None)
        else:
            _SCANNER.append(make_scanner(_Strict()))  # type: ignore[arg-type]
    return _SCANNER[0]


def loads(text: str) -> Any:
    """Small documents (a state file is ~1.5 KiB) with the reader below, which costs
    ~0.2 ms where loading ``_json`` costs more; larger ones with CPython's C scanner
    when there is one (the ``json`` package's accelerator, without the package)."""
    scan = _c_scanner() if len(text) >= SMALL else None
    if scan is None:
        return loads_py(text)
    start = _skip(text, 0)
    try:
        value, end = scan(text, start)
    except StopIteration as exc:
        raise ValueError(f"no JSON value at {start}") from exc
    if _skip(text, end) != len(text):
        raise ValueError(f"extra data at {end}")
    return value


def loads_py(text: str) -> Any:
    value, i = _value(text, _skip(text, 0))
    if _skip(text, i) != len(text):
        raise ValueError(f"extra data at {i}")
    return value


def _skip(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in _WS:
        i += 1
    return i


def _value(s: str, i: int) -> tuple[Any, int]:
    if i >= len(s):
        raise ValueError("unexpected end")
    c = s[i]
    if c == "{":
        return _object(s, i + 1)
    if c == "[":
        return _array(s, i + 1)
    if c == '"':
        return _string(s, i + 1)
    for word, val in (("true", True), ("false", False), ("null", None)):
        if s.startswith(word, i):
            return val, i + len(word)
    j = i
    while j < len(s) and s[j] in _NUM:
        j += 1
    tok = s[i:j]
    if not tok or tok[0] == "+" or (tok.lstrip("-")[:1] == "0" and tok.lstrip("-")[1:2].isdigit()):
        raise ValueError(f"bad value at {i}")
    if any(ch in tok for ch in ".eE"):
        return float(tok), j
    return int(tok), j


def _object(s: str, i: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    i = _skip(s, i)
    if i < len(s) and s[i] == "}":
        return out, i + 1
    while True:
        if i >= len(s) or s[i] != '"':
            raise ValueError(f"expected a key at {i}")
        key, i = _string(s, i + 1)
        i = _skip(s, i)
        if i >= len(s) or s[i] != ":":
            raise ValueError(f"expected ':' at {i}")
        out[key], i = _value(s, _skip(s, i + 1))
        i = _skip(s, i)
        if i < len(s) and s[i] == ",":
            i = _skip(s, i + 1)
            continue
        if i < len(s) and s[i] == "}":
            return out, i + 1
        raise ValueError(f"expected ',' or '}}' at {i}")


def _array(s: str, i: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    i = _skip(s, i)
    if i < len(s) and s[i] == "]":
        return out, i + 1
    while True:
        item, i = _value(s, _skip(s, i))
        out.append(item)
        i = _skip(s, i)
        if i < len(s) and s[i] == ",":
            i += 1
            continue
        if i < len(s) and s[i] == "]":
            return out, i + 1
        raise ValueError(f"expected ',' or ']' at {i}")


def _string(s: str, i: int) -> tuple[str, int]:
    parts: list[str] = []
    start = i
    n = len(s)
    while True:
        if i >= n:
            raise ValueError("unterminated string")
        c = s[i]
        if c == '"':
            parts.append(s[start:i])
            return "".join(parts), i + 1
        if c == "\\":
            parts.append(s[start:i])
            esc = s[i + 1 : i + 2]
            if esc == "u":
                code = int(_hex4(s, i + 2), 16)
                i += 6
                if 0xD800 <= code < 0xDC00 and s[i : i + 2] == "\\u":
                    low = int(_hex4(s, i + 2), 16)
                    if 0xDC00 <= low < 0xE000:
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                parts.append(chr(code))
            elif esc in _ESC:
                parts.append(_ESC[esc])
                i += 2
            else:
                raise ValueError(f"bad escape at {i}")
            start = i
            continue
        if c < " ":
            raise ValueError(f"control character in string at {i}")
        i += 1


def _hex4(s: str, i: int) -> str:
    h = s[i : i + 4]
    if len(h) != 4 or any(ch not in "0123456789abcdefABCDEF" for ch in h):
        raise ValueError(f"bad \\u escape at {i}")
    return h
