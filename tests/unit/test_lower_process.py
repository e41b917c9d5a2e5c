"""Process attributes: rlimits, oom_score_adj, sysctl, LSMs, scheduling, affinity, execve."""

from __future__ import annotations

import pytest

from ocitool.errors import LoweringError
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Phase
from tests.unit.plan_helpers import config, plan_of


def test_rlimits_and_oom() -> None:
    rl = [
        {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 18446744073709551615},
    ]
    plan = plan_of(config(process={"rlimits": rl, "oomScoreAdj": 100}))
    ops = plan.find("setrlimit")
    assert [o.to_json()["resource"] for o in ops] == ["RLIMIT_NOFILE", "RLIMIT_CORE"]
    assert ops[0].to_json()["soft"] == 1024 and ops[0].to_json()["hard"] == 4096
    assert all(o.phase is Phase.CREATE_INIT for o in ops)
    assert "rlim_max=RLIM_INFINITY" in ops[1].text()
    oom = [o for o in plan.ops if getattr(o, "path", "") == "/proc/self/oom_score_adj"][0]
    assert oom.text() == 'write("/proc/self/oom_score_adj", "100")'
    assert oom.source == "/process/oomScoreAdj"


@pytest.mark.parametrize(
    ("process", "pointer", "code"),
    [
        (
            {"rlimits": [{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}]},
            "/process/rlimits/0/type",
            "OCI368",
        ),
        (
            {"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}] * 2},
            "/process/rlimits/1",
            "OCI368",
        ),
        (
            {"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 9, "hard": 1}]},
            "/process/rlimits/0/soft",
            "OCI368",
        ),
        ({"oomScoreAdj": 1001}, "/process/oomScoreAdj", "OCI369"),
        ({"cwd": "relative"}, "/process/cwd", "OCI333"),
        ({"args": []}, "/process/args", "OCI337"),
        (
            {"ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 8}},
            "/process/ioPriority/priority",
            "OCI332",
        ),
        ({"scheduler": {"policy": "SCHED_FIFO"}}, "/process/scheduler/priority", "OCI335"),
        ({"scheduler": {"policy": "SCHED_OTHER", "nice": 30}}, "/process/scheduler/nice", "OCI335"),
        (
            {"scheduler": {"policy": "SCHED_DEADLINE", "runtime": 5, "deadline": 3, "period": 9}},
            "/process/scheduler",
            "OCI335",
        ),
        ({"execCPUAffinity": {"initial": "3-1"}}, "/process/execCPUAffinity/initial", "OCI367"),
    ],
)
def test_process_errors(process: dict[str, object], pointer: str, code: str) -> None:
    with pytest.raises(LoweringError) as info:
        plan_of(config(process=process))
    assert (info.value.pointer, info.value.code) == (pointer, code)


def test_sysctl_namespaced_only() -> None:
    linux = {
        "namespaces": [{"type": "network"}, {"type": "ipc"}],
        "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "1000", "fs.mqueue.msg_max": "5"},
    }
    plan = plan_of(config(linux=linux))
    writes = {o.to_json()["path"]: o for o in plan.find("write_file")}
    assert writes["/proc/sys/net/ipv4/ip_forward"].to_json()["value"] == "1"
    assert writes["/proc/sys/kernel/shmmax"].source == "/linux/sysctl/kernel.shmmax"
    assert "/proc/sys/fs/mqueue/msg_max" in writes
    with pytest.raises(LoweringError) as info:
        plan_of(config(linux={"sysctl": {"vm.swappiness": "10"}}))
    assert info.value.pointer == "/linux/sysctl/vm.swappiness" and info.value.code == "OCI331"
    with pytest.raises(LoweringError, match="network namespace"):
        plan_of(config(linux={"sysctl": {"net.core.somaxconn": "1"}}))


def test_sysctl_before_readonly_proc_sys() -> None:
    linux = {
        "namespaces": [{"type": "network"}, {"type": "mount"}],
        "sysctl": {"net.ipv4.ip_forward": "1"},
        "readonlyPaths": ["/proc/sys"],
    }
    plan = plan_of(config(linux=linux))
    sysctl = next(
        i for i, o in enumerate(plan.ops) if getattr(o, "path", "").startswith("/proc/sys")
    )
    pivot = next(i for i, o in enumerate(plan.ops) if o.name == "pivot_root")
    assert sysctl < pivot


def test_lsm_labels_and_missing_lsm() -> None:
    data = config(process={"apparmorProfile": "prof", "selinuxLabel": "system_u:r:t:s0"})
    plan = plan_of(data, HostInfo.parse_overrides("lsms=capability+apparmor+selinux"))
    labels = plan.find("lsm_label")
    assert labels[0].text() == 'write("/proc/self/attr/apparmor/exec", "exec prof")'
    assert labels[1].to_json()["path"] == "/proc/self/attr/exec"
    # a label that cannot be applied fails the plan, so create fails (as runc's does)
    with pytest.raises(LoweringError) as missing:
        plan_of(data, HostInfo.parse_overrides("lsms=capability+apparmor"))
    assert missing.value.code == "OCI374"
    assert missing.value.pointer == "/process/selinuxLabel"
    old = plan_of(data, HostInfo.parse_overrides("lsms=apparmor+selinux,kernel=5.4"))
    assert old.find("lsm_label")[0].to_json()["path"] == "/proc/self/attr/exec"


def test_lsm_labels_are_written_before_the_init_waits_for_start() -> None:
    """A profile the kernel has not loaded fails the write (ENOENT): written at create,
    after pivot_root (the container's /proc) and before wait_start, it fails create as
    runc's and crun's do, not the process after start (tests/hosts/v2 shows it for real)."""
    data = config(process={"apparmorProfile": "prof", "selinuxLabel": "system_u:r:t:s0"})
    ops = plan_of(data, HostInfo.parse_overrides("lsms=capability+apparmor+selinux")).ops
    names = [op.name for op in ops]
    labels = [k for k, name in enumerate(names) if name == "lsm_label"]
    assert len(labels) == 2
    assert names.index("pivot_root") < labels[0] and labels[-1] < names.index("wait_start")
    assert all(ops[k].phase.command == "create" for k in labels)


def test_mount_label_is_the_tmpfs_context_and_needs_selinux() -> None:
    data = config(linux={"mountLabel": "system_u:object_r:container_file_t:s0:c1"})
    plan = plan_of(data, HostInfo.parse_overrides("lsms=capability+selinux"))
    tmpfs = [op for op in plan.find("mount") if op.to_json()["fstype"] == "tmpfs"]
    assert tmpfs and all(
        op.to_json()["data"].endswith(',context="system_u:object_r:container_file_t:s0:c1"')
        for op in tmpfs
    )
    with pytest.raises(LoweringError) as missing:
        plan_of(data, HostInfo.parse_overrides("lsms=capability+apparmor"))
    assert missing.value.pointer == "/linux/mountLabel"


def test_scheduling_affinity_personality_mempolicy() -> None:
    data = config(
        process={
            "scheduler": {
                "policy": "SCHED_RR",
                "priority": 10,
                "flags": ["SCHED_FLAG_RESET_ON_FORK"],
            },
            "ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 2},
            "execCPUAffinity": {"initial": "0", "final": "0-3"},
        },
        linux={
            "personality": {"domain": "LINUX32"},
            "memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0"},
        },
    )
    plan = plan_of(data, HostInfo.preset("v1", "x86_64"))
    sched = plan.find("sched_setattr")[0].to_json()
    assert sched["policy"] == "SCHED_RR" and sched["priority"] == 10
    assert plan.find("ioprio_set")[0].to_json()["value"] == (1 << 13) | 2
    aff = plan.find("sched_setaffinity")
    assert aff[0].phase is Phase.CREATE_SPAWN and aff[0].to_json()["pid"] == "{init}"
    names = [o.name for o in plan.ops]
    assert names.index("sched_setaffinity") < names.index("cgroup_join")  # before the cgroup
    assert aff[1].phase is Phase.EXEC and aff[1].to_json()["cpus"] == "0-3"
    assert plan.find("personality")[0].to_json()["value"] == 8
    assert plan.find("set_mempolicy")[0].text() == "set_mempolicy(MPOL_BIND, [0])"


def test_execve_last_and_console() -> None:
    plan = plan_of(
        config(
            process={
                "terminal": True,
                "consoleSize": {"height": 24, "width": 80},
                "args": ["/bin/echo", "hi"],
                "env": ["A=1"],
            }
        )
    )
    last_exec = [o for o in plan.ops if o.phase is Phase.EXEC][-1]
    assert last_exec.to_json() | {} == last_exec.to_json()
    j = last_exec.to_json()
    assert (j["op"], j["path"], j["argv"], j["env"]) == (
        "execve",
        "/bin/echo",
        ["/bin/echo", "hi"],
        ["A=1"],
    )
    console = plan.find("console")[0]
    assert console.phase is Phase.CREATE_PIVOT and console.to_json()["width"] == 80
    names = [o.name for o in plan.ops]
    assert names.index("console") > names.index("pivot_root")
    assert names.index("console") < names.index("wait_start") < names.index("start")


def test_no_process_plans_create_only() -> None:
    plan = plan_of(config(process=None))
    assert not plan.find("execve") and plan.find("wait_start")
    assert any(d.code == "OCI376" for d in plan.diagnostics)


def test_env_and_path_lookup_checks() -> None:
    with pytest.raises(LoweringError) as info:
        plan_of(config(process={"env": ["PATH=/bin", "NOEQUALS"]}))
    assert info.value.pointer == "/process/env/1" and info.value.code == "OCI370"
    plan = plan_of(config(process={"env": ["TERM=xterm"], "args": ["sh"]}))
    assert [d.pointer for d in plan.diagnostics if d.code == "OCI380"] == ["/process/args/0"]
    plan = plan_of(config(process={"env": ["TERM=xterm"], "args": ["/bin/sh"]}))
    assert not [d for d in plan.diagnostics if d.code == "OCI380"]


def test_rlimit_range() -> None:
    with pytest.raises(LoweringError) as info:
        plan_of(config(process={"rlimits": [{"type": "RLIMIT_CORE", "soft": -1, "hard": 0}]}))
    assert info.value.pointer == "/process/rlimits/0/soft"
