"""Fast JSON-pointer -> source offset map for lint findings.

Lint locates thousands of findings per second, so it tokenises the text with
one regular expression (C speed) instead of walking it character by
character. It relies on the text having been accepted by ``json`` already
(the loader did that), so it does no error checking of its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ocitool.errors import Diagnostic
from ocitool.spec.load import Document, escape_token

_STRING = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_SCALAR = rf'(?:{_STRING}|[^\s{{}}\[\],:"]++)'
# Arrays of scalars, and objects whose members are scalars or such arrays, are single
# tokens (seccomp names, env, capability sets, namespaces, rlimits ...); what is inside
# them is located only when a finding points there.
_FLAT_ARRAY = rf"\[(?:\s*+{_SCALAR}\s*+,)*+\s*+(?:{_SCALAR}\s*+)?\]"
_LEAF = rf"(?:{_SCALAR}|{_FLAT_ARRAY})"
_FLAT_OBJECT = (
    rf"\{{(?:\s*+{_STRING}\s*+:\s*+{_LEAF}\s*+,)*+\s*+(?:{_STRING}\s*+:\s*+{_LEAF}\s*+)?\}}"
)
# Separators (white space, commas, colons) are skipped in the same match as the
# token after them: the structure alone tells keys from values and array indexes.
_TOKEN = re.compile(
    rf"[\s,:]*+({_FLAT_ARRAY}|{_FLAT_OBJECT}|{_STRING}|[{{}}\[\]]|[^\s{{}}\[\],:\"]++)"
)
_ELEMENT = re.compile(_SCALAR)
_MEMBER = re.compile(rf"({_STRING})\s*+:\s*+({_LEAF})")

Span = tuple[int, int, bool]  # start, end, is_object


def _key(tok: str) -> str:
    return escape_token(json.loads(tok) if "\\" in tok else tok[1:-1])


def value_offsets(text: str, flat: dict[str, Span] | None = None) -> dict[str, int]:
    """Offset of every value in ``text`` by JSON pointer.

    Flat containers are recorded as a whole; their spans go into ``flat``
    when given (see :func:`expand`), else their insides are expanded at once.
    """
    values: dict[str, int] = {}
    pending: dict[str, Span] = {} if flat is None else flat
    # frame: [pointer, is_object, object: expecting a key / array: next index, object: value pointer]
    frames: list[list[Any]] = []
    for m in _TOKEN.finditer(text):
        tok = m.group(1)
        c = tok[0]
        if len(tok) == 1 and (c == "}" or c == "]"):
            frames.pop()
            continue
        if frames:
            top = frames[-1]
            if top[1]:
                if top[2]:  # a member name
                    top[3] = top[0] + "/" + _key(tok)
                    top[2] = False
                    continue
                pointer = top[3]
                top[2] = True
            else:
                pointer = f"{top[0]}/{top[2]}"
                top[2] += 1
        else:
            pointer = ""
        start = m.start(1)
        values[pointer] = start
        if c == "{" or c == "[":
            if len(tok) == 1:
                frames.append([pointer, c == "{", c == "{" or 0, ""])
            else:
                pending[pointer] = (start, m.end(1), c == "{")
    if flat is None:
        while pending:
            pointer, span = pending.popitem()
            values.update(expand(text, pointer, span, pending))
    return values


def expand(text: str, pointer: str, span: Span, flat: dict[str, Span]) -> dict[str, int]:
    """Offsets inside the flat container at ``pointer``; nested flat arrays go to ``flat``."""
    start, end, is_object = span
    if not is_object:
        return {
            f"{pointer}/{i}": m.start()
            for i, m in enumerate(_ELEMENT.finditer(text, start + 1, end - 1))
        }
    out: dict[str, int] = {}
    for m in _MEMBER.finditer(text, start + 1, end - 1):
        child = pointer + "/" + _key(m.group(1))
        out[child] = m.start(2)
        if m.group(2)[0] == "[":
            flat[child] = (m.start(2), m.end(2), False)
    return out


class Locator:
    """Locates diagnostics in one document; scans the text on first use only."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self._values: dict[str, int] | None = None
        self._flat: dict[str, Span] = {}

    def offset(self, pointer: str) -> int | None:
        """Offset of the value at ``pointer``, or of its nearest existing parent."""
        if self._values is None:
            self._values = value_offsets(self.doc.text, self._flat)
        values = self._values
        probe = pointer
        while probe not in values:
            if probe == "":
                return None
            probe = probe.rsplit("/", 1)[0]
        # the deepest known value may be a flat container holding the target
        while probe != pointer and probe in self._flat:
            values.update(expand(self.doc.text, probe, self._flat.pop(probe), self._flat))
            rest = pointer[len(probe) :]
            nxt = probe + "/" + rest[1:].split("/", 1)[0]
            if nxt not in values:
                break
            probe = nxt
        return values[probe]

    def position(self, pointer: str) -> tuple[int, int] | None:
        """1-based line:column of the value at ``pointer`` (or its nearest parent)."""
        offset = self.offset(pointer)
        if offset is None:
            return None
        text = self.doc.text
        line = text.count("\n", 0, offset) + 1
        return line, offset - text.rfind("\n", 0, offset)

    def diagnostic(
        self, code: str, message: str, pointer: str, severity: str, hint: str | None
    ) -> Diagnostic:
        pos = self.position(pointer)
        line, column = pos if pos else (None, None)
        return Diagnostic(
            code=code,
            message=message,
            pointer=pointer,
            severity=severity,  # type: ignore[arg-type]
            hint=hint,
            line=line,
            column=column,
            path=self.doc.path,
        )
