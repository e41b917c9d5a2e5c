"""Docker / containers-common profiles -> OCI, the way moby's setupSeccomp resolves them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocitool.errors import SeccompError
from ocitool.seccomp.docker import (
    DOCKER_DEFAULT_CAPS,
    convert,
    docker_to_oci,
    is_docker_profile,
)

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "seccomp"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def names(oci: dict[str, Any]) -> set[str]:
    return {n for r in oci["syscalls"] for n in r["names"]}


def test_moby_default_for_default_caps_on_x86_64() -> None:
    moby = load("moby-default.json")
    oci = docker_to_oci(moby)
    assert oci["defaultAction"] == "SCMP_ACT_ERRNO"
    assert oci["defaultErrnoRet"] == 1
    assert oci["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    got = names(oci)
    # x86-only rules are in, other arches' are out
    assert {"arch_prctl", "modify_ldt"} <= got
    assert not {"s390_runtime_instr", "riscv_flush_icache", "arm_fadvise64_64"} & got
    # CAP_SYS_CHROOT is a default cap, CAP_SYS_ADMIN is not
    assert "chroot" in got
    assert not {"mount", "unshare", "setns", "bpf"} & got
    # minKernel 4.8 rule counts on a current kernel
    assert "ptrace" in got
    # the clone rule without CAP_SYS_ADMIN on a non-s390 arch checks arg0, and clone3 gets ENOSYS
    clone = [r for r in oci["syscalls"] if r["names"] == ["clone"]]
    assert clone == [
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
        }
    ]
    assert {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38} in oci["syscalls"]
    # no Docker-only keys survive
    for rule in oci["syscalls"]:
        assert set(rule) <= {"names", "action", "errnoRet", "args"}


def test_caps_select_includes_and_excludes() -> None:
    moby = load("moby-default.json")
    oci = docker_to_oci(moby, caps=[*DOCKER_DEFAULT_CAPS, "CAP_SYS_ADMIN"])
    got = names(oci)
    assert {"mount", "unshare", "setns", "clone3"} <= got
    clone = [r for r in oci["syscalls"] if "clone" in r["names"]]
    assert all("args" not in r for r in clone)  # excluded by CAP_SYS_ADMIN
    assert not any(r.get("errnoRet") == 38 for r in oci["syscalls"])
    # short cap names are accepted, and an empty set drops cap-gated rules
    assert "reboot" in names(docker_to_oci(moby, caps=["sys_boot"]))
    assert "chroot" not in names(docker_to_oci(moby, caps=[]))


def test_arch_selects_archmap_entry_and_arch_rules() -> None:
    moby = load("moby-default.json")
    arm = docker_to_oci(moby, arch="aarch64")
    assert arm["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert "arm_fadvise64_64" in names(arm)
    assert "arch_prctl" not in names(arm)
    s390 = docker_to_oci(moby, arch="s390x")
    clone = [r for r in s390["syscalls"] if r["names"] == ["clone"]]
    assert clone[0]["args"][0]["index"] == 1  # s390 passes flags in arg1
    # an arch with no archMap entry gets no architectures (as with Docker)
    assert "architectures" not in docker_to_oci(moby, arch="x86")
    assert docker_to_oci(moby, arch="SCMP_ARCH_AARCH64") == arm
    assert docker_to_oci(moby, arch="arm64") == arm
    # uname -m spellings, as 'ocitool spec' passes platform.machine()
    assert docker_to_oci(moby, arch="armv7l") == docker_to_oci(moby, arch="arm")
    assert docker_to_oci(moby, arch="i686") == docker_to_oci(moby, arch="x86")


def test_min_kernel() -> None:
    moby = load("moby-default.json")
    assert "ptrace" not in names(docker_to_oci(moby, kernel=(4, 4)))
    assert "ptrace" in names(docker_to_oci(moby, kernel=(4, 8)))
    assert "ptrace" in names(docker_to_oci(moby, kernel=(6, 1)))
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["a"], "action": "SCMP_ACT_ERRNO", "excludes": {"minKernel": "5.10"}}
        ],
    }
    assert docker_to_oci(profile, kernel=(5, 4))["syscalls"][0]["names"] == ["a"]
    assert docker_to_oci(profile, kernel=(5, 10))["syscalls"] == []
    bad = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "five"}}
    ]}  # fmt: skip
    with pytest.raises(SeccompError) as err:
        docker_to_oci(bad)
    assert err.value.pointer == "/syscalls/0/includes/minKernel"


def test_containers_common_errno_names_and_origins() -> None:
    common = load("containers-default.json")
    conv = convert(common)
    oci = conv.seccomp
    assert oci["defaultErrnoRet"] == 38
    assert len(conv.origins) == len(oci["syscalls"])
    # every output rule is the profile rule its origin names
    for rule, origin in zip(oci["syscalls"], conv.origins, strict=True):
        assert rule["names"] == common["syscalls"][origin]["names"]
    # without CAP_SYS_ADMIN the explicit EPERM rules for mount & co. are kept
    eperm = [r for r in oci["syscalls"] if r.get("errnoRet") == 1]
    assert any("lookup_dcookie" in r["names"] for r in eperm)
    # args: null in the profile means no args
    assert all(r.get("args", [1]) for r in oci["syscalls"])


def test_name_and_errno_string_forms() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrno": "ENOSYS",
        "syscalls": [
            {"name": "read", "action": "SCMP_ACT_ALLOW"},
            {"names": ["open"], "action": "SCMP_ACT_ERRNO", "errno": "EACCES"},
        ],
    }
    assert is_docker_profile(profile)
    oci = docker_to_oci(profile)
    assert oci == {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["open"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
        ],
    }


@pytest.mark.parametrize(
    ("profile", "pointer", "words"),
    [
        ({"syscalls": []}, "/defaultAction", "no defaultAction"),
        (
            {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
             "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]},
            "/archMap",
            "both 'architectures' and 'archMap'",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]},
            "/syscalls/0",
            "both 'name' and 'names'",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"]}]},
            "/syscalls/0/action",
            "no action",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO", "errno": "EWHAT"}]},
            "/syscalls/0/errno",
            "unknown errno",
        ),
        ({"defaultAction": []}, "/defaultAction", "expected a string, not an array"),
        ({"defaultAction": "SCMP_ACT_ALLOW", "archMap": 5}, "/archMap", "expected an array, not an integer"),
        ({"defaultAction": "SCMP_ACT_ALLOW", "archMap": [3]}, "/archMap/0", "expected an object, not an integer"),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": "x"}]},
            "/archMap/0/subArchitectures",
            "expected an array, not a string",
        ),
        ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}}, "/syscalls", "not an object"),
        ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [None]}, "/syscalls/0", "not null"),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]},
            "/syscalls/0/names",
            "expected an array, not a string",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["read", 1], "action": "SCMP_ACT_ALLOW"}]},
            "/syscalls/0/names/1",
            "expected a string, not an integer",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["read"], "action": ["SCMP_ACT_ALLOW"]}]},
            "/syscalls/0/action",
            "not an array",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [7]}]},
            "/syscalls/0/args/0",
            "expected an object",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["r"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": "x"}}]},
            "/syscalls/0/includes/caps",
            "expected an array",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["r"], "action": "SCMP_ACT_ALLOW", "excludes": []}]},
            "/syscalls/0/excludes",
            "expected an object",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["r"], "action": "SCMP_ACT_ALLOW",
                           "excludes": {"arches": ["amd64", 5]}}]},
            "/syscalls/0/excludes/arches/1",
            "expected a string",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["r"], "action": "SCMP_ACT_ERRNO", "errno": True}]},
            "/syscalls/0/errno",
            "unknown errno",
        ),
    ],
)  # fmt: skip
def test_bad_profiles(profile: dict[str, Any], pointer: str, words: str) -> None:
    with pytest.raises(SeccompError) as err:
        docker_to_oci(profile)
    assert err.value.code == "OCI460"
    assert err.value.pointer == pointer
    assert words in err.value.message


def test_detection() -> None:
    assert is_docker_profile(load("moby-default.json"))
    assert is_docker_profile(load("containers-default.json"))
    assert not is_docker_profile(docker_to_oci(load("moby-default.json")))
    assert not is_docker_profile({"defaultAction": "SCMP_ACT_ALLOW"})
    assert not is_docker_profile({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": 5})
    with pytest.raises(SeccompError):
        docker_to_oci(load("moby-default.json"), arch="vax")
