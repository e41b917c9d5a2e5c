"""Load config.json text into a :class:`Document` that can locate any value.

Parsing uses the ``json`` module (fast). Source positions are computed only
when something asks for one (a diagnostic), by a small scanner over the text
that records the line:column of every value and key by JSON pointer. The
scanner also finds duplicate keys, which ``json`` would silently collapse.
"""

from __future__ import annotations

import bisect
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from ocitool.errors import Diagnostic, LoadError, UsageError

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


@dataclass
class _Positions:
    values: dict[str, int] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)
    duplicates: list[tuple[str, int, int]] = field(
        default_factory=list
    )  # pointer, offset, first offset


class _Scanner:
    """Walks JSON text that ``json`` already accepted, recording offsets by pointer."""

    _WS = " \t\r\n"

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.out = _Positions()

    def skip_ws(self) -> None:
        text, i, n = self.text, self.i, len(self.text)
        while i < n and text[i] in self._WS:
            i += 1
        self.i = i

    def string_end(self, start: int) -> int:
        """Offset just past the closing quote of the string starting at ``start``."""
        text = self.text
        i = start + 1
        while True:
            j = text.find('"', i)
            if j < 0:
                return len(text)
            k = j - 1
            backslashes = 0
            while text[k] == "\\":
                backslashes += 1
                k -= 1
            if backslashes % 2 == 0:
                return j + 1
            i = j + 1

    def value(self, pointer: str) -> None:
        self.skip_ws()
        self.out.values[pointer] = self.i
        ch = self.text[self.i] if self.i < len(self.text) else ""
        if ch == "{":
            self.obj(pointer)
        elif ch == "[":
            self.arr(pointer)
        elif ch == '"':
            self.i = self.string_end(self.i)
        else:
            text, i, n = self.text, self.i, len(self.text)
            while i < n and text[i] not in ",]} \t\r\n":
                i += 1
            self.i = i

    def obj(self, pointer: str) -> None:
        self.i += 1
        seen: dict[str, int] = {}
        while True:
            self.skip_ws()
            if self.i >= len(self.text) or self.text[self.i] == "}":
                self.i += 1
                return
            if self.text[self.i] == ",":
                self.i += 1
                continue
            key_start = self.i
            key_end = self.string_end(key_start)
            key = json.loads(self.text[key_start:key_end])
            self.i = key_end
            child = join_pointer(pointer, key)
            if key in seen:
                self.out.duplicates.append((child, key_start, seen[key]))
            else:
                seen[key] = key_start
            self.out.keys[child] = key_start
            self.skip_ws()
            self.i += 1  # the colon
            self.value(child)

    def arr(self, pointer: str) -> None:
        self.i += 1
        index = 0
        while True:
            self.skip_ws()
            if self.i >= len(self.text) or self.text[self.i] == "]":
                self.i += 1
                return
            if self.text[self.i] == ",":
                self.i += 1
                continue
            self.value(join_pointer(pointer, index))
            index += 1


@dataclass
class Document:
    """A parsed JSON document plus lazy access to source positions."""

    data: Any
    text: str
    path: str | None = None
    _positions: _Positions | None = field(default=None, repr=False)
    _line_starts: list[int] | None = field(default=None, repr=False)

    def _scan(self) -> _Positions:
        if self._positions is None:
            scanner = _Scanner(self.text)
            scanner.value("")
            self._positions = scanner.out
        return self._positions

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

    def position(self, pointer: str) -> tuple[int, int] | None:
        """line:column of the value at ``pointer``; for a missing member, its nearest parent."""
        positions = self._scan()
        probe = pointer
        while True:
            if probe in positions.values:
                return self.line_col(positions.values[probe])
            if probe == "":
                return None
            probe = probe.rsplit("/", 1)[0]

    def key_position(self, pointer: str) -> tuple[int, int] | None:
        """line:column of the member name at ``pointer`` (falls back to the value)."""
        positions = self._scan()
        if pointer in positions.keys:
            return self.line_col(positions.keys[pointer])
        return self.position(pointer)

    def resolve(self, pointer: str) -> Any:
        return resolve_pointer(self.data, pointer)

    def locate(self, diagnostic: Diagnostic) -> Diagnostic:
        """The diagnostic with this document's path and the pointer's line:column."""
        pos = self.position(diagnostic.pointer)
        located = diagnostic.with_path(diagnostic.path or self.path)
        return located.located(*pos) if pos else located

    def snippet(self, line: int, context: int = 2) -> list[tuple[int, str]]:
        """Source lines around ``line`` as (number, text) pairs."""
        lines = self.text.splitlines()
        lo = max(1, line - context)
        hi = min(len(lines), line + context)
        return [(n, lines[n - 1]) for n in range(lo, hi + 1)]

    def duplicate_keys(self) -> list[Diagnostic]:
        out = []
        for pointer, offset, first in self._scan().duplicates:
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
    return Document(data=data, text=text, path=path)


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


def config_path(target: str) -> str:
    """``target`` itself, or ``target/config.json`` when it is a bundle directory."""
    if target != "-" and os.path.isdir(target):
        return os.path.join(target, CONFIG_NAME)
    return target


def load(target: str) -> Document:
    """Load a bundle directory, a config file, or ``-`` for standard input."""
    if target == "-":
        raw = sys.stdin.buffer.read()
        return parse_text(decode_bytes(raw, "<stdin>"), "<stdin>")
    path = config_path(target)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        hint = "a bundle directory must contain config.json" if path != target else None
        raise UsageError(
            message=f"no such file: {path}", code="OCI001", path=path, hint=hint
        ) from None
    except IsADirectoryError:
        raise UsageError(message=f"is a directory: {path}", code="OCI002", path=path) from None
    except OSError as exc:
        raise UsageError(
            message=f"cannot read {path}: {exc.strerror}", code="OCI003", path=path
        ) from None
    return parse_text(decode_bytes(raw, path), path)
