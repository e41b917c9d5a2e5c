"""Every lint rule: one config that triggers it, one near miss that must not."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ocitool.lint.engine import LintOptions, lint_document, run_rules
from ocitool.lint.host import HostFacts
from ocitool.lint.registry import all_rules, get_rule
from ocitool.lint.selection import Selection
from ocitool.spec.load import parse_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint_cases import CASES, HOST_CASES, hardened  # noqa: E402


def _codes(cfg: dict, code: str, host: HostFacts | None = None) -> list[str]:
    doc = parse_text(json.dumps(cfg, indent=2), "config.json")
    options = LintOptions(selection=Selection(select=(code,), host_specific=True), host=host)
    return [d.code for d in run_rules(doc, options)]


def test_every_rule_has_a_case() -> None:
    codes = {r.code for r in all_rules()}
    assert codes == set(CASES) | set(HOST_CASES)
    assert len(codes) >= 40


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_triggers(code: str) -> None:
    bad, _, host = CASES[code]
    cfg = hardened()
    bad(cfg)
    assert code in _codes(cfg, code, host)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_near_miss_is_quiet(code: str) -> None:
    _, good, host = CASES[code]
    cfg = hardened()
    good(cfg)
    assert code not in _codes(cfg, code, host)


@pytest.mark.parametrize("code", sorted(HOST_CASES))
def test_host_rule_triggers_only_on_that_host(code: str) -> None:
    patch, bad_host, good_host = HOST_CASES[code]
    cfg = hardened()
    patch(cfg)
    assert code in _codes(cfg, code, bad_host)
    assert code not in _codes(cfg, code, good_host)
    assert code not in _codes(cfg, code, None)  # unknown host: quiet


def test_host_rules_need_host_specific() -> None:
    cfg = hardened()
    HOST_CASES["OCP350"][0](cfg)
    doc = parse_text(json.dumps(cfg), "config.json")
    host = HostFacts(apparmor=False)
    assert "OCP350" not in [d.code for d in run_rules(doc, LintOptions(host=host))]
    on = LintOptions(selection=Selection(host_specific=True), host=host)
    assert "OCP350" in [d.code for d in run_rules(doc, on)]


def test_findings_point_into_the_document() -> None:
    cfg = hardened()
    CASES["OCS231"][0](cfg)
    text = json.dumps(cfg, indent=2)
    doc = parse_text(text, "config.json")
    (finding,) = [d for d in lint_document(doc) if d.code == "OCS231"]
    assert finding.pointer == f"/mounts/{len(cfg['mounts']) - 1}/source"
    assert finding.severity == "error" and finding.hint == get_rule("OCS231").fix  # type: ignore[union-attr]
    line = text.splitlines()[finding.line - 1]  # type: ignore[operator]
    assert line[finding.column - 1 :].startswith('"/var/run/docker.sock"')  # type: ignore[operator]


def test_privileged_subsumes_single_capability_rules() -> None:
    cfg = hardened()
    CASES["OCS201"][0](cfg)
    doc = parse_text(json.dumps(cfg), "config.json")
    codes = [d.code for d in lint_document(doc)]
    assert "OCS201" in codes
    assert not {"OCS202", "OCS203", "OCS204", "OCS251"} & set(codes)


def test_never_allow_under_allow_default_is_the_allow_default_rule() -> None:
    cfg = hardened()
    CASES["OCS211"][0](cfg)
    doc = parse_text(json.dumps(cfg), "config.json")
    findings = {d.code: d for d in lint_document(doc)}
    assert "OCS212" not in findings
    assert "kexec_load" in findings["OCS211"].message and "mount" not in findings["OCS211"].message


def test_read_only_sensitive_bind_counts_only_without_a_safe_user_namespace() -> None:
    from lint_cases import bind, drop_ns, mount, setp

    cfg = hardened()
    mount(cfg, **bind("/proc/sys/kernel", "/host/kernel", "ro"))
    assert "OCS230" not in _codes(cfg, "OCS230")  # container root is uid 100000 on the host
    setp(cfg, "/linux/uidMappings/0/hostID", 0)  # ... unless it maps onto host root
    assert "OCS230" in _codes(cfg, "OCS230")
    cfg = hardened()
    drop_ns(cfg, "user")
    mount(cfg, **bind("/var/run/", "/run/host", "ro"))
    assert "OCS230" in _codes(cfg, "OCS230")
