"""SARIF 2.1.0 report for GitHub code scanning.

Each result carries ruleId, level, message and a physical location (file
relative to the working directory, which in CI is the repository root, plus
line and column) and the JSON pointer as a logical location. Every lint rule
is described in tool.driver.rules with its rationale and fix as help text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from ocitool import __version__
from ocitool.lint.registry import Rule, all_rules
from ocitool.lint.report import describe
from ocitool.lint.report.paths import display_path
from ocitool.lint.result import FileResult

if TYPE_CHECKING:
    from ocitool.check.registry import CheckRule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_INFO_URI = "https://github.com/ocitool/ocitool/blob/main/docs/lint.md"
_CHECK_URI = "https://github.com/ocitool/ocitool/blob/main/docs/check.md"


def _descriptor(rule: Rule | CheckRule) -> dict[str, Any]:
    text = f"{rule.summary}\n\n{rule.rationale}\n\nFix: {rule.fix}"
    markdown = f"**{rule.summary}**\n\n{rule.rationale}\n\n**Fix:** {rule.fix}"
    return {
        "id": rule.code,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": text, "markdown": markdown},
        "helpUri": f"{_CHECK_URI if rule.code.startswith('OCH') else _INFO_URI}#{rule.code.lower()}",
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": [rule.family], "precision": "high"},
    }


def _other_descriptor(code: str) -> dict[str, Any]:
    """Descriptor for a loader / schema code (OCI1xx, OCI2xx) that appears in the results."""
    what = "config.json is not valid JSON" if code.startswith("OCI1") else "schema validation"
    return {
        "id": code,
        "name": "ConfigValidation" if code.startswith("OCI2") else "ConfigSyntax",
        "shortDescription": {"text": what},
        "fullDescription": {"text": f"{code}: {what}; lint rules were skipped for this file."},
        "help": {"text": "Fix the reported problem; run 'ocitool validate' for details."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["validation"]},
    }


def _uri(path: str) -> str:
    shown = display_path(path)
    if shown.startswith("/"):
        return "file://" + quote(shown)
    return quote(shown)


def _pointer_kind(pointer: str) -> str:
    last = pointer.rsplit("/", 1)[-1]
    if pointer == "":
        return "object"
    return "element" if last.isdigit() else "property"


def to_sarif(results: Sequence[FileResult]) -> dict[str, Any]:
    rules = all_rules()
    descriptors = [_descriptor(r) for r in rules]
    index = {r.code: i for i, r in enumerate(rules)}
    sarif_results = []
    for result in results:
        for d in result.findings:
            if d.code not in index:
                index[d.code] = len(descriptors)
                check = describe(d.code) if d.code.startswith("OCH") else None
                descriptors.append(_descriptor(check) if check else _other_descriptor(d.code))
            region: dict[str, Any] = {"startLine": d.line or 1}
            if d.column:
                region["startColumn"] = d.column
            location: dict[str, Any] = {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(d.path or result.path)},
                    "region": region,
                }
            }
            if d.pointer:
                location["logicalLocations"] = [
                    {"fullyQualifiedName": d.pointer, "kind": _pointer_kind(d.pointer)}
                ]
            message = d.message + (f". Fix: {d.hint}" if d.hint else "")
            fingerprint = hashlib.sha256(
                f"{display_path(d.path or result.path)}|{d.code}|{d.pointer}".encode()
            ).hexdigest()
            sarif_results.append(
                {
                    "ruleId": d.code,
                    "ruleIndex": index[d.code],
                    "level": _LEVEL.get(d.severity, "error"),
                    "message": {"text": message},
                    "locations": [location],
                    "partialFingerprints": {"ocitoolFinding/v1": fingerprint},
                }
            )
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ocitool-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": _INFO_URI,
                        "rules": descriptors,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": sarif_results,
            }
        ],
    }


def render(results: Sequence[FileResult], out: TextIO) -> None:
    json.dump(to_sarif(results), out, indent=2)
    out.write("\n")
