"""Load config.json text into a :class:`Document` that can locate any value.

Parsing uses the ``json`` module (fast). Source positions are computed only
when something asks for one (a diagnostic), by walking the text along that
pointer's path. Duplicate member names, which ``json`` silently collapses,
are detected during parsing and located by a second walk over the text.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from json.scanner import make_scanner
from typing import Any

from ocitool.errors import Diagnostic, LoadError, UsageError
from ocitool.inputs import NO_SUCH_FILE, read_input
from ocitool.redact import env_pointers, hide_env_literals

CONFIG_NAME = "config.json"


def escape_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join_pointer(base: str, token: str | int) -> str:
    return f"{base}/{escape_token(str(token))}"


def split_pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {pointer!r}")
    return [unescape_token(t) for t in pointer[1:].split("/")]


def resolve_pointer(data: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``data``; raises KeyError when it does not resolve."""
    node = data
    for token in split_pointer(pointer):
        if isinstance(node, dict):
            if token not in node:
                raise KeyError(pointer)
            node = node[token]
        elif isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                raise KeyError(pointer)
            node = node[int(token)]
        else:
            raise KeyError(pointer)
    return node


_WS = re.compile(r"[ \t\n\r]*")
_skip_value = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # C speed


def _skip_ws(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]  # ``*`` always matches


class _PathIndex:
    """Offsets of values and member names, found by walking only a pointer's path.

    Each container on the way is enumerated once (member names decoded with
    ``scanstring``, sibling values skipped by the C JSON scanner) and cached.
    A few diagnostics in a large document therefore cost a few container
    walks, not a scan of every value; and the walk is a loop, so nesting depth
    does not matter. The text must already have been accepted by ``json``.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        # container pointer -> escaped token -> (member-name offset or -1, value offset)
        self._children: dict[str, dict[str, tuple[int, int]]] = {}

    def children(self, pointer: str, start: int) -> dict[str, tuple[int, int]]:
        """The members (or items) of the container whose value starts at ``start``."""
        cached = self._children.get(pointer)
        if cached is not None:
            return cached
        text = self.text
        out: dict[str, tuple[int, int]] = {}
        opener = text[start]
        if opener in "{[":
            closer = "}" if opener == "{" else "]"
            i = _skip_ws(text, start + 1)
            index = 0
            while text[i] != closer:
                if opener == "{":
                    key_at = i
                    key, i = scanstring(text, i + 1)
                    i = _skip_ws(text, _skip_ws(text, i) + 1)  # past the colon
                    token = escape_token(key)
                else:
                    key_at, token = -1, str(index)
                    index += 1
                out.setdefault(token, (key_at, i))  # first occurrence: where a reader looks
                i = _skip_ws(text, _skip_value(text, i)[1])
                if text[i] == ",":
                    i = _skip_ws(text, i + 1)
        self._children[pointer] = out
        return out

    def walk(self, pointer: str) -> tuple[int, int, bool] | None:
        """(member-name offset or -1, value offset, reached) for ``pointer``.

        When the pointer does not resolve, the offsets are those of the
        nearest existing parent and ``reached`` is False.
        """
        text = self.text
        value_at = _skip_ws(text, 0)
        if value_at >= len(text):
            return None
        key_at = -1
        current = ""
        for token in pointer.split("/")[1:] if pointer else []:
            members = self.children(current, value_at)
            if token not in members:
                return key_at, value_at, False
            key_at, value_at = members[token]
            current = f"{current}/{token}"
        return key_at, value_at, True


class _DuplicateScan:
    """Every duplicated member name with its pointer (run only when ``json`` saw one)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: list[tuple[str, int, int]] = []  # pointer, offset, first offset

    def run(self) -> list[tuple[str, int, int]]:
        text = self.text
        stack = [("", _skip_ws(text, 0))]
        while stack:  # a loop, not recursion: depth does not matter
            pointer, start = stack.pop()
            if start >= len(text) or text[start] not in "{[":
                continue
            i = _skip_ws(text, start + 1)
            closer = "}" if text[start] == "{" else "]"
            seen: dict[str, int] = {}
            index = 0
            while text[i] != closer:
                if closer == "}":
                    key_at = i
                    key, i = scanstring(text, i + 1)
                    i = _skip_ws(text, _skip_ws(text, i) + 1)
                    child = join_pointer(pointer, key)
                    if key in seen:
                        self.found.append((child, key_at, seen[key]))
                    else:
                        seen[key] = key_at
                else:
                    child = join_pointer(pointer, index)
                    index += 1
                stack.append((child, i))
                i = _skip_ws(text, _skip_value(text, i)[1])
                if text[i] == ",":
                    i = _skip_ws(text, i + 1)
        self.found.sort(key=lambda d: d[1])
        return self.found


@dataclass
class Document:
    """A parsed JSON document plus lazy access to source positions."""

    data: Any
    text: str
    path: str | None = None
    _index: _PathIndex | None = field(default=None, repr=False)
    _line_starts: list[int] | None = field(default=None, repr=False)

    def _paths(self) -> _PathIndex:
        if self._index is None:
            self._index = _PathIndex(self.text)
        return self._index

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def _walk(self, pointer: str) -> tuple[int, int, bool] | None:
        try:
            return self._paths().walk(pointer)
        except (RecursionError, ValueError, IndexError):  # text json never accepted
            return None

    def position(self, pointer: str) -> tuple[int, int] | None:
        """line:column of the value at ``pointer``; for a missing member, its nearest parent."""
        found = self._walk(pointer)
        return None if found is None else self.line_col(found[1])

    def key_position(self, pointer: str) -> tuple[int, int] | None:
        """line:column of the member name at ``pointer`` (falls back to the value)."""
        found = self._walk(pointer)
        if found is None:
            return None
        key_at, value_at, reached = found
        return self.line_col(key_at if reached and key_at >= 0 else value_at)

    def resolve(self, pointer: str) -> Any:
        return resolve_pointer(self.data, pointer)

    def locate(self, diagnostic: Diagnostic) -> Diagnostic:
        """The diagnostic with this document's path and the pointer's line:column."""
        pos = self.position(diagnostic.pointer)
        located = diagnostic.with_path(diagnostic.path or self.path)
        return located.located(*pos) if pos else located

    def snippet(self, line: int, context: int = 2) -> list[tuple[int, str]]:
        """Source lines around ``line`` as (number, text) pairs, for diagnostics.

        Nothing is shown from a text that is not JSON (a config.json symlinked to
        a key file must not end up in CI logs), and environment values are hidden
        (``NAME=***``, see :mod:`ocitool.redact`).
        """
        if not looks_like_json(self.text):
            return []
        lines = self.text.splitlines()
        lo = max(1, line - context)
        hi = min(len(lines), line + context)
        hidden = self._env_columns() if self.data is not None else None
        return [
            (n, hide_env_literals(lines[n - 1], None if hidden is None else hidden.get(n, [])))
            for n in range(lo, hi + 1)
        ]

    def _env_columns(self) -> dict[int, list[int]]:
        """line -> the columns where env string literals start."""
        out: dict[int, list[int]] = {}
        for pointer in env_pointers(self.data):
            pos = self.position(pointer)
            if pos is not None:
                out.setdefault(pos[0], []).append(pos[1])
        return out

    def duplicate_keys(self) -> list[Diagnostic]:
        out = []
        for pointer, offset, first in _DuplicateScan(self.text).run():
            line, col = self.line_col(offset)
            fline, fcol = self.line_col(first)
            out.append(
                Diagnostic(
                    code="OCI103",
                    message=f"duplicate member name {split_pointer(pointer)[-1]!r} "
                    f"(first defined at {fline}:{fcol})",
                    pointer=pointer,
                    hint="JSON parsers disagree on which duplicate wins; keep exactly one",
                    line=line,
                    column=col,
                    path=self.path,
                )
            )
        return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _DuplicateSeen(Exception):
    pass


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateSeen
    return result


def _syntax_error(exc: json.JSONDecodeError, path: str | None) -> LoadError:
    expected = None
    msg = exc.msg
    if msg.startswith("Expecting "):
        expected = msg[len("Expecting ") :]
    return LoadError(
        message=f"malformed JSON: {msg}",
        code="OCI101",
        pointer=None,
        path=path,
        line=exc.lineno,
        column=exc.colno,
        expected=expected,
        hint="fix the JSON syntax at this position (a trailing comma or a missing quote is common)",
    )


def parse_text(text: str, path: str | None = None) -> Document:
    """Parse JSON text; raise :class:`LoadError` for bad syntax or duplicate keys."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data = json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant)
    except _DuplicateSeen:
        doc = Document(data=None, text=text, path=path)
        diags = doc.duplicate_keys()
        first = diags[0]
        raise LoadError(
            message=first.message,
            code="OCI103",
            pointer=first.pointer,
            path=path,
            line=first.line,
            column=first.column,
            hint=first.hint,
            diagnostics=diags,
        ) from None
    except json.JSONDecodeError as exc:
        raise _syntax_error(exc, path) from None
    except ValueError as exc:  # NaN / Infinity, or absurdly deep nesting
        raise LoadError(
            message=f"malformed JSON: {exc}", code="OCI101", path=path, line=1, column=1
        ) from None
    except RecursionError:
        raise LoadError(
            message="malformed JSON: nesting too deep", code="OCI101", path=path
        ) from None
    doc = Document(data=data, text=text, path=path)
    if "\\u" in text:
        pointer = lone_surrogate(data)
        if pointer is not None:
            pos = doc.position(pointer)
            raise LoadError(
                message="a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), "
                "which is not a Unicode character",
                code="OCI104",
                pointer=pointer,
                path=path,
                line=pos[0] if pos else None,
                column=pos[1] if pos else None,
                hint="write the character itself, or a complete surrogate pair",
            )
    return doc


def lone_surrogate(value: Any, pointer: str = "") -> str | None:
    """The pointer of the first string (or member name) in ``value`` holding a lone
    surrogate: json accepts the escape, but no file name, argument or cgroup value
    can carry it (and runc would silently turn it into U+FFFD)."""
    stack = [(value, pointer)]
    while stack:  # a loop: depth does not matter
        item, at = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and any("\ud800" <= ch <= "\udfff" for ch in item):
                return at
        elif isinstance(item, dict):
            for key, child in item.items():
                if not key.isascii() and any("\ud800" <= ch <= "\udfff" for ch in key):
                    return join_pointer(at, key.encode("utf-8", "backslashreplace").decode())
                child_at = join_pointer(at, key)
                stack.append((child, child_at))
        elif isinstance(item, list):
            stack.extend((child, join_pointer(at, i)) for i, child in enumerate(item))
    return None


def decode_bytes(raw: bytes, path: str | None) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8", "replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        raise LoadError(
            message=f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded",
            code="OCI102",
            path=path,
            line=line,
            column=column,
            hint="config.json must be UTF-8 encoded (runtime-spec, RFC 8259)",
        ) from None


def looks_like_json(text: str) -> bool:
    """Whether ``text`` starts like a JSON object or array (what a config or profile is)."""
    return text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def config_path(target: str) -> str:
    """``target`` itself, or ``target/config.json`` when it is a bundle directory."""
    if target != "-" and os.path.isdir(target):
        return os.path.join(target, CONFIG_NAME)
    return target


def load(target: str) -> Document:
    """Load a bundle directory, a config file, or ``-`` for standard input.

    Read through :func:`ocitool.inputs.read_input`: a regular file of at most
    ``MAX_INPUT_BYTES`` (a missing bundle config gets a hint)."""
    if target == "-":
        raw = read_input("-", "config", stdin=True)
        return parse_text(decode_bytes(raw, "<stdin>"), "<stdin>")
    path = config_path(target)
    try:
        raw = read_input(path, "config")
    except UsageError as err:
        if err.code == NO_SUCH_FILE and path != target:
            err.hint = "a bundle directory must contain config.json"
        raise
    return parse_text(decode_bytes(raw, path), path)
