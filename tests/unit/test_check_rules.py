"""Every preflight check on a fixture that trips it and on one that does not.

The bundle is a tiny rootfs in open_tmp; lowering runs for a preset host
(with the overrides a case needs) and host facts are pinned, so what each
check reads from the machine is the fixture's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ocitool.check.engine import check_document
from ocitool.check.facts import HostFacts
from ocitool.check.registry import all_checks
from ocitool.lower.host import HostInfo
from ocitool.records import replace
from ocitool.spec.load import parse_text
from tests.unit.check_helpers import elf_with_interp
from tests.unit.plan_helpers import config

USERNS = {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "user"}],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
}
FACTS = {
    "bounding_caps": frozenset({"CAP_KILL", "CAP_CHOWN"}),
    "seccomp_actions": frozenset({"kill_process", "kill_thread", "errno", "allow", "log"}),
    "numa_nodes": frozenset({0}),
}


def bundle(open_tmp: Path, mode: int = 0o755) -> Path:
    top = open_tmp / "top"
    rootfs = top / "b" / "rootfs"
    for d in ("bin", "proc", "dev", "etc", "tmp", "opt"):
        (rootfs / d).mkdir(parents=True)
    sh = rootfs / "bin" / "sh"
    sh.write_bytes(b"static program\n")
    sh.chmod(0o755)
    (rootfs / "etc" / "passwd").write_text("root:x:0:0::/:/bin/sh\n")
    top.chmod(mode)
    open_tmp.chmod(0o755)
    return top / "b"


def run(
    b: Path,
    changes: dict[str, Any] | None = None,
    *,
    host: HostInfo | None = None,
    **facts: Any,
) -> list[tuple[str, str, str]]:
    text = json.dumps(config(**(changes or {})), indent=1)
    (b / "config.json").write_text(text)
    doc = parse_text(text, str(b / "config.json"))
    pinned = HostFacts(**{**FACTS, **facts})
    found = check_document(doc, host=host or HostInfo.preset("v2"), facts=pinned)
    return [(d.code, d.pointer, d.message) for d in found]


def codes(found: list[tuple[str, str, str]]) -> set[str]:
    return {c for c, _, _ in found}


# --------------------------------------------------------------------------- paths
def test_och101_rootfs_behind_0700_for_the_mapped_root(open_tmp: Path) -> None:
    b = bundle(open_tmp, mode=0o700)
    found = run(b, {"linux": USERNS})
    assert ("OCH101", "/root/path") in [(c, p) for c, p, _ in found]
    msg = next(m for c, _, m in found if c == "OCH101")
    assert "host uid 100000" in msg and "0700" in msg and str(b.parent) in msg
    assert "OCH101" not in codes(run(b))  # the host's root may enter it
    (b.parent).chmod(0o755)
    assert "OCH101" not in codes(run(b, {"linux": USERNS}))


def test_och102_bind_source_missing(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    mount = {"destination": "/data", "type": "bind", "source": str(open_tmp / "gone"),
             "options": ["rbind"]}  # fmt: skip
    found = run(b, {"mounts": [mount]})
    assert ("OCH102", "/mounts/0") in [(c, p) for c, p, _ in found]
    (open_tmp / "gone").mkdir()
    assert "OCH102" not in codes(run(b, {"mounts": [mount]}))


def test_och103_mountpoint_the_mapped_root_cannot_create(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    mount = {"destination": "/newdir", "type": "tmpfs", "source": "tmpfs"}
    found = run(b, {"linux": USERNS, "mounts": [mount]})
    assert any(c == "OCH103" and p == "/mounts/0" and "/newdir" in m for c, p, m in found)
    assert "OCH103" not in codes(run(b, {"mounts": [mount]}))  # no user namespace
    (b / "rootfs" / "newdir").mkdir()
    assert "OCH103" not in codes(run(b, {"linux": USERNS, "mounts": [mount]}))
    under_file = {**mount, "destination": "/etc/passwd/sub"}
    found = run(b, {"mounts": [under_file]})
    assert any(c == "OCH103" and "/etc/passwd is not a directory" in m for c, _, m in found)


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda h: None, "does not exist"),
        (lambda h: (h.write_text("#!/bin/sh\n"), h.chmod(0o644)), "not executable"),
        (lambda h: (h.write_text("#!/nonexistent/sh\n"), h.chmod(0o755)), "/nonexistent/sh"),
    ],
)
def test_och104_hook(open_tmp: Path, setup: Callable[[Path], object], words: str) -> None:
    b = bundle(open_tmp)
    hook = open_tmp / "hook"
    setup(hook)
    found = run(b, {"hooks": {"createRuntime": [{"path": str(hook)}]}})
    assert any(c == "OCH104" and p == "/hooks/createRuntime/0/path" and words in m
               for c, p, m in found), found  # fmt: skip


def test_och104_quiet_for_a_good_hook(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    hook = open_tmp / "hook"
    hook.write_bytes(b"static\n")
    hook.chmod(0o755)
    assert "OCH104" not in codes(run(b, {"hooks": {"poststop": [{"path": str(hook)}]}}))


def test_och105_device_path_is_a_directory(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    dev = {"devices": [{"path": "/opt/fuse", "type": "c", "major": 10, "minor": 229}]}
    assert "OCH105" not in codes(run(b, {"linux": dev}))
    (b / "rootfs" / "opt" / "fuse").mkdir()
    assert ("OCH105", "/linux/devices/0") in [(c, p) for c, p, _ in run(b, {"linux": dev})]


def test_och107_device_the_host_has_otherwise(open_tmp: Path) -> None:
    b = bundle(open_tmp)

    def dev(path: str, major: int, minor: int) -> dict[str, Any]:
        return {**USERNS, "devices": [{"path": path, "type": "c", "major": major, "minor": minor}]}

    found = run(b, {"linux": dev("/dev/null", 10, 229)})  # the host's /dev/null is 1:3
    assert any(c == "OCH107" and p == "/linux/devices/0" and "1:3, not 10:229" in m
               for c, p, m in found), found  # fmt: skip
    assert "OCH107" not in codes(run(b, {"linux": dev("/dev/null", 1, 3)}))
    assert "OCH107" not in codes(
        run(b, {"linux": {"devices": dev("/dev/null", 10, 229)["devices"]}})
    )


def test_och106_namespace_path(open_tmp: Path) -> None:
    b = bundle(open_tmp)

    def ns(path: str) -> dict[str, Any]:
        return {"namespaces": [{"type": "pid"}, {"type": "mount"},
                               {"type": "network", "path": path}]}  # fmt: skip

    missing = run(b, {"linux": ns(str(open_tmp / "no-ns"))})
    assert ("OCH106", "/linux/namespaces/2/path") in [(c, p) for c, p, _ in missing]
    not_ns = open_tmp / "plain"
    not_ns.write_text("")
    assert any("not a namespace" in m for _, _, m in run(b, {"linux": ns(str(not_ns))}))
    wrong = run(b, {"linux": ns(f"/proc/{os.getpid()}/ns/uts")})
    assert any("CLONE_NEWUTS" in m for c, _, m in wrong if c == "OCH106")
    assert "OCH106" not in codes(run(b, {"linux": ns(f"/proc/{os.getpid()}/ns/net")}))


# --------------------------------------------------------------------------- process
def test_och201_executable(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    assert "OCH201" not in codes(run(b))
    found = run(b, {"process": {"args": ["nope"]}})
    assert any(
        c == "OCH201"
        and p == "/process/args/0"
        and "on the container's PATH" in m
        and "/bin" not in m
        for c, p, m in found
    )
    (b / "rootfs" / "bin" / "sh").chmod(0o644)
    assert any("may not execute" in m for c, _, m in run(b) if c == "OCH201")


def test_och201_execute_bit_for_the_container_user(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    (b / "rootfs" / "bin" / "sh").chmod(0o700)  # owner (the host's root) only
    user = {"user": {"uid": 1000, "gid": 1000}, "capabilities": {"effective": []}}
    assert "OCH201" in codes(run(b, {"process": user}))
    assert "OCH201" not in codes(run(b))  # root with CAP_DAC_OVERRIDE-free x bit set


def test_och202_interpreters(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    sh = b / "rootfs" / "bin" / "sh"
    sh.write_text("#!/bin/python3\n")
    found = run(b)
    assert any(c == "OCH202" and "#! interpreter /bin/python3" in m for c, _, m in found)
    elf_with_interp(sh, "/lib/ld-musl.so.1")
    assert any("ELF loader (PT_INTERP) /lib/ld-musl.so.1" in m for _, _, m in run(b))
    (b / "rootfs" / "lib").mkdir()
    (b / "rootfs" / "lib" / "ld-musl.so.1").write_bytes(b"loader")
    assert "OCH202" not in codes(run(b))


def test_och203_cwd(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    assert "OCH203" not in codes(run(b, {"process": {"cwd": "/tmp"}}))
    found = run(b, {"process": {"cwd": "/srv/app"}})
    assert ("OCH203", "/process/cwd", "/srv does not exist") in found
    assert any("not a directory" in m for _, _, m in run(b, {"process": {"cwd": "/etc/passwd"}}))


def test_och204_root_unmapped(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    maps = [{"containerID": 1, "hostID": 100000, "size": 65535}]
    linux = {**USERNS, "uidMappings": maps, "gidMappings": maps}
    found = run(b, {"linux": linux, "process": {"user": {"uid": 1, "gid": 1}}})
    assert ("OCH204", "/linux/uidMappings") in [(c, p) for c, p, _ in found]
    assert "OCH204" not in codes(run(b, {"linux": USERNS}))


# --------------------------------------------------------------------------- kernel
def test_och301_capability_the_runtime_lacks(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    caps = {k: ["CAP_KILL", "CAP_NET_RAW"] for k in ("bounding", "effective", "permitted")}
    found = run(b, {"process": {"capabilities": caps}})
    pointers = {p for c, p, _ in found if c == "OCH301"}
    assert pointers == {"/process/capabilities/effective/1", "/process/capabilities/permitted/1"}
    held = FACTS["bounding_caps"] | {"CAP_NET_RAW"}
    assert "OCH301" not in codes(run(b, {"process": {"capabilities": caps}}, bounding_caps=held))


def test_a_namespace_the_kernel_lacks_is_refused_by_lowering(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    linux = {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "time"}]}
    no_time = replace(HostInfo.preset("v2"), namespaces=("mount", "pid", "user", "uts"))
    assert [(c, p) for c, p, _ in run(b, {"linux": linux}, host=no_time)] == [
        ("OCI330", "/linux/namespaces/2")
    ]


def test_och303_idmapped_mount_on_an_old_kernel(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    (open_tmp / "src").mkdir()
    mount = {"destination": "/data", "type": "bind", "source": str(open_tmp / "src"),
             "options": ["rbind", "idmap"]}  # fmt: skip
    old = replace(HostInfo.preset("v2"), kernel=(5, 10, 0))
    found = run(b, {"linux": USERNS, "mounts": [mount]}, host=old)
    assert any(c == "OCH303" and "5.12" in m for c, _, m in found), found


def test_och304_memory_policy(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    pol = {"memoryPolicy": {"mode": "MPOL_WEIGHTED_INTERLEAVE", "nodes": "0-1"}}
    found = run(b, {"linux": pol})
    assert ("OCH304", "/linux/memoryPolicy/mode") in [(c, p) for c, p, _ in found]
    assert ("OCH304", "/linux/memoryPolicy/nodes") in [(c, p) for c, p, _ in found]
    new = replace(HostInfo.preset("v2"), kernel=(6, 9, 0))
    ok = {"memoryPolicy": {"mode": "MPOL_WEIGHTED_INTERLEAVE", "nodes": "0"}}
    assert "OCH304" not in codes(run(b, {"linux": ok}, host=new))


def test_och305_seccomp_action_the_kernel_lacks(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    sc = {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_TRAP"}]}}  # fmt: skip
    found = run(b, {"linux": sc})
    assert ("OCH305", "/linux/seccomp/syscalls/0/action") in [(c, p) for c, p, _ in found]
    avail = FACTS["seccomp_actions"] | {"trap"}
    assert "OCH305" not in codes(run(b, {"linux": sc}, seccomp_actions=avail))


def test_och306_cgroup_controller_missing(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    cg = open_tmp / "cgroup"
    cg.mkdir()
    (cg / "cgroup.controllers").write_text("cpu memory\n")
    host = replace(HostInfo.preset("v2"), unified_mount=str(cg))
    res = {"resources": {"pids": {"limit": 10}, "memory": {"limit": 1 << 26}}}
    found = run(b, {"linux": res}, host=host)
    assert [(c, p) for c, p, _ in found if c == "OCH306"] == [
        ("OCH306", "/linux/resources/pids/limit")
    ]


# --------------------------------------------------------------------------- seccomp
def test_och401_profile_denies_execve(open_tmp: Path) -> None:
    b = bundle(open_tmp)

    def profile(names: list[str]) -> dict[str, Any]:
        return {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                            "syscalls": [{"names": names, "action": "SCMP_ACT_ERRNO"}]}}  # fmt: skip

    found = run(b, {"linux": profile(["execve"])})
    assert any(c == "OCH401" and p == "/linux/seccomp" and "execve" in m for c, p, m in found)
    assert "OCH401" not in codes(run(b, {"linux": profile(["mkdir"])}))


def test_och401_early_load_must_allow_the_credential_change(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    sc = {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                      "syscalls": [{"names": ["setresuid"], "action": "SCMP_ACT_KILL"}]}}  # fmt: skip
    early = {"noNewPrivileges": False, "user": {"uid": 1000, "gid": 1000}}
    found = run(b, {"linux": sc, "process": early})
    assert any(c == "OCH401" and "setresuid" in m for c, _, m in found), found
    assert "OCH401" not in codes(run(b, {"linux": sc}))  # loaded after setresuid


# --------------------------------------------------------------------------- resources
def test_och501_memory_limit_below_the_floor(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    low = {"resources": {"memory": {"limit": 1 << 19}}}
    assert ("OCH501", "/linux/resources/memory/limit") in [
        (c, p) for c, p, _ in run(b, {"linux": low})
    ]
    assert "OCH501" not in codes(run(b, {"linux": {"resources": {"memory": {"limit": 1 << 26}}}}))


def test_och502_cpuset_outside_the_parent(open_tmp: Path) -> None:
    b = bundle(open_tmp)
    cg = open_tmp / "cgroup"
    cg.mkdir()
    (cg / "cgroup.controllers").write_text("cpuset cpu memory pids\n")
    (cg / "cpuset.cpus.effective").write_text("0-1\n")
    (cg / "cpuset.mems.effective").write_text("0\n")
    host = replace(HostInfo.preset("v2"), unified_mount=str(cg))
    found = run(b, {"linux": {"resources": {"cpu": {"cpus": "1-3", "mems": "0"}}}}, host=host)
    assert [(c, p) for c, p, _ in found if c == "OCH502"] == [
        ("OCH502", "/linux/resources/cpu/cpus")
    ]
    assert "2,3" in next(m for c, _, m in found if c == "OCH502")
    assert "OCH502" not in codes(
        run(b, {"linux": {"resources": {"cpu": {"cpus": "0-1"}}}}, host=host)
    )


# --------------------------------------------------------------------------- registry
def test_every_check_is_tested_and_documented() -> None:
    tested = {name.split("_")[1].upper() for name in globals() if name.startswith("test_och")}
    assert tested == {rule.code for rule in all_checks()}
    docs = (Path(__file__).resolve().parents[2] / "docs" / "check.md").read_text()
    for rule in all_checks():
        assert rule.summary.endswith(".") and rule.rationale and rule.fix  # one-line summary
        assert f"`{rule.code}`" in docs, rule.code


def test_a_clean_bundle_has_no_findings(open_tmp: Path) -> None:
    assert run(bundle(open_tmp)) == []
