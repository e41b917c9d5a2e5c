"""Golden plans: the complete plan for reference configs on v1/v2/hybrid x x86_64/aarch64.

The files under tests/golden/plans/ were reviewed by hand once; any change to
lowering that alters a plan shows up here as a diff. After an intended
change, regenerate with ``OCITOOL_UPDATE_GOLDEN=1 pytest tests/unit/test_golden_plans.py``
and review the diff before committing.

Cases (see tests/golden/README.md):
* ``busybox``: examples/busybox (``runc spec``), on a root host;
* ``rootless``: examples/rootless (``runc spec --rootless``) as uid 1000 would
  generate it (hostID 1000), on a host where the runtime runs as uid 1000;
* ``full``: examples/full (every field) minus what the host cannot honour:
  ``unified`` on v1/hybrid, ``cpu.realtime*`` on v2, ``intelRdt`` on aarch64
  (no resctrl); that the untouched config is refused there is asserted
  separately.
* ``busybox-joinpid``: busybox joining an existing pid namespace (hybrid,
  x86_64): the fork and the proc mount come after the root switch;
* the systemd cgroup driver (``v1-systemd``, ``v2-systemd``, x86_64): ``busybox``
  and ``full`` on the preset with ``systemd=1``, lowered with
  ``systemd_cgroup=True``; ``full`` then has a ``slice:prefix:name``
  cgroupsPath and two ``org.systemd.property.*`` annotations.

The compiled seccomp program (bytes and instruction count) is normalised in
the files: the compiler is checked by its own tests (libseccomp differential,
emulator); here the op's place, flags and listener are what is locked.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from ocitool.errors import LoweringError
from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.plan.plan import Plan
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "plans"
UPDATE = os.environ.get("OCITOOL_UPDATE_GOLDEN") == "1"
MODES = ("v1", "v2", "hybrid")
ARCHES = ("x86_64", "aarch64")
CONFIGS = ("busybox", "rootless", "full")
# What the host's cgroup version cannot honour, dropped from examples/full per mode.
UNSUPPORTED = {
    "v1": [("resources", "unified")],
    "hybrid": [("resources", "unified")],
    "v2": [("resources", "cpu", "realtimeRuntime"), ("resources", "cpu", "realtimePeriod")],
}


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPO / "examples" / name / "config.json").read_text())
    return data


def case_config(name: str, mode: str, arch: str) -> dict[str, Any]:
    if mode.endswith("-systemd"):
        data = copy.deepcopy(case_config(name, mode.split("-")[0], arch))
        if name == "full":
            data["linux"]["cgroupsPath"] = "machine.slice:ocitool:full-example"
            data["annotations"]["org.systemd.property.CollectMode"] = "'inactive-or-failed'"
            data["annotations"]["org.systemd.property.TimeoutStopSec"] = "uint64 10"
        return data
    if name == "rootless":
        data = example("rootless")
        for key in ("uidMappings", "gidMappings"):
            for m in data["linux"][key]:
                m["hostID"] = 1000
        return data
    if name == "full":
        data = copy.deepcopy(example("full"))
        drop = UNSUPPORTED[mode] + ([("intelRdt",)] if arch != "x86_64" else [])
        for path in drop:
            node = data["linux"]
            for key in path[:-1]:
                node = node[key]
            node.pop(path[-1], None)
        return data
    if name == "busybox-joinpid":  # the fork after the root switch (lower/joinedpid.py)
        data = copy.deepcopy(example("busybox"))
        for ns in data["linux"]["namespaces"]:
            if ns["type"] == "pid":
                ns["path"] = "/proc/4242/ns/pid"
        return data
    return example(name)


def case_host(name: str, mode: str, arch: str) -> HostInfo:
    if mode.endswith("-systemd"):
        host = HostInfo.parse_overrides("systemd=1", HostInfo.preset(mode.split("-")[0], arch))
    else:
        host = HostInfo.preset(mode, arch)
    if name == "full":  # its process labels and mountLabel need the LSMs (OCI374 otherwise)
        return HostInfo.parse_overrides("lsms=capability+apparmor+selinux", host)
    return HostInfo.parse_overrides("euid=1000", host) if name == "rootless" else host


def lower_case(name: str, mode: str, arch: str) -> Plan:
    data = case_config(name, mode, arch)
    doc = parse_text(json.dumps(data, indent=2), "config.json")
    return lower(
        build_spec(doc),
        case_host(name, mode, arch),
        container_id=name,
        bundle=f"/run/bundles/{name}",
        systemd_cgroup=mode.endswith("-systemd"),
    )


def render(name: str, mode: str, arch: str) -> str:
    plan = lower_case(name, mode, arch)
    out = plan.to_json()
    for op in out["ops"]:
        if op["op"] == "seccomp_load":  # compiled bytes belong to the compiler's own tests
            op["program"] = "<normalised>" if op["program"] is not None else None
            op["instructions"] = "<normalised>"
            op["text"] = re.sub(r"len=\d+", "len=N", op["text"])
    if plan.diagnostics:
        out["diagnostics"] = [d.to_json() for d in plan.diagnostics]
    return json.dumps(out, indent=1) + "\n"


def _op_lines(text: str) -> list[str]:
    return [f"{op['phase']}: {op['text']}" for op in json.loads(text)["ops"]]


SYSTEMD_CASES = [
    (name, mode, "x86_64") for name in ("busybox", "full") for mode in ("v1-systemd", "v2-systemd")
]
JOINED_PID_CASES = [("busybox-joinpid", "hybrid", "x86_64")]


@pytest.mark.parametrize(
    ("name", "mode", "arch"),
    [(n, m, a) for n in CONFIGS for m in MODES for a in ARCHES] + SYSTEMD_CASES + JOINED_PID_CASES,
)
def test_golden_plan(name: str, mode: str, arch: str) -> None:
    path = GOLDEN / f"{name}.{mode}.{arch}.json"
    actual = render(name, mode, arch)
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    assert path.exists(), f"missing golden {path}; run with OCITOOL_UPDATE_GOLDEN=1"
    expected = path.read_text()
    if actual != expected:
        diff = "\n".join(
            difflib.unified_diff(
                _op_lines(expected), _op_lines(actual), "golden", "now", lineterm=""
            )
        )
        pytest.fail(
            f"plan differs from {path.name} (op text diff below; fields may differ too)\n"
            + (diff or "(op texts equal; a field or diagnostic changed)")
        )


@pytest.mark.parametrize(
    ("mode", "pointer"),
    [
        ("v1", "/linux/resources/unified"),
        ("hybrid", "/linux/resources/unified"),
        ("v2", "/linux/resources/cpu/realtimeRuntime"),
    ],
)
def test_full_config_as_is_is_refused_where_cgroups_cannot_honour_it(
    mode: str, pointer: str
) -> None:
    doc = parse_text(json.dumps(example("full"), indent=2), "config.json")
    with pytest.raises(LoweringError) as info:
        lower(build_spec(doc), HostInfo.preset(mode), container_id="full", bundle="/b")
    assert info.value.pointer == pointer


def test_goldens_differ_where_hosts_differ() -> None:
    v1 = json.loads((GOLDEN / "busybox.v1.x86_64.json").read_text())
    v2 = json.loads((GOLDEN / "busybox.v2.x86_64.json").read_text())
    assert {op["op"] for op in v1["ops"]} != {op["op"] for op in v2["ops"]}
    x86 = json.loads((GOLDEN / "full.v2.x86_64.json").read_text())
    arm = json.loads((GOLDEN / "full.v2.aarch64.json").read_text())
    assert x86["host"]["arch"] == "x86_64" and arm["host"]["arch"] == "aarch64"
    # intelRdt (resctrl) is planned on x86_64 only
    assert any("/sys/fs/resctrl/" in op.get("path", "") for op in x86["ops"])
    assert not any("/sys/fs/resctrl/" in op.get("path", "") for op in arm["ops"])
