"""docs/lint.md documents every rule (generated section up to date), the Actions snippet, pre-commit."""

from __future__ import annotations

import re
from pathlib import Path

from ocitool.lint.docs import rules_markdown, splice
from ocitool.lint.registry import all_rules

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "lint.md").read_text()


def test_rule_reference_is_up_to_date() -> None:
    assert splice(DOC) == DOC, "run: python -m ocitool.lint.docs docs/lint.md"


def test_every_rule_is_documented_with_rationale_and_fix() -> None:
    section = rules_markdown()
    for rule in all_rules():
        entry = section.split(f"#### {rule.code}\n", 1)[1].split("####", 1)[0]
        assert f"`{rule.name}` · {rule.severity}" in entry
        assert f"Why: {rule.rationale}" in entry
        assert f"Fix: {rule.fix}" in entry
        assert rule.code in DOC


def test_github_actions_snippet_uploads_sarif() -> None:
    workflow = DOC.split("## GitHub Actions", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    assert "security-events: write" in workflow
    assert "ocitool lint --format sarif -o ocitool-lint.sarif" in workflow
    upload = workflow.split("github/codeql-action/upload-sarif@", 1)[1]
    assert "sarif_file: ocitool-lint.sarif" in upload
    assert re.search(r"if: (always\(\)|success\(\) \|\| failure\(\))", workflow)


def test_pre_commit_hook_runs_ocitool_lint() -> None:
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert re.search(r"^- id: ocitool-lint$", hooks, re.M)
    assert re.search(r"^  entry: ocitool lint\b", hooks, re.M)
    assert re.search(r"^  language: python$", hooks, re.M)
    files = re.search(r"^  files: (.+)$", hooks, re.M)
    assert files is not None
    pattern = re.compile(files.group(1))
    assert pattern.search("bundles/web/config.json") and pattern.search("config.json")
    assert not pattern.search("tsconfig.json")
