"""Process attributes: rlimits, oom_score_adj, sysctl, LSM labels, scheduling,
personality, cwd, no_new_privs and the final execve.

Limits and sysctls are applied early by the init (``create.init``), while it
still has every capability in its namespaces (raising a hard rlimit or
lowering oom_score_adj needs CAP_SYS_RESOURCE) and before readonlyPaths makes
/proc/sys read-only. Attributes of the user process itself (labels,
scheduling, personality, cwd) come at ``exec``, just before credentials drop.
"""

from __future__ import annotations

from ocitool.kernel.constants import MPOL_F, PER, RLIMIT, SCHED_FLAG
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.common import INIT_PID, WriteFile
from ocitool.plan.ops.process import (
    Chdir,
    Execve,
    IoprioSet,
    Personality,
    SchedSetaffinity,
    SchedSetattr,
    SetMempolicy,
    Setrlimit,
)
from ocitool.plan.ops.security import LsmExecLabel, NoNewPrivs, SessionKeyring
from ocitool.redact import env_entry
from ocitool.spec.facts import MPOL_MODES, RLIM_INFINITY, SCHED_POLICIES, sysctl_namespace
from ocitool.spec.model import Spec

# The resources setrlimit(2) knows, by name (the kernel's table, sorted for messages).
RLIMITS: tuple[str, ...] = tuple(sorted(RLIMIT))


# Names the kernel knows (ocitool.kernel.constants, generated from its headers).
SCHED_FLAGS: tuple[str, ...] = tuple(SCHED_FLAG)
MPOL_FLAGS: tuple[str, ...] = tuple(sorted(MPOL_F))
PERSONALITY_DOMAINS = {name.removeprefix("PER_"): value for name, value in PER.items()}
IOPRIO_CLASSES = {"IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3}


# --------------------------------------------------------------------------- create.spawn


def lower_spawn_affinity(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    """execCPUAffinity.initial: pin the init before it joins the container's cgroup."""
    proc = spec.process
    if proc is None or proc.exec_cpu_affinity is None or proc.exec_cpu_affinity.initial is None:
        return []
    aff = proc.exec_cpu_affinity
    assert aff.initial is not None
    _check_cpus(ctx, aff.at("initial"), aff.initial)
    return [
        SchedSetaffinity(
            phase=Phase.CREATE_SPAWN, source=aff.at("initial"), pid=INIT_PID, cpus=aff.initial
        )
    ]


def _check_cpus(ctx: LowerContext, pointer: str, cpus: str) -> None:
    for part in cpus.split(","):
        lo, _, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and (not hi.isdigit() or int(hi) < int(lo))):
            raise ctx.error(
                pointer,
                f"bad CPU list {cpus!r}",
                code="OCI367",
                expected="a list like 0-3,7",
            )


# --------------------------------------------------------------------------- create.init


def lower_process_setup(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    ops: list[Op] = []
    proc = spec.process
    if proc is not None:
        seen: dict[str, str] = {}
        for rl in proc.rlimits:
            if rl.type not in RLIMITS:
                raise ctx.error(
                    rl.at("type"),
                    f"unknown rlimit {rl.type!r}",
                    code="OCI368",
                    expected=", ".join(RLIMITS),
                )
            if rl.type in seen:
                raise ctx.error(
                    rl.pointer,
                    f"rlimit {rl.type} is set twice (first at {seen[rl.type]})",
                    code="OCI368",
                )
            seen[rl.type] = rl.pointer
            for key, value in (("soft", rl.soft), ("hard", rl.hard)):
                if not 0 <= value <= RLIM_INFINITY:
                    raise ctx.error(
                        rl.at(key),
                        f"{rl.type}: {key} limit {value} is outside 0..2^64-1",
                        code="OCI368",
                        hint="use 18446744073709551615 for unlimited",
                    )
            if rl.soft > rl.hard:
                raise ctx.error(
                    rl.at("soft"),
                    f"{rl.type}: soft limit {rl.soft} is above the hard limit {rl.hard}",
                    code="OCI368",
                    hint="setrlimit(2) fails with EINVAL when soft > hard",
                )
            ops.append(
                Setrlimit(
                    phase=Phase.CREATE_INIT,
                    source=rl.pointer,
                    resource=rl.type,
                    soft=rl.soft,
                    hard=rl.hard,
                )
            )
        if proc.oom_score_adj is not None:
            if not -1000 <= proc.oom_score_adj <= 1000:
                raise ctx.error(
                    proc.at("oomScoreAdj"),
                    f"oomScoreAdj {proc.oom_score_adj} is outside -1000..1000",
                    code="OCI369",
                )
            ops.append(
                WriteFile(
                    phase=Phase.CREATE_INIT,
                    source=proc.at("oomScoreAdj"),
                    path="/proc/self/oom_score_adj",
                    value=str(proc.oom_score_adj),
                )
            )
    ops.extend(_sysctl(spec, ctx))
    return ops


def _sysctl(spec: Spec, ctx: LowerContext) -> list[Op]:
    linux = spec.linux
    if linux is None or not linux.sysctl:
        return []
    ops: list[Op] = []
    for key, value in linux.sysctl.items():
        pointer = linux.at("sysctl", key)
        ns_type = sysctl_namespace(key)
        if ns_type is None:
            raise ctx.error(
                pointer,
                f"sysctl {key!r} is not namespaced: writing it would change the host",
                code="OCI331",
                hint="only ipc (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*), "
                "uts (kernel.hostname/domainname) and net.* sysctls are per-container",
            )
        ns = linux.namespace(ns_type)
        if ns is None:
            raise ctx.error(
                pointer,
                f"sysctl {key!r} needs the container's own {ns_type} namespace, "
                "otherwise it changes the host",
                code="OCI331",
                hint=f'add {{"type": "{ns_type}"}} to linux.namespaces',
            )
        if ".." in key or key.startswith(("/", ".")):
            raise ctx.error(pointer, f"bad sysctl name {key!r}", code="OCI331")
        path = "/proc/sys/" + (key if "/" in key else key.replace(".", "/"))
        ops.append(WriteFile(phase=Phase.CREATE_INIT, source=pointer, path=path, value=value))
    return ops


# --------------------------------------------------------------------------- exec


def lower_process_exec(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    proc = spec.process
    if proc is None:
        return []
    ops: list[Op] = []
    if proc.apparmor_profile:
        if not host.has_lsm("apparmor"):
            raise ctx.error(
                proc.at("apparmorProfile"),
                f"AppArmor is not enabled on this host; profile {proc.apparmor_profile!r} cannot be applied",
                code="OCI374",
                hint="remove apparmorProfile, or run on a host with AppArmor",
            )
        path = (
            "/proc/self/attr/apparmor/exec"
            if host.kernel_at_least(5, 8)
            else "/proc/self/attr/exec"
        )
        ops.append(
            LsmExecLabel(
                phase=Phase.EXEC,
                source=proc.at("apparmorProfile"),
                lsm="apparmor",
                label=proc.apparmor_profile,
                path=path,
                value=f"exec {proc.apparmor_profile}",
            )
        )
    if proc.selinux_label:
        if not host.has_lsm("selinux"):
            raise ctx.error(
                proc.at("selinuxLabel"),
                f"SELinux is not enabled on this host; label {proc.selinux_label!r} cannot be applied",
                code="OCI374",
                hint="remove selinuxLabel, or run on a host with SELinux",
            )
        ops.append(
            LsmExecLabel(
                phase=Phase.EXEC,
                source=proc.at("selinuxLabel"),
                lsm="selinux",
                label=proc.selinux_label,
                path="/proc/self/attr/exec",
                value=proc.selinux_label,
            )
        )
    ops.extend(_personality(spec, ctx))
    ops.extend(_scheduler(spec, ctx))
    if proc.io_priority is not None:
        iop = proc.io_priority
        if iop.klass not in IOPRIO_CLASSES:
            raise ctx.error(
                iop.at("class"),
                f"unknown I/O priority class {iop.klass!r}",
                code="OCI332",
                expected=", ".join(IOPRIO_CLASSES),
            )
        if not 0 <= iop.priority <= 7:
            raise ctx.error(
                iop.at("priority"), f"I/O priority {iop.priority} is outside 0..7", code="OCI332"
            )
        ops.append(
            IoprioSet(
                phase=Phase.EXEC,
                source=iop.pointer,
                klass=iop.klass,
                priority=iop.priority,
                value=IOPRIO_CLASSES[iop.klass] << 13 | iop.priority,
            )
        )
    aff = proc.exec_cpu_affinity
    if aff is not None and aff.final is not None:
        _check_cpus(ctx, aff.at("final"), aff.final)
        ops.append(
            SchedSetaffinity(phase=Phase.EXEC, source=aff.at("final"), pid="0", cpus=aff.final)
        )
    ops.extend(_memory_policy(spec, ctx))
    if not proc.cwd.startswith("/"):
        raise ctx.error(
            proc.at("cwd"),
            f"cwd {proc.cwd!r} is not an absolute path",
            code="OCI333",
            hint="runtime-spec: cwd MUST be an absolute path inside the container",
        )
    ops.append(Chdir(phase=Phase.EXEC, source=proc.at("cwd"), path=proc.cwd))
    return ops


def _personality(spec: Spec, ctx: LowerContext) -> list[Op]:
    pers = spec.linux.personality if spec.linux is not None else None
    if pers is None:
        return []
    if pers.domain not in PERSONALITY_DOMAINS:
        raise ctx.error(
            pers.at("domain"),
            f"unknown personality domain {pers.domain!r}",
            code="OCI334",
            expected="LINUX or LINUX32",
        )
    if pers.flags:
        raise ctx.error(
            pers.at("flags"),
            "personality flags are not supported (runtime-spec defines none)",
            code="OCI334",
        )
    if pers.domain == "LINUX32" and ctx.host.arch not in ("x86_64", "aarch64", "ppc64le", "s390x"):
        ctx.warn(pers.at("domain"), f"LINUX32 has no effect on {ctx.host.arch}", code="OCI375")
    return [
        Personality(
            phase=Phase.EXEC,
            source=pers.pointer,
            domain=f"PER_{pers.domain}",
            flags=(),
            value=PERSONALITY_DOMAINS[pers.domain],
        )
    ]


def _scheduler(spec: Spec, ctx: LowerContext) -> list[Op]:
    proc = spec.process
    sch = proc.scheduler if proc is not None else None
    if sch is None:
        return []
    if sch.policy not in SCHED_POLICIES:
        raise ctx.error(
            sch.at("policy"),
            f"unknown scheduling policy {sch.policy!r}",
            code="OCI335",
            expected=", ".join(SCHED_POLICIES),
        )
    for i, flag in enumerate(sch.flags):
        if flag not in SCHED_FLAGS:
            raise ctx.error(
                sch.at("flags", i),
                f"unknown scheduler flag {flag!r}",
                code="OCI335",
                expected=", ".join(SCHED_FLAGS),
            )
    nice = sch.nice or 0
    prio = sch.priority or 0
    if not -20 <= nice <= 19:
        raise ctx.error(sch.at("nice"), f"nice {nice} is outside -20..19", code="OCI335")
    realtime = sch.policy in ("SCHED_FIFO", "SCHED_RR")
    if realtime and not 1 <= prio <= 99:
        raise ctx.error(
            sch.at("priority"),
            f"{sch.policy} needs a priority in 1..99, got {prio}",
            code="OCI335",
        )
    if not realtime and prio != 0:
        raise ctx.error(
            sch.at("priority"), f"{sch.policy} takes priority 0, got {prio}", code="OCI335"
        )
    runtime, deadline, period = sch.runtime or 0, sch.deadline or 0, sch.period or 0
    if sch.policy == "SCHED_DEADLINE":
        eff_period = period or deadline
        if not (0 < runtime <= deadline <= eff_period):
            raise ctx.error(
                sch.pointer,
                "SCHED_DEADLINE needs 0 < runtime <= deadline <= period "
                f"(got {runtime}, {deadline}, {period})",
                code="OCI335",
            )
    elif runtime or deadline or period:
        ctx.warn(sch.pointer, f"runtime/deadline/period are ignored by {sch.policy}", code="OCI375")
    return [
        SchedSetattr(
            phase=Phase.EXEC,
            source=sch.pointer,
            policy=sch.policy,
            nice=nice,
            priority=prio,
            flags=sch.flags,
            runtime=runtime,
            deadline=deadline,
            period=period,
        )
    ]


def _memory_policy(spec: Spec, ctx: LowerContext) -> list[Op]:
    pol = spec.linux.memory_policy if spec.linux is not None else None
    if pol is None:
        return []
    if pol.mode not in MPOL_MODES:
        raise ctx.error(
            pol.at("mode"),
            f"unknown memory policy mode {pol.mode!r}",
            code="OCI336",
            expected=", ".join(MPOL_MODES),
        )
    for i, flag in enumerate(pol.flags):
        if flag not in MPOL_FLAGS:
            raise ctx.error(
                pol.at("flags", i),
                f"unknown memory policy flag {flag!r}",
                code="OCI336",
                expected=", ".join(MPOL_FLAGS),
            )
    if pol.mode in ("MPOL_DEFAULT", "MPOL_LOCAL") and pol.nodes:
        raise ctx.error(pol.at("nodes"), f"{pol.mode} takes no nodes", code="OCI336")
    if (
        pol.mode
        in ("MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE")
        and not pol.nodes
    ):
        raise ctx.error(pol.pointer, f"{pol.mode} needs nodes", code="OCI336")
    if pol.nodes:
        _check_cpus(ctx, pol.at("nodes"), pol.nodes)
    return [
        SetMempolicy(
            phase=Phase.EXEC, source=pol.pointer, mode=pol.mode, nodes=pol.nodes, flags=pol.flags
        )
    ]


def lower_session_keyring(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    """A session keyring of the container's own, ``_ses.<id>`` (runc's name and perms),
    first in the exec phase: before any seccomp filter (profiles often deny keyctl).
    None with ``--no-new-keyring`` (runc's flag: the process keeps the runtime's)."""
    if spec.process is None or ctx.no_new_keyring:
        return []
    perm = 0x8 if spec.has_namespace("user") else 0x80000  # other / uid: search
    return [
        SessionKeyring(
            phase=Phase.EXEC,
            source=None,
            keyring=f"_ses.{ctx.container_id}",
            search_perm=perm,
        )
    ]


def lower_no_new_privs(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    proc = spec.process
    if proc is None or not proc.no_new_privileges:
        return []
    return [NoNewPrivs(phase=Phase.EXEC, source=proc.at("noNewPrivileges"))]


def lower_execve(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    proc = spec.process
    if proc is None:
        ctx.warn("", "no process: the plan covers create only (start needs process)", code="OCI376")
        return []
    if not proc.args:
        raise ctx.error(
            proc.at("args"),
            "process.args is empty: there is nothing to execute",
            code="OCI337",
            hint='set e.g. "args": ["sh"]',
        )
    for i, entry in enumerate(proc.env):
        if "=" not in entry or entry.startswith("="):
            raise ctx.error(
                proc.at("env", i),
                f"env entry {env_entry(entry)!r} is not KEY=value",
                code="OCI370",
                hint="runtime-spec: env entries have the form VARIABLE=VALUE",
            )
    if "/" not in proc.args[0] and not any(e.startswith("PATH=") for e in proc.env):
        ctx.warn(
            proc.at("args", 0),
            f"{proc.args[0]!r} has no '/' and process.env sets no PATH: the executable cannot "
            "be looked up",
            code="OCI380",
            hint=f'use an absolute path (e.g. "/bin/{proc.args[0]}") or add PATH=... to env',
        )
    return [
        Execve(
            phase=Phase.EXEC,
            source=proc.at("args"),
            path=proc.args[0],
            argv=proc.args,
            env=proc.env,
        )
    ]
