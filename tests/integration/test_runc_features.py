"""``ocitool-runc features`` against behaviour: every field the document sets true is used
by a real container on this host, and every field it leaves out is shown not to work.

The document describes the runtime, not the host (runtime-spec features.md), so for
AppArmor, SELinux, Intel RDT and the rdma controller a host without them must give a
coded error at ``create`` (the feature is applied, not ignored); where the host has
them, the container runs with them.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers_exec.bundle import BASE_CONFIG, userns_bundle, write_config
from tests.integration.test_runc_lifecycle import (
    Runtime,
    S,
    runtime_command,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    proc = subprocess.run(
        [*runtime_command(), "features"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def run(rt: Runtime, bundle: Path, name: str) -> subprocess.CompletedProcess[str]:
    return rt("run", "--bundle", str(bundle), f"{name}{S}")


def host_lsm(name: str) -> bool:
    if name == "apparmor":
        try:
            return Path("/sys/module/apparmor/parameters/enabled").read_text().startswith("Y")
        except OSError:
            return False
    return Path("/sys/fs/selinux/enforce").exists()


def test_hooks(
    doc: dict[str, Any], rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    log = tmp_path / "hooks.log"
    # startContainer runs in the container after pivot_root: it writes through the bind
    # below; createContainer runs there before pivot_root and sees the host's paths
    inside = ("startContainer",)

    def hook(name: str) -> dict[str, Any]:
        path = f"/hooklog/{log.name}" if name in inside else str(log)
        return {"path": "/bin/sh", "args": ["sh", "-c", f"echo {name} >> {path}"]}

    hooks = {name: [hook(name)] for name in doc["hooks"]}
    share = {
        "destination": "/hooklog",
        "type": "bind",
        "source": str(tmp_path),
        "options": ["bind"],
    }
    bundle = bundle_factory(["true"], hooks=hooks, mounts=[*BASE_CONFIG["mounts"], share])
    assert run(rt, bundle, "hooks").returncode == 0
    assert sorted(log.read_text().split()) == sorted(doc["hooks"])
    assert len(doc["hooks"]) == 6


def _mount_for(option: str, src: Path) -> list[dict[str, Any]]:
    """One mount that uses ``option`` (two for remount: the mount, then its remount)."""
    if option == "tmpcopyup":
        return [{"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": [option]}]
    dest = f"/m/{option}"
    if option == "remount":
        first = {"destination": dest, "type": "tmpfs", "source": "tmpfs"}
        return [first, {**first, "options": ["remount", "ro"]}]
    if option in ("idmap", "ridmap"):  # the mount's own mappings (no user namespace here)
        maps = [{"containerID": 0, "hostID": 1000, "size": 1}]
        bind = {"destination": dest, "type": "bind", "source": str(src)}
        return [{**bind, "options": ["rbind", option], "uidMappings": maps, "gidMappings": maps}]
    recursive = option.startswith("r") and option not in ("ro", "rw", "relatime", "remount")
    if option in ("bind", "rbind") or recursive:
        return [
            {"destination": dest, "type": "bind", "source": str(src), "options": ["rbind", option]}
        ]
    return [{"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": [option]}]


def test_every_mount_option(
    doc: dict[str, Any], rt: Runtime, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    """One container per option (they would interact in one), all of them starting; the
    copy-up and the recursive atime options checked for their effect."""
    src = tmp_path / "src"
    src.mkdir()
    failed = {}
    for option in doc["mountOptions"]:
        mounts = [*BASE_CONFIG["mounts"], *_mount_for(option, src)]
        script = (
            "ls /etc" if option == "tmpcopyup" else f"grep ' /m/{option} ' /proc/self/mountinfo"
        )
        proc = run(rt, bundle_factory(["sh", "-c", script], mounts=mounts), f"mo-{len(failed)}")
        if proc.returncode != 0:
            failed[option] = proc.stderr.strip()[-300:]
        elif option == "tmpcopyup":
            assert proc.stdout.split() == ["group", "passwd"], proc.stdout
        elif option in ("ratime", "rnostrictatime", "rrelatime"):
            assert "relatime" in proc.stdout.split()[5], proc.stdout
        elif option == "rnoatime":
            assert "noatime" in proc.stdout.split()[5], proc.stdout
    assert failed == {}


def test_namespaces(doc: dict[str, Any], rt: Runtime) -> None:
    """Every listed namespace at once (user among them): each /proc/self/ns link differs
    from the host's."""
    kinds = {"cgroup": "cgroup", "ipc": "ipc", "mount": "mnt", "network": "net", "pid": "pid"}
    kinds |= {"time": "time", "user": "user", "uts": "uts"}
    assert sorted(doc["linux"]["namespaces"]) == sorted(kinds)
    script = "for n in " + " ".join(kinds.values()) + "; do readlink /proc/self/ns/$n; done"
    with userns_bundle(["sh", "-c", script], 100000, "ocitool-features-") as bundle:
        config = json.loads((bundle / "config.json").read_text())
        config["linux"]["namespaces"] = [{"type": t} for t in doc["linux"]["namespaces"]]
        write_config(bundle, config)
        proc = run(rt, bundle, "ns")
    assert proc.returncode == 0, proc.stderr
    inside = proc.stdout.split()
    host = [os.readlink(f"/proc/self/ns/{n}") for n in kinds.values()]
    assert len(inside) == len(host) and not set(inside) & set(host)


def test_capabilities_are_the_kernels(doc: dict[str, Any]) -> None:
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    assert len(doc["linux"]["capabilities"]) == last + 1


def test_cgroup_managers(
    doc: dict[str, Any], rt: Runtime, bundle_factory: Callable[..., Path]
) -> None:
    cg = doc["linux"]["cgroup"]
    # systemd: the driver is built in (proven with systemd as PID 1 in
    # tests/hosts/systemd); this host has no systemd, so here it is refused
    assert cg["v1"] and cg["v2"] and cg["systemd"] and not cg["systemdUser"]
    v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    limit = "/sys/fs/cgroup/pids.max" if v2 else "/sys/fs/cgroup/pids/pids.max"
    bundle = bundle_factory(["cat", limit], linux={"resources": {"pids": {"limit": 42}}})
    proc = run(rt, bundle, "cg")
    assert proc.returncode == 0 and proc.stdout.strip() == "42", proc.stderr
    refused = rt("run", "--bundle", str(bundle), f"cg2{S}", glob=("--systemd-cgroup",))
    assert refused.returncode != 0 and "systemd" in refused.stderr
    rdma = {"rdma": {"mlx5_0": {"hcaHandles": 3, "hcaObjects": 100}}}
    with_rdma = bundle_factory(["true"], linux={"resources": rdma})
    proc = run(rt, with_rdma, "rdma")
    if Path("/sys/fs/cgroup/rdma").exists() or "rdma" in _v2_controllers():
        assert proc.returncode == 0, proc.stderr
    else:  # applied, so refused where the controller is missing
        assert cg["rdma"] and proc.returncode != 0 and "rdma" in proc.stderr, proc.stderr


def _v2_controllers() -> list[str]:
    path = Path("/sys/fs/cgroup/cgroup.controllers")
    return path.read_text().split() if path.exists() else []


def test_seccomp(doc: dict[str, Any], rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    """Every action and operator in one loaded filter (on syscalls the container never
    makes), every supported flag, and one rule that really fires (EPERM for getpid)."""
    sc = doc["linux"]["seccomp"]
    assert sc["enabled"] and set(sc["supportedFlags"]) <= set(sc["knownFlags"])
    unused = ["acct", "swapon", "swapoff", "kexec_load", "init_module", "delete_module"]
    unused += ["quotactl", "settimeofday", "adjtimex", "reboot", "syslog", "iopl", "ioperm"]
    unused += ["create_module", "get_kernel_syms", "query_module", "nfsservctl", "uselib"]
    unused += ["lookup_dcookie", "vhangup", "modify_ldt", "sysfs", "ustat", "afs_syscall"]
    rules: list[dict[str, Any]] = []
    for action in sc["actions"]:
        if action in ("SCMP_ACT_ALLOW", "SCMP_ACT_NOTIFY"):
            continue  # the default action / needs a listener (test_exec_seccomp_notify)
        rules.append({"names": [unused.pop()], "action": action})
    for op in sc["operators"]:
        arg = {"index": 0, "value": 1, "valueTwo": 1 if op == "SCMP_CMP_MASKED_EQ" else 0, "op": op}
        rules.append({"names": [unused.pop()], "action": "SCMP_ACT_ERRNO", "args": [arg]})
    rules.append({"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1})
    flags = [f for f in sc["supportedFlags"] if f != "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules, "flags": flags}
    bundle = bundle_factory(["sh", "-c", "echo $PPID"], linux={"seccomp": profile})
    proc = run(rt, bundle, "sc")
    assert proc.returncode == 0, proc.stderr
    assert sc["archs"] and "SCMP_ARCH_X86_64" in sc["archs"]


@pytest.mark.parametrize("lsm", ["apparmor", "selinux"])
def test_lsm_labels(
    doc: dict[str, Any], rt: Runtime, bundle_factory: Callable[..., Path], lsm: str
) -> None:
    assert doc["linux"][lsm]["enabled"]
    key, label = (
        ("apparmorProfile", "unconfined")
        if lsm == "apparmor"
        else ("selinuxLabel", "system_u:system_r:container_t:s0")
    )
    bundle = bundle_factory(["cat", "/proc/self/attr/current"], process={key: label})
    proc = run(rt, bundle, lsm)
    if host_lsm(lsm):
        assert proc.returncode == 0 and label in proc.stdout, proc.stderr
    else:  # applied, so refused at create on a host without it, as runc refuses it
        assert proc.returncode != 0, proc.stdout
        assert f"{'AppArmor' if lsm == 'apparmor' else 'SELinux'} is not enabled" in proc.stderr
        assert label in proc.stderr and rt("list", "-q").stdout == ""
    if lsm == "selinux":
        labelled = bundle_factory(["true"], linux={"mountLabel": label.replace("_r:", "_u:")})
        proc = run(rt, labelled, "mountlabel")
        assert (proc.returncode == 0) == host_lsm(lsm), proc.stderr


def test_memory_policy(
    doc: dict[str, Any], rt: Runtime, bundle_factory: Callable[..., Path]
) -> None:
    """Each mode on node 0 (the modes without nodes take none), seen in numa_maps."""
    shown = {
        "MPOL_DEFAULT": "default",
        "MPOL_PREFERRED": "prefer:0",
        "MPOL_BIND": "bind=static:0",  # with MPOL_F_STATIC_NODES
        "MPOL_INTERLEAVE": "interleave:0",
        "MPOL_LOCAL": "local",
        "MPOL_PREFERRED_MANY": "prefer (many):0",
        "MPOL_WEIGHTED_INTERLEAVE": "weighted interleave:0",
    }
    policy = doc["linux"]["memoryPolicy"]
    assert set(policy["modes"]) == set(shown) and policy["flags"]
    script = "head -1 /proc/self/numa_maps"
    for mode in policy["modes"]:
        pol: dict[str, Any] = {"mode": mode}
        if mode not in ("MPOL_DEFAULT", "MPOL_LOCAL"):
            pol["nodes"] = "0"
        if mode == "MPOL_BIND":
            pol["flags"] = ["MPOL_F_STATIC_NODES"]
        bundle = bundle_factory(["sh", "-c", script], linux={"memoryPolicy": pol})
        proc = run(rt, bundle, f"mp{len(mode)}")
        assert proc.returncode == 0, (mode, proc.stderr)
        assert shown[mode] in proc.stdout, (mode, proc.stdout)


def test_intel_rdt(doc: dict[str, Any], rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    rdt = doc["linux"]["intelRdt"]
    assert rdt == {"enabled": True, "schemata": True, "monitoring": True}
    bundle = bundle_factory(
        ["true"], linux={"intelRdt": {"schemata": ["L3:0=ff"], "enableMonitoring": True}}
    )
    proc = run(rt, bundle, "rdt")
    if Path("/sys/fs/resctrl/schemata").exists():
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0 and "resctrl" in proc.stderr, proc.stderr


def test_net_devices(doc: dict[str, Any], rt: Runtime, bundle_factory: Callable[..., Path]) -> None:
    assert doc["linux"]["netDevices"]["enabled"]
    name = f"ofeat{os.getpid() % 100000}"
    subprocess.run(
        ["ip", "link", "add", name, "type", "veth", "peer", "name", f"{name}p"], check=True
    )
    try:
        bundle = bundle_factory(
            ["ls", "/sys/class/net"], linux={"netDevices": {name: {"name": "eth7"}}}
        )
        proc = run(rt, bundle, "nd")
        assert proc.returncode == 0 and "eth7" in proc.stdout.split(), proc.stderr
    finally:
        subprocess.run(["ip", "link", "del", name], capture_output=True)


def test_idmapped_mounts_in_a_user_namespace(
    doc: dict[str, Any], rt: Runtime, tmp_path: Path
) -> None:
    """idmap with the container's mappings (runc's rule without mount mappings): a file
    owned by host root shows as the container's root, one outside the map as nobody."""
    assert doc["linux"]["mountExtensions"]["idmap"]["enabled"] is True
    assert {"idmap", "ridmap"} <= set(doc["mountOptions"])
    src = tmp_path / "idsrc"
    src.mkdir()
    (src / "root-owned").write_text("x")
    (src / "unmapped").write_text("y")
    os.chown(src / "unmapped", 100005, 100005)
    args = ["stat", "-c", "%n %u", "/data/root-owned", "/data/unmapped"]
    with userns_bundle(args, 100000, "ocitool-features-idmap-") as bundle:
        config = json.loads((bundle / "config.json").read_text())
        mount = {"destination": "/data", "type": "bind", "source": str(src)}
        config["mounts"].append({**mount, "options": ["rbind", "idmap"]})
        write_config(bundle, config)
        proc = run(rt, bundle, "idmap")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["/data/root-owned", "0", "/data/unmapped", "65534"]
    assert (src / "root-owned").stat().st_uid == 0  # the files themselves are unchanged


def test_no_annotation_changes_the_plan(
    doc: dict[str, Any], bundle_factory: Callable[..., Path]
) -> None:
    """potentiallyUnsafeConfigAnnotations is empty: annotations runc treats as unsafe leave
    ocitool's plan as it was."""
    assert doc["potentiallyUnsafeConfigAnnotations"] == []
    bundle = bundle_factory(["true"])
    config = json.loads((bundle / "config.json").read_text())
    plans = []
    for notes in ({}, {"org.systemd.property.ExecStartPre": "x", "org.criu.config": "y"}):
        write_config(bundle, {**config, "annotations": notes})
        plans.append(
            subprocess.run(
                [
                    *runtime_command()[:2],
                    "ocitool.cli.main",
                    "plan",
                    "--format",
                    "strace",
                    str(bundle),
                ],
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
        )
    assert plans[0] and plans[0] == plans[1]
