"""The demo's probe parser and its promised-vs-seen comparison (pure)."""

from __future__ import annotations

import json

from ocitool.demo.probe import parse_probe, probe_script
from ocitool.demo.report import compare, masked_paths
from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text
from ocitool.spec.profiles import ProfileParams, build_profile


def _plan_json(userns: bool) -> dict:
    config = build_profile("hardened", ProfileParams(uid=0, gid=0, userns=userns, seccomp=None))
    config["hostname"] = "demo-host"
    doc = parse_text(json.dumps(config), "config.json")
    plan = lower(build_spec(doc), HostInfo.preset("v1"), container_id="d", bundle="/b")
    return plan.to_json()


def test_probe_output_is_parsed_into_facts() -> None:
    facts = parse_probe(
        "hostname=web\nCapEff=0000000000000000\nnoise line\nmasked:/proc/kcore=0 bytes\n"
    )
    assert facts == {
        "hostname": "web",
        "CapEff": "0000000000000000",
        "masked:/proc/kcore": "0 bytes",
    }


def test_probe_script_lists_the_plans_masked_paths() -> None:
    plan = _plan_json(userns=False)
    paths = masked_paths(plan)
    assert "/proc/kcore" in paths
    script = probe_script(paths)
    assert "'/proc/kcore'" in script and "MASKED" not in script


def test_matching_facts_compare_ok_and_a_difference_is_caught() -> None:
    plan = _plan_json(userns=True)
    seen = {
        "hostname": "demo-host",
        "id": "0:0",
        "uid_map": "0     100000      65536",
        "CapBnd": "0000000000000000",
        "CapPrm": "0000000000000000",
        "CapEff": "0000000000000000",
        "CapInh": "0000000000000000",
        "CapAmb": "0000000000000000",
        "NoNewPrivs": "1",
        "Seccomp": "0",
        "memory_limit": "1073741824",
        "masked:/proc/kcore": "0 bytes",
        "root_writable": "no",
    }
    rows = {row.what: row for row in compare(plan, seen)}
    assert all(row.ok for row in rows.values()), [r for r in rows.values() if not r.ok]
    assert rows["uid_map"].promised == "0 100000 65536"
    assert rows["masked /proc/kcore"].ok
    seen["CapEff"] = "00000000a80425fb"
    seen.pop("hostname")
    rows = {row.what: row for row in compare(plan, seen)}
    assert not rows["CapEff"].ok
    assert rows["hostname"].seen == "(not seen)" and not rows["hostname"].ok
