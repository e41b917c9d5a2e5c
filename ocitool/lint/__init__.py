"""Lint rules for OCI bundle configs: a registry of coded rules, an engine and reporters.

Rule codes are stable and grouped in three families: ``OCR1xx`` correctness,
``OCS2xx`` security, ``OCP3xx`` portability. ``ocitool lint`` (the CI step)
is built on :func:`ocitool.lint.engine.lint_document` and the reporters in
``ocitool.lint.report``.
"""

from __future__ import annotations

from ocitool.lint.registry import FAMILIES, RULES, Hit, Rule, all_rules, get_rule, rule

__all__ = ["FAMILIES", "RULES", "Hit", "Rule", "all_rules", "get_rule", "rule"]
