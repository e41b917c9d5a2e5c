"""Spec profiles: shape of default / rootless / hardened, determinism, schema validity."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocitool.resources import resource_path
from ocitool.spec.load import parse_text
from ocitool.spec.profiles import (
    HARDENED_ID_BASE,
    PROFILES,
    ProfileParams,
    build_profile,
    default_spec,
    hardened_spec,
    rootless_spec,
    runc_order,
)
from ocitool.spec.schema import validate_config


def real_policy() -> dict[str, Any]:
    from ocitool.seccomp.policy import load_policy

    return load_policy(resource_path("profiles", "seccomp/default.policy"))


def errors_of(spec: dict[str, Any]) -> list[str]:
    doc = parse_text(json.dumps(spec, indent="\t"), "generated.json")
    return [d.render() for d in validate_config(doc) if d.severity == "error"]


def ns_types(spec: dict[str, Any]) -> list[str]:
    return [ns["type"] for ns in spec["linux"]["namespaces"]]


PARAMS = [
    ProfileParams(),
    ProfileParams(uid=1000, gid=1001),
    ProfileParams(userns=False),
    ProfileParams(uid=1000, gid=1001, userns=False),
]


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("params", PARAMS, ids=["root", "user", "root-nouserns", "user-nouserns"])
def test_every_profile_validates(name: str, params: ProfileParams) -> None:
    if name == "hardened":
        params = ProfileParams(params.uid, params.gid, params.userns, real_policy())
    spec = build_profile(name, params)
    assert errors_of(spec) == []
    assert build_profile(name, params) == spec  # deterministic, and a fresh dict each time
    assert build_profile(name, params) is not spec


def test_default_is_runc_shaped() -> None:
    spec = default_spec()
    assert spec["ociVersion"] == "1.0.2-dev"
    assert spec["process"]["args"] == ["sh"]
    assert spec["process"]["capabilities"]["bounding"] == [
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
    ]
    assert ns_types(spec) == ["pid", "network", "ipc", "uts", "mount"]
    assert [m["destination"] for m in spec["mounts"]] == [
        "/proc",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys",
        "/sys/fs/cgroup",
    ]
    # mutating one result does not leak into the next
    spec["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
    assert "CAP_SYS_ADMIN" not in default_spec()["process"]["capabilities"]["bounding"]


def test_rootless_maps_the_invoking_user() -> None:
    spec = rootless_spec(1000, 1001)
    linux = spec["linux"]
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": 1000, "size": 1}]
    assert linux["gidMappings"] == [{"containerID": 0, "hostID": 1001, "size": 1}]
    assert ns_types(spec) == ["pid", "ipc", "uts", "mount", "user"]
    assert "resources" not in linux
    sys_mount = next(m for m in spec["mounts"] if m["destination"] == "/sys")
    assert sys_mount == {
        "destination": "/sys",
        "type": "none",
        "source": "/sys",
        "options": ["rbind", "nosuid", "noexec", "nodev", "ro"],
    }
    options = [o for m in spec["mounts"] for o in m.get("options", [])]
    assert not [o for o in options if o.startswith(("uid=", "gid="))]
    assert list(linux) == ["uidMappings", "gidMappings", "namespaces", "maskedPaths",
                           "readonlyPaths"]  # fmt: skip


def test_hardened_as_root_with_userns() -> None:
    policy = real_policy()
    spec = hardened_spec(ProfileParams(uid=0, gid=0, userns=True, seccomp=policy))
    process, linux = spec["process"], spec["linux"]
    assert all(process["capabilities"][s] == [] for s in process["capabilities"])
    assert set(process["capabilities"]) == {"bounding", "effective", "inheritable", "permitted",
                                            "ambient"}  # fmt: skip
    assert process["noNewPrivileges"] is True
    assert spec["root"]["readonly"] is True
    assert linux["seccomp"] == policy
    assert linux["seccomp"]["defaultAction"] != "SCMP_ACT_ALLOW"
    assert {"user", "cgroup", "network", "pid", "ipc", "uts", "mount"} == set(ns_types(spec))
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": HARDENED_ID_BASE, "size": 65536}]
    assert "/proc/kcore" in linux["maskedPaths"]
    assert "/sys/devices/virtual/powercap" in linux["maskedPaths"]
    assert "/proc/sys" in linux["readonlyPaths"]
    assert linux["resources"]["pids"]["limit"] > 0
    assert linux["resources"]["memory"]["limit"] > 0
    assert any(m["destination"] == "/tmp" and m["type"] == "tmpfs" for m in spec["mounts"])


def test_hardened_without_userns_has_no_id_maps() -> None:
    spec = hardened_spec(ProfileParams(userns=False))
    assert "user" not in ns_types(spec)
    assert "uidMappings" not in spec["linux"]
    assert "seccomp" not in spec["linux"]  # no policy given: the hook stays empty


def test_hardened_for_an_unprivileged_user_is_rootless_shaped() -> None:
    spec = hardened_spec(ProfileParams(uid=1000, gid=1000, userns=True))
    assert spec["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 1000, "size": 1}]
    assert "network" not in ns_types(spec)
    assert "user" in ns_types(spec)
    assert spec["process"]["capabilities"]["bounding"] == []


def test_runc_order_sorts_known_keys_and_keeps_content() -> None:
    messy = {"linux": {"namespaces": [], "uidMappings": []}, "ociVersion": "1", "extra": 1,
             "process": {"cwd": "/", "user": {"gid": 0, "uid": 0}}}  # fmt: skip
    ordered = runc_order(messy)
    assert ordered == messy
    assert list(ordered) == ["ociVersion", "process", "linux", "extra"]
    assert list(ordered["process"]["user"]) == ["uid", "gid"]
    assert list(ordered["linux"]) == ["uidMappings", "namespaces"]


def test_unknown_profile() -> None:
    with pytest.raises(ValueError):
        build_profile("nope")
