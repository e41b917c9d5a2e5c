"""Hints name the fix for the usual slips: aliases, missing units, case, quotes, relative paths."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocitool.spec.load import parse_text
from ocitool.spec.schema import validate_config


def config(**linux: Any) -> dict[str, Any]:
    return {
        "ociVersion": "1.2.0",
        "root": {"path": "rootfs"},
        "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}},
        "linux": linux,
    }


def only_hint(doc: dict[str, Any]) -> str:
    (diag,) = validate_config(parse_text(json.dumps(doc)))
    assert diag.hint is not None
    return diag.hint


@pytest.mark.parametrize(
    ("linux", "hint"),
    [
        ({"namespaces": [{"type": "net"}]}, 'did you mean "network"?'),
        ({"namespaces": [{"type": "mnt"}]}, 'did you mean "mount"?'),
        ({"namespaces": [{"type": "PID"}]}, 'did you mean "pid"?'),
        ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_AMD64"]}},
         'did you mean "SCMP_ARCH_X86_64"?'),
        ({"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_ARM64"]}},
         'did you mean "SCMP_ARCH_AARCH64"?'),
        ({"resources": {"hugepageLimits": [{"pageSize": "2M", "limit": 0}]}}, 'did you mean "2MB"?'),
        ({"resources": {"cpu": {"cpus": "0-3;7"}}}, 'did you mean "0-3,7"?'),
        ({"resources": {"memory": {"limit": "1024"}}}, "write 1024 without quotes"),
        ({"resources": {"memory": {"disableOOMKiller": "true"}}}, "write true without quotes"),
        ({"maskedPaths": ["proc/kcore"]}, 'start the path with "/", e.g. "/proc/kcore"'),
        ({"readonlyPaths": "/proc/sys"}, 'wrap the value in a list: ["/proc/sys"]'),
        ({"resources": {"memory": {"swappiness": 200}}}, "use a value from 0 to 100"),
    ],
)  # fmt: skip
def test_hint_names_the_fix(linux: dict[str, Any], hint: str) -> None:
    assert only_hint(config(**linux)) == hint


def test_capability_case_slip() -> None:
    doc = config()
    doc["process"]["capabilities"] = {"bounding": ["cap_chown"]}
    assert only_hint(doc) == 'did you mean "CAP_CHOWN"?'


def test_unknown_member_hint_names_the_closest_known_member() -> None:
    doc = config()
    doc["process"]["noNewPrivilege"] = True
    assert only_hint(doc).startswith("did you mean 'noNewPrivileges'?")
