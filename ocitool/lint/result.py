"""One input's findings, as every reporter takes them (lint's, check's, lint --host-specific).

Apart from the rule engine (:mod:`ocitool.lint.engine`) so that ``ocitool check`` and
the reporters do not load lint's rules, context and selection to name their result.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocitool.errors import Diagnostic
from ocitool.spec.load import Document


@dataclass
class FileResult:
    """The findings for one input; ``doc`` is kept so reporters can show snippets."""

    path: str
    findings: list[Diagnostic]
    doc: Document | None = None
