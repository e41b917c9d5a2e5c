"""One defect per case: the code, the JSON pointer and the line:column of the diagnostic.

Each case mutates examples/full/config.json in one place, serialises it, and
says where in the *text* the diagnostic must point (a regex; the named group
``at``, or the whole match, marks the spot). The expected line:column is
computed from that text offset here, independently of the loader's scanner.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ocitool.spec.load import parse_text, resolve_pointer, split_pointer
from ocitool.spec.schema import validate_config

ROOT = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = json.loads((ROOT / "examples" / "full" / "config.json").read_text())

Mutation = Callable[[dict[str, Any]], None]


def setp(pointer: str, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = split_pointer(pointer)
        node: Any = doc
        for token in parents:
            node = node[int(token)] if isinstance(node, list) else node[token]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def delp(pointer: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = split_pointer(pointer)
        node: Any = doc
        for token in parents:
            node = node[int(token)] if isinstance(node, list) else node[token]
        del node[int(last) if isinstance(node, list) else last]

    return mutate


def appendp(pointer: str, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        resolve_pointer(doc, pointer).append(value)

    return mutate


def offset_to_line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


# (id, mutation, code, pointer, regex marking the expected position)
CASES: list[tuple[str, Mutation, str, str, str]] = [
    # OCI201 wrong type
    ("terminal-string", setp("/process/terminal", "yes"), "OCI201", "/process/terminal", '"yes"'),
    ("uid-string", setp("/process/user/uid", "1000x"), "OCI201", "/process/user/uid", '"1000x"'),
    ("memory-limit-string", setp("/linux/resources/memory/limit", "512M"), "OCI201",
     "/linux/resources/memory/limit", '"512M"'),
    ("mounts-object", setp("/mounts", {"m": 1}), "OCI201", "/mounts", r'"mounts": (?P<at>\{)'),
    ("annotation-value-number", setp("/annotations/com.example.gpu-cores", 2), "OCI201",
     "/annotations/com.example.gpu-cores", r'"com.example.gpu-cores": (?P<at>2)'),
    ("readonly-null", setp("/root/readonly", None), "OCI201", "/root/readonly",
     r'"readonly": (?P<at>null)'),
    # OCI202 value not allowed
    ("namespace-type", setp("/linux/namespaces/0/type", "pidd"), "OCI202",
     "/linux/namespaces/0/type", '"pidd"'),
    ("seccomp-default-action", setp("/linux/seccomp/defaultAction", "SCMP_ACT_DENY"), "OCI202",
     "/linux/seccomp/defaultAction", '"SCMP_ACT_DENY"'),
    ("seccomp-arch", setp("/linux/seccomp/architectures/0", "SCMP_ARCH_AMD64"), "OCI202",
     "/linux/seccomp/architectures/0", '"SCMP_ARCH_AMD64"'),
    ("seccomp-flag", setp("/linux/seccomp/flags/1", "SECCOMP_FILTER_FLAG_BOGUS"), "OCI202",
     "/linux/seccomp/flags/1", '"SECCOMP_FILTER_FLAG_BOGUS"'),
    ("seccomp-operator", setp("/linux/seccomp/syscalls/1/args/0/op", "SCMP_CMP_EQUAL"), "OCI202",
     "/linux/seccomp/syscalls/1/args/0/op", '"SCMP_CMP_EQUAL"'),
    ("rlimit-name", setp("/process/rlimits/1/type", "RLIMIT_FILES"), "OCI202",
     "/process/rlimits/1/type", '"RLIMIT_FILES"'),
    ("rootfs-propagation", setp("/linux/rootfsPropagation", "sideways"), "OCI202",
     "/linux/rootfsPropagation", '"sideways"'),
    ("scheduler-policy", setp("/process/scheduler/policy", "SCHED_FAST"), "OCI202",
     "/process/scheduler/policy", '"SCHED_FAST"'),
    ("io-priority-class", setp("/process/ioPriority/class", "IOPRIO_CLASS_HIGH"), "OCI202",
     "/process/ioPriority/class", '"IOPRIO_CLASS_HIGH"'),
    ("memory-policy-mode", setp("/linux/memoryPolicy/mode", "MPOL_RANDOM"), "OCI202",
     "/linux/memoryPolicy/mode", '"MPOL_RANDOM"'),
    ("personality-domain", setp("/linux/personality/domain", "LINUX64"), "OCI202",
     "/linux/personality/domain", '"LINUX64"'),
    ("device-type", setp("/linux/devices/0/type", "x"), "OCI202", "/linux/devices/0/type",
     '"x"'),
    ("time-offset-clock", setp("/linux/timeOffsets/realtime", {"secs": 1}), "OCI202",
     "/linux/timeOffsets/realtime", '"realtime"'),
    # OCI203 required member missing (located at the object that lacks it)
    ("process-cwd", delp("/process/cwd"), "OCI203", "/process/cwd", r'"process": (?P<at>\{)'),
    ("root-path", delp("/root/path"), "OCI203", "/root/path", r'"root": (?P<at>\{)'),
    ("root-missing", delp("/root"), "OCI203", "/root", r"^(?P<at>\{)"),
    ("oci-version-missing", delp("/ociVersion"), "OCI203", "/ociVersion", r"^(?P<at>\{)"),
    ("syscall-action", delp("/linux/seccomp/syscalls/0/action"), "OCI203",
     "/linux/seccomp/syscalls/0/action", r'"syscalls": \[\s*(?P<at>\{)'),
    ("hook-path", delp("/hooks/poststart/0/path"), "OCI203", "/hooks/poststart/0/path",
     r'"poststart": \[\s*(?P<at>\{)'),
    ("memory-policy-mode-missing", delp("/linux/memoryPolicy/mode"), "OCI203",
     "/linux/memoryPolicy/mode", r'"memoryPolicy": (?P<at>\{)'),
    ("char-device-major", delp("/linux/devices/0/major"), "OCI203", "/linux/devices/0/major",
     r'"devices": \[\s*(?P<at>\{)\s*"path": "/dev/fuse"'),
    ("process-args-missing", delp("/process/args"), "OCI203", "/process/args",
     r'"process": (?P<at>\{)'),
    ("user-gid-missing", delp("/process/user/gid"), "OCI203", "/process/user/gid",
     r'"user": (?P<at>\{)'),
    ("rlimit-soft", delp("/process/rlimits/0/soft"), "OCI203", "/process/rlimits/0/soft",
     r'"rlimits": \[\s*(?P<at>\{)'),
    # OCI204 text of the wrong form
    ("namespace-path-relative", setp("/linux/namespaces/1/path", "proc/1/ns/net"), "OCI204",
     "/linux/namespaces/1/path", '"proc/1/ns/net"'),
    ("hook-path-relative", setp("/hooks/createRuntime/0/path", "usr/bin/x"), "OCI204",
     "/hooks/createRuntime/0/path", '"usr/bin/x"'),
    ("hugepage-size", setp("/linux/resources/hugepageLimits/0/pageSize", "2M"), "OCI204",
     "/linux/resources/hugepageLimits/0/pageSize", '"2M"'),
    ("cpuset-cpus", setp("/linux/resources/cpu/cpus", "0-3;7"), "OCI204",
     "/linux/resources/cpu/cpus", '"0-3;7"'),
    ("membw-schema", setp("/linux/intelRdt/memBwSchema", "L3:0=ff"), "OCI204",
     "/linux/intelRdt/memBwSchema", '"L3:0=ff"'),
    ("capability-lowercase", setp("/process/capabilities/bounding/3", "cap_chown"), "OCI204",
     "/process/capabilities/bounding/3", '"cap_chown"'),
    ("masked-path-relative", setp("/linux/maskedPaths/0", "proc/acpi"), "OCI204",
     "/linux/maskedPaths/0", '"proc/acpi"'),
    ("cwd-relative", setp("/process/cwd", "home/user"), "OCI204", "/process/cwd",
     '"home/user"'),
    ("net-device-name", setp("/linux/netDevices/a~1b", {}), "OCI204", "/linux/netDevices/a~1b",
     '"a/b"'),
    ("exec-affinity", setp("/process/execCPUAffinity/final", "all"), "OCI204",
     "/process/execCPUAffinity/final", '"all"'),
    # OCI205 unknown member (a warning, at the member name)
    ("unknown-process-member", setp("/process/termnal", True), "OCI205", "/process/termnal",
     '"termnal"'),
    ("unknown-memory-member", setp("/linux/resources/memory/limt", 1), "OCI205",
     "/linux/resources/memory/limt", '"limt"'),
    ("unknown-top-level", setp("/platform", {"os": "linux"}), "OCI205", "/platform",
     '"platform"'),
    # OCI206 out of range
    ("oom-score-adj", setp("/process/oomScoreAdj", 1001), "OCI206", "/process/oomScoreAdj",
     "1001"),
    ("io-priority", setp("/process/ioPriority/priority", 8), "OCI206",
     "/process/ioPriority/priority", r'"priority": (?P<at>8)'),
    ("uid-negative", setp("/process/user/uid", -1), "OCI206", "/process/user/uid",
     r'"uid": (?P<at>-1)'),
    ("hook-timeout-zero", setp("/hooks/poststart/0/timeout", 0), "OCI206",
     "/hooks/poststart/0/timeout", r'"timeout": (?P<at>0)'),
    ("swappiness", setp("/linux/resources/memory/swappiness", 101), "OCI206",
     "/linux/resources/memory/swappiness", "101"),
    ("syscall-arg-index", setp("/linux/seccomp/syscalls/1/args/0/index", 6), "OCI206",
     "/linux/seccomp/syscalls/1/args/0/index", r'"index": (?P<at>6)'),
    ("nanosecs", setp("/linux/timeOffsets/boottime/nanosecs", 1_000_000_000), "OCI206",
     "/linux/timeOffsets/boottime/nanosecs", "1000000000"),
    ("uid-too-big", setp("/process/user/gid", 2**32), "OCI206", "/process/user/gid",
     str(2**32)),
    # OCI207 size
    ("args-empty", setp("/process/args", []), "OCI207", "/process/args",
     r'"args": (?P<at>\[\])'),
    ("syscall-names-empty", setp("/linux/seccomp/syscalls/0/names", []), "OCI207",
     "/linux/seccomp/syscalls/0/names", r'"names": (?P<at>\[\])'),
    ("hostname-too-long", setp("/hostname", "h" * 65), "OCI207", "/hostname", '"hhhh'),
    ("annotation-empty-key", setp("/annotations/", "x"), "OCI204", "/annotations/",
     r'(?P<at>""): "x"'),
    # OCI208 members that go together / at least one of
    ("idmap-mount-half", delp("/mounts/8/gidMappings"), "OCI208", "/mounts/8/uidMappings",
     r'"ridmap"\s*\],\s*(?P<at>"uidMappings")'),
    ("listener-metadata-alone", delp("/linux/seccomp/listenerPath"), "OCI208",
     "/linux/seccomp/listenerMetadata", '"listenerMetadata"'),
    ("weight-device-empty", delp("/linux/resources/blockIO/weightDevice/1/weight"), "OCI208",
     "/linux/resources/blockIO/weightDevice/1", r'"weightDevice": \[\s*\{[^}]*\},\s*(?P<at>\{)'),
    ("rdma-empty", setp("/linux/resources/rdma/mlx4_0", {}), "OCI208",
     "/linux/resources/rdma/mlx4_0", r'"mlx4_0": (?P<at>\{\})'),
    # OCI210 / OCI211 ociVersion
    ("oci-version-major-2", setp("/ociVersion", "2.0.0"), "OCI210", "/ociVersion", '"2.0.0"'),
    ("oci-version-words", setp("/ociVersion", "one"), "OCI210", "/ociVersion", '"one"'),
    ("oci-version-number", setp("/ociVersion", 1), "OCI210", "/ociVersion",
     r'"ociVersion": (?P<at>1)'),
    ("oci-version-newer-minor", setp("/ociVersion", "1.4.0"), "OCI211", "/ociVersion",
     '"1.4.0"'),
    # OCI212 / OCI213 consistency beyond the schema
    ("duplicate-namespace", appendp("/linux/namespaces", {"type": "pid"}), "OCI212",
     "/linux/namespaces/8/type", r'"type": "time"\s*\},\s*\{\s*"type": (?P<at>"pid")'),
    ("duplicate-rlimit", appendp("/process/rlimits", {"type": "RLIMIT_CORE", "soft": 1,
                                                      "hard": 1}),
     "OCI212", "/process/rlimits/2/type", r'\},\s*\{\s*"type": (?P<at>"RLIMIT_CORE"),\s*"soft"'),
    ("burst-above-quota", setp("/linux/resources/cpu/burst", 200000), "OCI213",
     "/linux/resources/cpu/burst", "200000"),
    ("errno-ret-with-allow", setp("/linux/seccomp/syscalls/0/errnoRet", 1), "OCI213",
     "/linux/seccomp/syscalls/0/errnoRet", r'"errnoRet": (?P<at>1)'),
    ("default-errno-with-kill", setp("/linux/seccomp/defaultAction", "SCMP_ACT_KILL"), "OCI213",
     "/linux/seccomp/defaultErrnoRet", r'"defaultErrnoRet": (?P<at>1)'),
    ("mempolicy-local-with-nodes", setp("/linux/memoryPolicy/mode", "MPOL_LOCAL"), "OCI213",
     "/linux/memoryPolicy/nodes", r'"nodes": (?P<at>"0-1")'),
    ("mempolicy-bind-without-nodes", delp("/linux/memoryPolicy/nodes"), "OCI213",
     "/linux/memoryPolicy/mode", '"MPOL_INTERLEAVE"'),
    ("rlimit-soft-above-hard", setp("/process/rlimits/0/soft", 4096), "OCI213",
     "/process/rlimits/0/soft", "4096"),
]  # fmt: skip


def _check(case: tuple[str, Mutation, str, str, str]) -> None:
    _, mutate, code, pointer, anchor = case
    doc_data = copy.deepcopy(BASE)
    mutate(doc_data)
    text = json.dumps(doc_data, indent=2)
    match = re.search(anchor, text, re.MULTILINE)
    assert match, f"anchor {anchor!r} not found"
    assert len(re.findall(anchor, text, re.MULTILINE)) == 1, f"anchor {anchor!r} is ambiguous"
    offset = match.start("at") if "at" in match.groupdict() else match.start()
    line, column = offset_to_line_col(text, offset)

    diags = validate_config(parse_text(text, "case.json"))
    assert len(diags) == 1, [d.render() for d in diags]
    diag = diags[0]
    assert diag.code == code, diag.render()
    assert diag.pointer == pointer, diag.render()
    assert (diag.line, diag.column) == (line, column), diag.render()
    assert diag.path == "case.json"
    assert diag.severity == ("warning" if code in ("OCI205", "OCI211") else "error")
    assert diag.message and "is not valid under any of the given schemas" not in diag.message
    assert diag.hint, diag.render()
    assert diag.expected or code == "OCI205", diag.render()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_one_defect_gives_one_located_diagnostic(
    case: tuple[str, Mutation, str, str, str],
) -> None:
    _check(case)


def test_there_are_at_least_thirty_cases_covering_every_schema_code() -> None:
    assert len(CASES) >= 30
    codes = {c[2] for c in CASES}
    expected = {f"OCI2{n:02d}" for n in range(1, 14)} - {"OCI209"}
    assert expected <= codes


def test_base_config_is_clean() -> None:
    text = json.dumps(BASE, indent=2)
    assert validate_config(parse_text(text)) == []


def test_several_defects_are_all_reported_in_text_order() -> None:
    doc_data = copy.deepcopy(BASE)
    setp("/process/terminal", "yes")(doc_data)
    setp("/linux/namespaces/0/type", "pidd")(doc_data)
    delp("/root/path")(doc_data)
    diags = validate_config(parse_text(json.dumps(doc_data, indent=2)))
    assert [d.pointer for d in diags] == ["/process/terminal", "/root/path",
                                          "/linux/namespaces/0/type"]  # fmt: skip
    lines = [d.line or 0 for d in diags]
    assert lines == sorted(lines)
