"""What the schemas accept: shipped examples, every 1.x version form, state and features documents.

Also checks that examples/full really uses every Linux field the config
schema describes (so golden plans built from it exercise everything), and
that the fast pre-check agrees with jsonschema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ocitool.spec import schema as schema_mod
from ocitool.spec.load import parse_text
from ocitool.spec.schema import validate_config, validate_features, validate_state
from ocitool.spec.schema_fast import compile_schema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/config.json"))
FULL = ROOT / "examples" / "full" / "config.json"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_shipped_examples_are_valid_without_warnings(path: Path) -> None:
    doc = parse_text(path.read_text(), str(path))
    assert validate_config(doc) == []


@pytest.mark.parametrize("name", ["config", "state", "features"])
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    document = load_json(ROOT / "schemas" / f"{name}.schema.json")
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)


# Members the full example leaves out on purpose: other platforms, Windows-only
# process fields, and Intel RDT monitoring switches replaced by enableMonitoring in 1.3.
NOT_IN_FULL_EXAMPLE = {
    "/windows", "/solaris", "/vm", "/zos", "/freebsd",
    "/process/commandLine", "/process/user/username",
    "/linux/intelRdt/enableCMT", "/linux/intelRdt/enableMBM",
}  # fmt: skip


def _schema_paths(node: Any, root: dict[str, Any], base: str, out: set[str]) -> None:
    """Every property path the schema describes (array items as their parent path)."""
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        target = node["$ref"].split("/")[-1]
        _schema_paths(root["$defs"][target], root, base, out)
    for key, sub in node.get("properties", {}).items():
        path = f"{base}/{key}"
        out.add(path)
        if path not in NOT_IN_FULL_EXAMPLE:
            _schema_paths(sub, root, path, out)
    if isinstance(node.get("items"), dict):
        _schema_paths(node["items"], root, base, out)
    if isinstance(node.get("additionalProperties"), dict):
        out.add(base + "/*")
        _schema_paths(node["additionalProperties"], root, base + "/*", out)


def _doc_paths(value: Any, base: str, out: set[str], maps: set[str]) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{base}/*" if base in maps else f"{base}/{key}"
            out.add(path)
            _doc_paths(child, path, out, maps)
    elif isinstance(value, list):
        for child in value:
            _doc_paths(child, base, out, maps)


def _any_hook(path: str) -> str:
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "hooks":
        parts[2] = "*"
    return "/".join(parts)


def test_full_example_uses_every_linux_field_of_the_schema() -> None:
    root = load_json(ROOT / "schemas" / "config.schema.json")
    described: set[str] = set()
    _schema_paths(root, root, "", described)
    maps = {p[:-2] for p in described if p.endswith("/*")}
    used: set[str] = set()
    _doc_paths(load_json(FULL), "", used, maps)
    # every hook kind shares one entry schema: its fields need to appear in some hook
    described, used = {_any_hook(p) for p in described}, {_any_hook(p) for p in used}
    missing = sorted(p for p in described - used if p not in NOT_IN_FULL_EXAMPLE)
    assert missing == []
    for must in (
        "/linux/memoryPolicy/flags",
        "/linux/netDevices/*/name",
        "/mounts/uidMappings",
        "/hooks/startContainer",
        "/hooks/*/timeout",
        "/process/execCPUAffinity/final",
        "/linux/resources/cpu/idle",
        "/linux/resources/memory/checkBeforeUpdate",
    ):
        assert must in described and must in used, must  # fmt: skip


@pytest.mark.parametrize(
    "version", ["1.0.0", "1.0.1", "1.0.2-dev", "1.1.0-rc.1", "1.2.1", "1.3.0", "1.0.0+git.abc"]
)
def test_runtime_spec_1_x_versions_are_accepted(version: str) -> None:
    text = json.dumps({"ociVersion": version, "root": {"path": "rootfs"}})
    assert validate_config(parse_text(text)) == []


def test_unknown_major_version_has_the_exact_message() -> None:
    text = json.dumps({"ociVersion": "2.0.0", "root": {"path": "rootfs"}})
    (diag,) = validate_config(parse_text(text))
    assert diag.code == "OCI210"
    assert diag.message == (
        "ociVersion 2.0.0 has major version 2; ocitool understands runtime-spec 1.x"
    )


def test_windows_config_does_not_need_root() -> None:
    text = json.dumps({"ociVersion": "1.2.0", "windows": {"layerFolders": ["C:\\layers"]}})
    assert validate_config(parse_text(text)) == []


def test_enum_hint_suggests_the_closest_value() -> None:
    text = json.dumps(
        {"ociVersion": "1.0.0", "root": {"path": "r"}, "linux": {"seccomp": {
            "defaultAction": "SCMP_ACT_ALOW"}}}
    )  # fmt: skip
    (diag,) = validate_config(parse_text(text))
    assert diag.hint == 'did you mean "SCMP_ACT_ALLOW"?'
    assert "SCMP_ACT_ALOW" in diag.message


def test_non_object_document_is_a_type_error_at_the_root() -> None:
    (diag,) = validate_config(parse_text("[1, 2]", "x.json"))
    assert (diag.code, diag.pointer, diag.line, diag.column) == ("OCI201", "", 1, 1)


STATE_OK = {
    "ociVersion": "1.3.0",
    "id": "c1",
    "status": "running",
    "pid": 4422,
    "bundle": "/containers/redis",
    "annotations": {"myKey": "myValue"},
}


def test_state_document_is_valid() -> None:
    assert validate_state(parse_text(json.dumps(STATE_OK))) == []
    stopped = {k: v for k, v in STATE_OK.items() if k != "pid"} | {"status": "stopped"}
    assert validate_state(parse_text(json.dumps(stopped))) == []


def test_running_state_needs_a_pid_and_a_known_status() -> None:
    no_pid = {k: v for k, v in STATE_OK.items() if k != "pid"}
    (diag,) = validate_state(parse_text(json.dumps(no_pid)))
    assert (diag.code, diag.pointer) == ("OCI203", "/pid")
    bad = STATE_OK | {"status": "sleeping", "bundle": "relative"}
    codes = sorted((d.code, d.pointer) for d in validate_state(parse_text(json.dumps(bad))))
    assert codes == [("OCI202", "/status"), ("OCI204", "/bundle")]


FEATURES_OK = {
    "ociVersionMin": "1.0.0",
    "ociVersionMax": "1.3.0",
    "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
              "poststop"],
    "mountOptions": ["ro", "rbind", "idmap"],
    "linux": {
        "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time"],
        "capabilities": ["CAP_CHOWN", "CAP_KILL"],
        "cgroup": {"v1": True, "v2": True, "systemd": True, "systemdUser": True, "rdma": True},
        "seccomp": {"enabled": True, "actions": ["SCMP_ACT_ALLOW"], "operators": ["SCMP_CMP_EQ"],
                    "archs": ["SCMP_ARCH_X86_64"], "knownFlags": ["SECCOMP_FILTER_FLAG_LOG"],
                    "supportedFlags": ["SECCOMP_FILTER_FLAG_LOG"]},
        "apparmor": {"enabled": True},
        "selinux": {"enabled": False},
        "intelRdt": {"enabled": True, "schemata": True, "monitoring": True},
        "mountExtensions": {"idmap": {"enabled": True}},
        "netDevices": {"enabled": True},
        "memoryPolicy": {"modes": ["MPOL_BIND"], "flags": ["MPOL_F_STATIC_NODES"]},
    },
    "annotations": {"org.opencontainers.runc.version": "1.1.5"},
    "potentiallyUnsafeConfigAnnotations": ["com.example.unsafe"],
}  # fmt: skip


def test_features_document_is_valid_and_checked() -> None:
    assert validate_features(parse_text(json.dumps(FEATURES_OK))) == []
    bad = dict(FEATURES_OK)
    del bad["ociVersionMax"]
    bad["hooks"] = ["prestart", "preStop"]
    found = sorted((d.code, d.pointer) for d in validate_features(parse_text(json.dumps(bad))))
    assert found == [("OCI202", "/hooks/1"), ("OCI203", "/ociVersionMax")]


def test_schemas_and_validators_are_compiled_once() -> None:
    doc = parse_text(FULL.read_text())
    validate_config(doc)
    fast, parsed = schema_mod.fast_check("config"), schema_mod.schema("config")
    broken = parse_text('{"ociVersion": 1}')
    validate_config(broken)
    validator = schema_mod._validator("config")
    validate_config(broken)
    assert schema_mod.fast_check("config") is fast
    assert schema_mod.schema("config") is parsed
    assert schema_mod._validator("config") is validator


def test_fast_check_agrees_with_jsonschema_on_examples_and_defects() -> None:
    root = load_json(ROOT / "schemas" / "config.schema.json")
    fast = compile_schema(root)
    slow = Draft202012Validator(root)
    samples: list[Any] = [load_json(p) for p in EXAMPLES]
    samples += [{}, [], None, 1.5, {"ociVersion": "1.0.0"}, {"ociVersion": "1.0.0", "root": {}},
                {"ociVersion": "1.0.0", "root": {"path": "r"}, "process": {"cwd": "/", "args": []}},
                {"ociVersion": "1.0.0", "root": {"path": "r", "readonly": 1}},
                {"ociVersion": "1.0.0", "root": {"path": "r"}, "hostname": 5.0}]  # fmt: skip
    for sample in samples:
        assert fast(sample) == slow.is_valid(sample), sample


def test_fast_check_integer_semantics_match_jsonschema() -> None:
    node = {"type": "integer", "minimum": 0}
    fast, slow = compile_schema(node), Draft202012Validator(node)
    for value in (0, 1.0, 1.5, True, -1, "1", 2**70):
        assert fast(value) == slow.is_valid(value), value


def test_fast_check_refuses_keywords_it_does_not_implement() -> None:
    with pytest.raises(ValueError, match="contains"):
        compile_schema({"type": "array", "contains": {"type": "string"}})
