"""The typed model: built from real configs, pointers kept, bad types refused with a location."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocitool import records
from ocitool.errors import OciToolError, ValidationError
from ocitool.spec import model as m
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text
from ocitool.spec.pipeline import load_spec

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def build(data: object) -> m.Spec:
    return build_spec(parse_text(json.dumps(data, indent=2), "config.json"))


def minimal(**extra: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "ociVersion": "1.2.0",
        "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sh"]},
        "root": {"path": "rootfs"},
    }
    doc.update(extra)
    return doc


def test_busybox_example_builds_with_pointers() -> None:
    _, spec = load_spec(str(EXAMPLES / "busybox"), validate=False)
    assert spec.oci_version == "1.0.2-dev"
    assert spec.process is not None and spec.process.terminal is True
    assert spec.process.user.pointer == "/process/user"
    assert spec.process.rlimits[0] == m.Rlimit(
        pointer="/process/rlimits/0", type="RLIMIT_NOFILE", soft=1024, hard=1024
    )
    assert spec.mounts[2].destination == "/dev/pts"
    assert spec.mounts[2].pointer == "/mounts/2"
    assert "gid=5" in spec.mounts[2].options
    assert spec.linux is not None
    assert [ns.type for ns in spec.linux.namespaces] == ["pid", "network", "ipc", "uts", "mount"]
    assert spec.linux.resources is not None
    assert spec.linux.resources.devices[0].allow is False
    assert spec.linux.masked_paths[0] == "/proc/acpi"
    assert spec.root == m.Root(pointer="/root", path="rootfs", readonly=True)


def test_full_example_every_section() -> None:
    _, spec = load_spec(str(EXAMPLES / "full"), validate=False)
    linux = spec.linux
    assert linux is not None and linux.resources is not None
    res = linux.resources
    assert res.memory is not None and res.memory.limit is not None
    assert res.cpu is not None and res.block_io is not None and res.pids is not None
    assert res.hugepage_limits and res.network is not None and res.rdma and res.unified
    assert linux.seccomp is not None and linux.seccomp.syscalls
    # the raw seccomp object is kept for the compiler, equal to the document's
    assert dict(linux.seccomp.raw)["defaultAction"] == linux.seccomp.default_action
    assert linux.time_offsets and linux.net_devices and linux.personality is not None
    assert linux.memory_policy is not None and linux.intel_rdt is not None
    assert spec.hooks is not None and spec.hooks.create_runtime
    assert spec.process is not None and spec.process.scheduler is not None
    assert spec.process.io_priority is not None and spec.process.exec_cpu_affinity is not None
    # map-valued members keep their key in the node and a pointer to it
    off = linux.time_offsets[0]
    assert off.pointer == f"/linux/timeOffsets/{off.clock}"
    dev = linux.net_devices[0]
    assert dev.pointer == f"/linux/netDevices/{dev.host_name}"


def _walk(node: object) -> list[m.Node]:
    out: list[m.Node] = []
    if isinstance(node, m.Node):
        out.append(node)
        for name in records.fields(node):
            out.extend(_walk(getattr(node, name)))
    elif isinstance(node, tuple):
        for item in node:
            out.extend(_walk(item))
    return out


@pytest.mark.parametrize("example", ["busybox", "rootless", "full"])
def test_every_node_pointer_resolves(example: str) -> None:
    doc, spec = load_spec(str(EXAMPLES / example), validate=False)
    nodes = _walk(spec)
    assert len(nodes) > 10
    for node in nodes:
        doc.resolve(node.pointer)  # raises KeyError if the pointer is wrong


def test_model_is_frozen_and_uses_tuples() -> None:
    spec = build(minimal(mounts=[{"destination": "/proc", "type": "proc", "options": ["ro"]}]))
    with pytest.raises(records.FrozenRecordError):
        spec.hostname = "x"  # type: ignore[misc]
    assert isinstance(spec.mounts, tuple) and isinstance(spec.mounts[0].options, tuple)
    with pytest.raises(TypeError):
        spec.annotations["a"] = "b"  # type: ignore[index]


def test_absent_members_are_none_or_empty() -> None:
    spec = build({"ociVersion": "1.0.0"})
    assert spec.process is None and spec.root is None and spec.linux is None
    assert spec.mounts == () and spec.hooks is None and dict(spec.annotations) == {}


def test_node_at_builds_child_pointers() -> None:
    spec = build(minimal(linux={"sysctl": {"net.ipv4.ip_forward": "1"}}))
    assert spec.linux is not None
    assert spec.linux.at("sysctl", "a/b") == "/linux/sysctl/a~1b"
    assert spec.process is not None and spec.process.at("oomScoreAdj") == "/process/oomScoreAdj"


@pytest.mark.parametrize(
    ("data", "pointer", "code"),
    [
        ({"ociVersion": 1}, "/ociVersion", "OCI301"),
        ({}, "", "OCI302"),
        (
            minimal(process={"user": {"uid": "0", "gid": 0}, "cwd": "/"}),
            "/process/user/uid",
            "OCI301",
        ),
        (
            minimal(process={"user": {"uid": True, "gid": 0}, "cwd": "/"}),
            "/process/user/uid",
            "OCI301",
        ),
        (minimal(process={"cwd": "/"}), "/process", "OCI302"),
        (
            minimal(mounts=[{"destination": "/a", "options": ["ro", 3]}]),
            "/mounts/0/options/1",
            "OCI301",
        ),
        (minimal(mounts=[{"type": "proc"}]), "/mounts/0", "OCI302"),
        (minimal(linux={"namespaces": "pid"}), "/linux/namespaces", "OCI301"),
        (
            minimal(linux={"resources": {"memory": {"limit": 1.5}}}),
            "/linux/resources/memory/limit",
            "OCI301",
        ),
        (minimal(linux={"sysctl": {"a": 1}}), "/linux/sysctl/a", "OCI301"),
        (
            minimal(linux={"timeOffsets": {"monotonic": 5}}),
            "/linux/timeOffsets/monotonic",
            "OCI301",
        ),
        (minimal(hooks={"poststart": [{"args": []}]}), "/hooks/poststart/0", "OCI302"),
        (
            minimal(linux={"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{}]}}),
            "/linux/seccomp/syscalls/0",
            "OCI302",
        ),
        ([], "", "OCI301"),
    ],
)
def test_bad_types_are_located_errors(data: object, pointer: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        build(data)
    err = info.value
    assert err.pointer == pointer
    assert err.code == code
    assert err.line is not None and err.column is not None
    assert err.path == "config.json"


def test_load_spec_validate_reports_all_schema_errors(tmp_path: Path) -> None:
    bad = minimal()
    bad["process"] = {"user": {"uid": -1, "gid": 0}, "cwd": "relative", "args": ["sh"]}
    bad["hostname"] = 5
    path = tmp_path / "config.json"
    path.write_text(json.dumps(bad, indent=2))
    with pytest.raises(ValidationError) as info:
        load_spec(str(path))
    diags = info.value.diagnostics
    assert len(diags) >= 2
    assert {d.pointer for d in diags} >= {"/hostname", "/process/user/uid"}
    assert all(d.line is not None for d in diags)


def test_load_spec_without_validate_does_not_need_jsonschema(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from ocitool.spec.pipeline import load_spec;"
        f"load_spec({str(EXAMPLES / 'busybox')!r}, validate=False);"
        "print('jsonschema' in sys.modules, 'rich' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_build_never_raises_non_tool_errors() -> None:
    weird: list[object] = [
        {"ociVersion": "1", "process": []},
        {"ociVersion": "1", "linux": {"resources": {"devices": [None]}}},
        {"ociVersion": "1", "linux": {"uidMappings": [{"containerID": 0}]}},
        {"ociVersion": "1", "mounts": [{"destination": "/x", "uidMappings": "no"}]},
    ]
    for data in weird:
        with pytest.raises(OciToolError):
            build(data)
