"""The plan verifier: does the plan hold every op the config asks for?

Lowering is fail-closed (DESIGN.md rule 5): a concern that is missing, broken
or that forgets part of the config must make :func:`ocitool.lower.lower` fail,
not return a shorter plan. This module states, straight from the typed
:class:`~ocitool.spec.model.Spec`, what a correct plan must contain -- one
mount op per ``mounts[]`` entry, pivot_root, a ``mask_path`` per masked path,
a ``seccomp_load`` with a compiled program when seccomp is set, and so on for
every concern -- and :func:`verify_plan` returns what is missing.

It deliberately does not call the concern modules: it is a second, small
statement of the same requirements, so a concern that is broken or skipped
cannot agree with itself. Ops are matched by type and by the config pointer
they carry (``op.source``); a config value the host cannot honour must make
lowering raise, or leave a diagnostic at its pointer (a warning says why there
is no op), never nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ocitool import records
from ocitool.capabilities import cap_number
from ocitool.errors import Diagnostic
from ocitool.lower.devices import PTMX
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.cgroup import (
    CgroupDeviceProgram,
    CgroupJoin,
    CgroupMkdir,
    CgroupRemove,
    CgroupWrite,
    StartTransientUnit,
)
from ocitool.plan.ops.common import INIT_PID, WriteFile
from ocitool.plan.ops.fs import (
    BindMount,
    Chroot,
    MakePropagation,
    MaskPath,
    Mknod,
    Mount,
    PivotRoot,
    ReadonlyPath,
    Remount,
    Symlink,
    Umount,
)
from ocitool.plan.ops.hooks import RunHook
from ocitool.plan.ops.namespaces import (
    Clone,
    Fork,
    NetDeviceMove,
    Setdomainname,
    Sethostname,
    Setns,
    Unshare,
)
from ocitool.plan.ops.process import (
    Chdir,
    Console,
    Execve,
    IoprioSet,
    Kill,
    Personality,
    SchedSetaffinity,
    SchedSetattr,
    Setgroups,
    SetMempolicy,
    Setresgid,
    Setresuid,
    Setrlimit,
    Start,
    Umask,
    WaitStart,
)
from ocitool.plan.ops.rootless import CgroupsSkipped, IdMapHelper
from ocitool.plan.ops.security import (
    LsmExecLabel,
    NoNewPrivs,
    SeccompLoad,
    SessionKeyring,
    SetCapabilities,
)
from ocitool.spec.facts import HOOK_KINDS, NAMESPACE_FLAGS
from ocitool.spec.model import IDMapping, Linux, Node, Spec


@dataclass(frozen=True)
class Rootless:
    """What the verifier needs to know of a rootless runtime: its ids (which maps it
    writes itself) and whether the container gets a cgroup (lower/rootless.py)."""

    euid: int
    egid: int
    cgroups_skipped: bool


@dataclass(frozen=True)
class Need:
    """One op the config asks for: which concern owes it and how to recognise it.

    An op meets the need when it is an instance of ``kind``, has each of
    ``fields`` (name, value), runs in ``phase`` (if given), carries the config
    pointer ``source`` (if given) or one inside ``under`` (if given), and
    passes ``test`` (if given).
    """

    concern: str
    what: str
    kind: type[Op] | tuple[type[Op], ...]
    fields: tuple[tuple[str, object], ...] = ()
    phase: Phase | None = None
    source: str | None = None
    under: str | None = None
    test: Callable[[Op], bool] | None = None

    def met_by(self, index: OpIndex) -> bool:
        if self.source is not None:
            return any(self._matches(op) for op in index.by_source.get(self.source, ()))
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        return any(self._matches(op) for kind in kinds for op in index.by_class.get(kind, ()))

    def _matches(self, op: Op) -> bool:
        if not isinstance(op, self.kind):
            return False
        if self.phase is not None and op.phase is not self.phase:
            return False
        if self.source is not None and op.source != self.source:
            return False
        if self.under is not None and not _inside(op.source, self.under):
            return False
        if any(getattr(op, name, None) != value for name, value in self.fields):
            return False
        return self.test is None or self.test(op)


@dataclass
class OpIndex:
    """A plan's ops by class (each under every op class it is an instance of) and by
    config pointer, so that each need looks only at its candidates."""

    by_class: dict[type[Op], list[Op]]
    by_source: dict[str, list[Op]]


def index_ops(ops: Sequence[Op]) -> OpIndex:
    index = OpIndex(by_class={}, by_source={})
    for op in ops:
        cls = type(op)
        above = _OP_CLASSES.get(cls)
        if above is None:
            above = _OP_CLASSES[cls] = tuple(c for c in cls.__mro__ if issubclass(c, Op))
        for c in above:
            index.by_class.setdefault(c, []).append(op)
        if op.source is not None:
            index.by_source.setdefault(op.source, []).append(op)
    return index


_OP_CLASSES: dict[type[Op], tuple[type[Op], ...]] = {}


def _inside(pointer: str | None, outer: str) -> bool:
    """``pointer`` is ``outer`` or a pointer inside it."""
    return pointer is not None and (pointer == outer or pointer.startswith(outer + "/"))


# --------------------------------------------------------------------------- per concern


def _lifecycle(spec: Spec) -> Iterable[Need]:
    yield Need("lifecycle", "wait_start at the end of create", WaitStart)
    yield Need("lifecycle", "start", Start)
    yield Need("lifecycle", "kill at delete", Kill)
    proc = spec.process
    if proc is not None and proc.terminal:
        yield Need("lifecycle", "console for process.terminal", Console)


def _namespaces(spec: Spec, rootless: Rootless | None) -> Iterable[Need]:
    yield Need("namespaces", "clone of the init", Clone)
    linux = spec.linux
    if linux is None:
        return
    for ns in linux.namespaces:
        flag = NAMESPACE_FLAGS.get(ns.type, ns.type)
        if ns.path is not None:
            yield Need(
                "namespaces",
                f"setns into the {ns.type} namespace at {ns.path}",
                Setns,
                fields=(("path", ns.path), ("nstype", flag)),
            )
        elif ns.type == "cgroup":  # after the cgroup join, so never folded into the clone
            yield Need(
                "namespaces",
                f"unshare({flag}) for the new cgroup namespace",
                Unshare,
                phase=Phase.CREATE_INIT,
                test=_has_flag(flag),
            )
        else:
            yield Need(
                "namespaces",
                f"unshare({flag}) (or the clone's flag) for the new {ns.type} namespace",
                (Unshare, Clone),
                test=_creates(flag),
            )
    user = linux.namespace("user")
    if user is not None and user.path is None:
        yield from _idmaps(linux, rootless)
    pid, time = linux.namespace("pid"), linux.namespace("time")
    if pid is not None or (time is not None and time.path is None):
        # A pid/time namespace applies to children only: the init forks, unless
        # it was cloned straight into a new pid namespace (and there is no new time one).
        pid_new = pid is not None and pid.path is None
        time_new = time is not None and time.path is None
        yield Need(
            "namespaces",
            "fork (or a clone into the new namespace) for the pid/time namespace",
            (Fork, Clone),
            test=_forks_or_clones_into(pid_new and not time_new),
        )
    for dev in linux.net_devices:
        yield Need(
            "namespaces", f"netdev_move of {dev.host_name}", NetDeviceMove, source=dev.pointer
        )
    if linux.time_offsets:
        yield Need(
            "namespaces",
            "timens_offsets write",
            WriteFile,
            fields=(("path", "/proc/self/timens_offsets"),),
        )


def _idmaps(linux: Linux, rootless: Rootless | None) -> Iterable[Need]:
    """A privileged runtime writes setgroups and both maps; a rootless one writes a map
    itself only for its own id (after setgroups ``deny`` for gids), else runs the helper."""
    maps = (
        ("uid_map", "newuidmap", linux.uid_mappings, rootless.euid if rootless else 0),
        ("gid_map", "newgidmap", linux.gid_mappings, rootless.egid if rootless else 0),
    )
    if rootless is not None and rootless.euid == 0:
        rootless = None  # root of a user namespace writes every map itself
    own_gid_map = rootless is not None and direct_map(linux.gid_mappings, rootless.egid)
    if rootless is None or own_gid_map:
        yield Need(
            "namespaces",
            "the init's setgroups write",
            WriteFile,
            fields=(("path", f"/proc/{INIT_PID}/setgroups"),),
            phase=Phase.CREATE_IDMAP,
        )
    for name, helper, mappings, own in maps:
        if rootless is not None and not direct_map(mappings, own):
            yield Need(
                "namespaces",
                f"{helper} for the init's {name}",
                IdMapHelper,
                fields=(("helper", helper),),
                phase=Phase.CREATE_IDMAP,
            )
        else:
            yield Need(
                "namespaces",
                f"the init's {name} write",
                WriteFile,
                fields=(("path", f"/proc/{INIT_PID}/{name}"),),
                phase=Phase.CREATE_IDMAP,
            )


def direct_map(mappings: tuple[IDMapping, ...], own_id: int) -> bool:
    """One range of size 1 holding ``own_id``: the only map an unprivileged runtime may
    write itself (user_namespaces(7)); stated here again on purpose (module docstring)."""
    return len(mappings) == 1 and mappings[0].size == 1 and mappings[0].host_id == own_id


def _has_flag(flag: str) -> Callable[[Op], bool]:
    return lambda op: isinstance(op, Unshare) and flag in op.flags


def _creates(flag: str) -> Callable[[Op], bool]:
    """An unshare of ``flag`` in create.namespaces, or a clone that already has it."""
    return lambda op: (
        (isinstance(op, Clone) and flag in op.flags)
        or (isinstance(op, Unshare) and op.phase is Phase.CREATE_NAMESPACES and flag in op.flags)
    )


def _forks_or_clones_into(clone_may_do: bool) -> Callable[[Op], bool]:
    return lambda op: (
        isinstance(op, Fork)
        or (clone_may_do and isinstance(op, Clone) and "CLONE_NEWPID" in op.flags)
    )


def _clone_cgroup(op: Op) -> str:
    """The cgroup2 directory a clone starts the init in (clone3 with CLONE_INTO_CGROUP,
    the spawn pass's replacement for the join), or ""."""
    return str(getattr(op, "cgroup", "")) if isinstance(op, Clone) else ""


def _is_device_policy(op: Op) -> bool:
    return isinstance(op, CgroupDeviceProgram) or (
        isinstance(op, CgroupWrite) and op.path.endswith(("/devices.deny", "/devices.allow"))
    )


def _cgroups(spec: Spec, rootless: Rootless | None) -> Iterable[Need]:
    if rootless is not None and rootless.cgroups_skipped:
        yield Need("cgroups", "the note that cgroups are skipped (rootless)", CgroupsSkipped)
        return
    rdt = spec.linux.intel_rdt if spec.linux is not None else None
    rdt_pointer = rdt.pointer if rdt is not None else None

    def not_rdt(op: Op) -> bool:
        return rdt_pointer is None or not _inside(op.source, rdt_pointer)

    def joins(op: Op) -> bool:
        # the systemd driver: the unit's PIDs property puts the init in its cgroup
        return (
            bool(_clone_cgroup(op))
            or isinstance(op, StartTransientUnit)
            or (isinstance(op, CgroupJoin) and not_rdt(op))
        )

    yield Need("cgroups", "the container's cgroup (mkdir)", CgroupMkdir, test=not_rdt)
    yield Need(
        "cgroups", "the init's cgroup join", (CgroupJoin, Clone, StartTransientUnit), test=joins
    )
    if rootless is not None:
        return  # no device policy rootless (lower/rootless.py)
    yield Need(
        "cgroups",
        "the device policy (v1 devices.allow/deny, v2 eBPF program)",
        (CgroupDeviceProgram, CgroupWrite),
        test=_is_device_policy,
    )


# Fields that ask for nothing by themselves (an update-time check, a switch only
# v1 has and that kernels since 5.11 ignore).
_NO_OP_FIELDS = frozenset({"check_before_update", "use_hierarchy"})


def resource_leaves(node: object) -> Iterable[tuple[str, str]]:
    """(pointer, field) of every value set under ``linux.resources``."""
    if not isinstance(node, Node):
        return
    for name in records.fields(node):
        if name == "pointer" or name in _NO_OP_FIELDS or name == "devices":
            continue
        value = getattr(node, name)
        if value is None or value is False or value == () or value == {} or value == "":
            continue
        if value == 0 or (name == "swappiness" and value == -1):
            continue  # runc's and the spec's "unset" (0; swappiness -1): nothing to write
        if isinstance(value, tuple):
            for item in value:
                if isinstance(item, Node):
                    yield item.pointer, name
        elif isinstance(value, Node):
            yield from resource_leaves(value)
        elif name == "unified":
            for key in value:
                yield node.at("unified", key), key
        else:
            yield node.pointer + "/" + _json_name(name), name


def _json_name(field_name: str) -> str:
    """The config key of a model field (``kernel_tcp`` -> ``kernelTCP``)."""
    special = {
        "kernel_tcp": "kernelTCP",
        "disable_oom_killer": "disableOOMKiller",
        "block_io": "blockIO",
        "class_id": "classID",
    }
    if field_name in special:
        return special[field_name]
    head, *rest = field_name.split("_")
    return head + "".join(p.title() for p in rest)


def resource_problems(
    spec: Spec, ops: Sequence[Op], diagnostics: Sequence[Diagnostic]
) -> list[str]:
    """Every ``linux.resources`` value set needs a cgroup op at (or inside) its pointer,
    or a diagnostic at it or at a group around it (``resources.network is ignored on
    v2``) saying why the host does nothing with it."""
    resources = spec.linux.resources if spec.linux is not None else None
    if resources is None:
        return []
    inside = resources.pointer + "/"
    # Pointers an op or a note is at or inside, and pointers a note is at or around.
    below = {a for op in ops if op.source for a in _ancestors(op.source, inside)}
    notes = [d.pointer for d in diagnostics if d.pointer.startswith(inside)]
    below |= {a for p in notes for a in _ancestors(p, inside)}
    around = set(notes)

    def covered(leaf: str) -> bool:
        return leaf in below or any(a in around for a in _ancestors(leaf, inside))

    problems = []
    for leaf, name in resource_leaves(resources):
        partner = _WRITTEN_WITH.get(leaf.rsplit("/", 2)[-2] + "/" + name)
        if covered(leaf) or (partner and covered(leaf.rsplit("/", 1)[0] + "/" + partner)):
            continue
        problems.append(f"cgroups: no op or diagnostic for {leaf}")
    return problems


def _ancestors(pointer: str, inside: str) -> Iterable[str]:
    """``pointer`` and every pointer around it that still starts with ``inside``."""
    while pointer.startswith(inside):
        yield pointer
        pointer = pointer.rsplit("/", 1)[0]


# Values written in one file together with another (cgroup v2 ``cpu.max`` holds
# "quota period"; the op's pointer is the quota's).
_WRITTEN_WITH = {"cpu/period": "quota"}


def directory_problems(spec: Spec, ops: Sequence[Op]) -> list[str]:
    """cgroup and resctrl directories: each one made is joined and removed, and each
    join or removal is of a directory the plan makes. The one exception is a resctrl
    group named by ``closID``: other containers may share it, so it is kept."""
    rdt = spec.linux.intel_rdt if spec.linux is not None else None
    made = {op.path: op for op in ops if isinstance(op, CgroupMkdir)}
    joined = {posixpath.dirname(op.path) for op in ops if isinstance(op, CgroupJoin)}
    joined |= {_clone_cgroup(op) for op in ops if _clone_cgroup(op)}
    units = {op.unit for op in ops if isinstance(op, StartTransientUnit)}
    joined |= {d for d in made if posixpath.basename(d) in units}  # systemd moves the init
    removed = {op.path for op in ops if isinstance(op, CgroupRemove)}
    kept = {
        path
        for path, op in made.items()
        if rdt is not None and rdt.clos_id is not None and op.source == rdt.pointer
    }
    problems = [f"cgroups: {d} is made but never joined" for d in sorted(set(made) - joined)]
    problems += [f"cgroups: {d} is joined but never made" for d in sorted(joined - set(made))]
    problems += [
        f"cgroups: {d} is made but not removed at delete"
        for d in sorted(set(made) - kept - removed)
    ]
    problems += [f"cgroups: {d} is removed but never made" for d in sorted(removed - set(made))]
    return problems


def _intel_rdt(spec: Spec) -> Iterable[Need]:
    rdt = spec.linux.intel_rdt if spec.linux is not None else None
    if rdt is None:
        return
    yield Need("intelrdt", "the resctrl group (mkdir)", CgroupMkdir, under=rdt.pointer)
    yield Need("intelrdt", "the resctrl join", CgroupJoin, under=rdt.pointer)
    if rdt.l3_cache_schema or rdt.mem_bw_schema or rdt.schemata:
        yield Need("intelrdt", "the schemata write", CgroupWrite, under=rdt.pointer)


def _uts(spec: Spec) -> Iterable[Need]:
    if spec.hostname is not None:
        yield Need("uts", "sethostname", Sethostname, fields=(("hostname", spec.hostname),))
    if spec.domainname is not None:
        yield Need("uts", "setdomainname", Setdomainname, fields=(("domainname", spec.domainname),))


def _process_setup(spec: Spec) -> Iterable[Need]:
    proc = spec.process
    if proc is not None:
        for rl in proc.rlimits:
            yield Need(
                "process",
                f"setrlimit({rl.type})",
                Setrlimit,
                fields=(("resource", rl.type), ("soft", rl.soft), ("hard", rl.hard)),
            )
        if proc.oom_score_adj is not None:
            yield Need(
                "process",
                "oom_score_adj write",
                WriteFile,
                fields=(("path", "/proc/self/oom_score_adj"), ("value", str(proc.oom_score_adj))),
            )
    linux = spec.linux
    if linux is not None:
        for key in linux.sysctl:
            yield Need("process", f"sysctl {key}", WriteFile, source=linux.at("sysctl", key))


def _mounts(spec: Spec, no_pivot: bool) -> Iterable[Need]:
    if not spec.has_namespace("mount"):
        yield Need("mounts", "chroot into the rootfs (no mount namespace)", Chroot)
        return
    yield Need(
        "mounts",
        "rootfs propagation on /",
        MakePropagation,
        fields=(("target", "/"),),
        phase=Phase.CREATE_INIT,
    )
    yield Need(
        "mounts",
        "the rootfs bind mount",
        BindMount,
        phase=Phase.CREATE_INIT,
        source=spec.root.at("path") if spec.root is not None else None,
        test=lambda op: getattr(op, "src", None) == getattr(op, "target", ""),
    )
    for mount in spec.mounts:
        yield Need(
            "mounts",
            f"a mount for {mount.pointer} ({mount.destination})",
            (Mount, Remount),  # Mount covers bind, id-mapped and copy-up mounts
            source=mount.pointer,
        )
    linux = spec.linux
    for dev in linux.devices if linux is not None else ():
        if dev.path == PTMX:  # runc's rule: the pts/ptmx symlink stands for it (lower/devices.py)
            yield Need("mounts", "the /dev/ptmx symlink", Symlink, source=dev.pointer)
        else:
            yield Need("mounts", f"device node {dev.path}", (Mknod, BindMount), source=dev.pointer)
    if no_pivot:
        yield Need("mounts", "chroot into the moved rootfs (--no-pivot)", Chroot)
    else:
        yield Need("mounts", "pivot_root", PivotRoot)
        yield Need("mounts", "umount2 of the old root", Umount, phase=Phase.CREATE_PIVOT)
    if linux is not None:
        for key, paths, kind in (
            ("readonlyPaths", linux.readonly_paths, ReadonlyPath),
            ("maskedPaths", linux.masked_paths, MaskPath),
        ):
            for i, path in enumerate(paths):
                yield Need(
                    "mounts",
                    f"{kind.name} {path}",
                    kind,
                    fields=(("path", path),),
                    source=linux.at(key, i),
                )
    if spec.root is not None and spec.root.readonly:
        yield Need(
            "mounts",
            "read-only remount of /",
            Remount,
            fields=(("target", "/"),),
            phase=Phase.CREATE_PIVOT,
            test=lambda op: "MS_RDONLY" in getattr(op, "flags", ()),
        )


def _hooks(spec: Spec) -> Iterable[Need]:
    if spec.hooks is None:
        return
    for kind in HOOK_KINDS:
        for index, hook in enumerate(spec.hooks.of_kind(kind)):
            yield Need(
                "hooks",
                f"hook {kind}[{index}] ({hook.path})",
                RunHook,
                fields=(("kind", kind), ("index", index), ("path", hook.path)),
            )


def _process_exec(spec: Spec, no_new_keyring: bool) -> Iterable[Need]:
    proc = spec.process
    if proc is None:
        return
    if proc.apparmor_profile:
        yield Need("process", "AppArmor exec label", LsmExecLabel, fields=(("lsm", "apparmor"),))
    if proc.selinux_label:
        yield Need("process", "SELinux exec label", LsmExecLabel, fields=(("lsm", "selinux"),))
    linux = spec.linux
    if linux is not None and linux.personality is not None:
        yield Need("process", "personality", Personality)
    if linux is not None and linux.memory_policy is not None:
        yield Need("process", "set_mempolicy", SetMempolicy)
    if proc.scheduler is not None:
        yield Need("process", "sched_setattr", SchedSetattr)
    if proc.io_priority is not None:
        yield Need("process", "ioprio_set", IoprioSet)
    aff = proc.exec_cpu_affinity
    if aff is not None and aff.initial is not None:
        yield Need("process", "initial CPU affinity", SchedSetaffinity, phase=Phase.CREATE_SPAWN)
    if aff is not None and aff.final is not None:
        yield Need("process", "final CPU affinity", SchedSetaffinity, phase=Phase.EXEC)
    if not no_new_keyring:
        yield Need("process", "session keyring", SessionKeyring, phase=Phase.EXEC)
    yield Need(
        "process", f"chdir({proc.cwd})", Chdir, fields=(("path", proc.cwd),), phase=Phase.EXEC
    )
    if proc.no_new_privileges:
        yield Need("process", "no_new_privs", NoNewPrivs)
    if proc.args:
        yield Need("process", f"execve({proc.args[0]})", Execve, fields=(("argv", proc.args),))


def _users(spec: Spec, euid: int) -> Iterable[Need]:
    proc = spec.process
    if proc is None:
        return
    user = proc.user
    yield Need(
        "users",
        f"setresgid({user.gid})",
        Setresgid,
        fields=(("rgid", user.gid), ("egid", user.gid), ("sgid", user.gid)),
        phase=Phase.EXEC,
    )
    yield Need(
        "users",
        f"setresuid({user.uid})",
        Setresuid,
        fields=(("ruid", user.uid), ("euid", user.uid), ("suid", user.uid)),
        phase=Phase.EXEC,
    )
    linux = spec.linux
    userns = linux.namespace("user") if linux is not None else None
    if userns is None or userns.path is not None or euid == 0:
        # (an unprivileged runtime's new user namespace has setgroups denied)
        yield Need("users", "setgroups", Setgroups, fields=(("gids", user.additional_gids),))
    yield Need("users", "umask", Umask)


def _capabilities(spec: Spec) -> Iterable[Need]:
    proc = spec.process
    if proc is None:
        return
    caps = proc.capabilities

    def holds(op: Op) -> bool:
        """Every capability the config names is set in the op's bitmap of that set."""
        if caps is None:
            return True
        for which in ("bounding", "effective", "permitted", "inheritable"):
            mask = int(getattr(op, which, 0))
            for name in getattr(caps, which) or ():
                number = cap_number(name)
                if number is not None and not mask >> number & 1:
                    return False
        return True

    yield Need("capabilities", "the five capability sets", SetCapabilities, test=holds)


def _seccomp(spec: Spec) -> Iterable[Need]:
    linux = spec.linux
    if linux is None or linux.seccomp is None or spec.process is None:
        return
    yield Need(
        "seccomp",
        "seccomp_load with a compiled program",
        SeccompLoad,
        test=lambda op: isinstance(op, SeccompLoad) and bool(op.program) and op.instructions > 0,
    )


def needs(
    spec: Spec,
    *,
    euid: int = 0,
    no_pivot: bool = False,
    no_new_keyring: bool = False,
    rootless: Rootless | None = None,
) -> list[Need]:
    """Every op ``spec`` asks for, concern by concern (``rootless``: as a rootless
    runtime lowers it)."""
    out: list[Need] = []
    for group in (
        _lifecycle(spec),
        _namespaces(spec, rootless),
        _cgroups(spec, rootless),
        _intel_rdt(spec),
        _uts(spec),
        _process_setup(spec),
        _mounts(spec, no_pivot),
        _hooks(spec),
        _process_exec(spec, no_new_keyring),
        _users(spec, euid),
        _capabilities(spec),
        _seccomp(spec),
    ):
        out.extend(group)
    return out


def joined_pid_problems(spec: Spec, ops: Sequence[Op]) -> list[str]:
    """A joined pid namespace sees the init from its fork on: the fork must come after
    the root switch (root and cwd in the container) and before the proc mount (which
    must be made from inside the namespace); see ocitool/lower/joinedpid.py."""
    from ocitool.lower.joinedpid import in_proc, root_switched

    pid = spec.linux.namespace("pid") if spec.linux is not None else None
    if pid is None or pid.path is None:
        return []
    forks = [i for i, op in enumerate(ops) if isinstance(op, Fork)]
    switched = root_switched(ops)
    if not forks or switched < 0:
        return []  # a missing fork is a missing need; no root switch: nothing to order
    problems = []
    if forks[0] < switched:
        problems.append(
            "namespaces: the fork into a joined pid namespace comes before the root switch "
            "(the host's root and cwd would be visible there)"
        )
    if any(in_proc(op) for op in ops[: forks[0]]):
        problems.append("mounts: /proc is mounted before the fork into the joined pid namespace")
    return problems


def verify_plan(
    spec: Spec,
    ops: Sequence[Op],
    *,
    diagnostics: Sequence[Diagnostic] = (),
    euid: int = 0,
    no_pivot: bool = False,
    no_new_keyring: bool = False,
    rootless: Rootless | None = None,
) -> list[str]:
    """What the plan lacks for ``spec`` (empty: every required op is there)."""
    index = index_ops(ops)
    problems = [
        f"{need.concern}: missing {need.what}"
        for need in needs(
            spec, euid=euid, no_pivot=no_pivot, no_new_keyring=no_new_keyring, rootless=rootless
        )
        if not need.met_by(index)
    ]
    problems += directory_problems(spec, ops)
    problems += resource_problems(spec, ops, diagnostics)
    problems += joined_pid_problems(spec, ops)
    for op in ops:
        if isinstance(op, SeccompLoad) and not op.program:
            problems.append("seccomp: seccomp_load without a compiled program")
    return problems
