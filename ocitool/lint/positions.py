"""Findings located in their document.

Positions come from :meth:`Document.position`, which walks only the
containers on a pointer's path (and caches them), so thousands of findings
per second cost little.
"""

from __future__ import annotations

from ocitool.errors import Diagnostic, Severity
from ocitool.spec.load import Document


class Locator:
    """Builds located diagnostics for one document."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def position(self, pointer: str) -> tuple[int, int] | None:
        return self.doc.position(pointer)

    def diagnostic(
        self, code: str, message: str, pointer: str, severity: Severity, hint: str | None
    ) -> Diagnostic:
        pos = self.doc.position(pointer)
        line, column = pos if pos else (None, None)
        return Diagnostic(
            code=code,
            message=message,
            pointer=pointer,
            severity=severity,
            hint=hint,
            line=line,
            column=column,
            path=self.doc.path,
        )
