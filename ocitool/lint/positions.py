"""Fast JSON pointer -> line:column for lint findings.

Lint locates thousands of findings per second. Instead of scanning every
value of the text (what the loader's general-purpose scanner does), the
locator walks only the containers on a pointer's path, skipping sibling
values with the C JSON scanner. It relies on the text having been accepted by
``json`` already (the loader did that), so it does no error checking.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from json.scanner import make_scanner

from ocitool.errors import Diagnostic
from ocitool.spec.load import Document, escape_token

_WS = re.compile(r"[ \t\n\r]*")


def _skip(text: str, i: int) -> int:
    """Offset of the first non-white-space character at or after ``i``."""
    return _WS.match(text, i).end()  # type: ignore[union-attr] # ``*`` always matches


# the C scanner: skips a whole value at C speed
_scan_once = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


class Locator:
    """Locates diagnostics in one document by walking only the containers on the way.

    Each container on a pointer's path is enumerated once (member names with
    ``scanstring``, sibling values skipped with the C scanner) and cached, so
    a handful of findings cost far less than a scan of every value.
    """

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self._children: dict[str, dict[str, int]] = {}

    def _enumerate(self, pointer: str, start: int) -> dict[str, int]:
        """Escaped child token -> value offset for the container at ``start``."""
        cached = self._children.get(pointer)
        if cached is not None:
            return cached
        text = self.doc.text
        ws = _skip
        out: dict[str, int] = {}
        opener = text[start]
        if opener == "{" or opener == "[":
            closer = "}" if opener == "{" else "]"
            i = ws(text, start + 1)
            index = 0
            while text[i] != closer:
                if opener == "{":
                    key, i = scanstring(text, i + 1)
                    i = ws(text, ws(text, i) + 1)  # past the colon
                    token = escape_token(key)
                else:
                    token = str(index)
                    index += 1
                out[token] = i
                i = ws(text, _scan_once(text, i)[1])
                if text[i] == ",":
                    i = ws(text, i + 1)
        self._children[pointer] = out
        return out

    def offset(self, pointer: str) -> int | None:
        """Offset of the value at ``pointer``, or of its nearest existing parent."""
        text = self.doc.text
        offset = _skip(text, 0)
        if offset >= len(text):
            return None
        current = ""
        for token in pointer.split("/")[1:] if pointer else []:
            children = self._enumerate(current, offset)
            if token not in children:
                break
            offset = children[token]
            current = f"{current}/{token}"
        return offset

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
