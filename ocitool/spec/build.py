"""Document -> :class:`ocitool.spec.model.Spec`, with defensive type checks.

The schema validator normally runs first, but this builder is also on the hot
path (``exec``, ``create``) where jsonschema must not be imported, so it checks
the type of every value it reads and raises :class:`ValidationError` with the
pointer and line:column of the first value that does not fit. It never lets a
``KeyError`` or ``TypeError`` escape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from ocitool.errors import ValidationError
from ocitool.redact import env_value, is_env_pointer
from ocitool.spec import model as m
from ocitool.spec.load import Document, join_pointer

T = TypeVar("T")

_TYPE_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    bool: "a boolean",
}


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc

    # ------------------------------------------------------------------ errors

    def fail(
        self,
        pointer: str,
        message: str,
        expected: str | None = None,
        code: str = "OCI301",
        hint: str | None = None,
    ) -> ValidationError:
        pos = self.doc.position(pointer) if self.doc.text else None
        line, col = pos if pos else (None, None)
        return ValidationError(
            message=message,
            code=code,
            pointer=pointer,
            path=self.doc.path,
            line=line,
            column=col,
            expected=expected,
            hint=hint,
        )

    # ------------------------------------------------------------------ typed getters

    def check(self, value: Any, kind: type, pointer: str) -> Any:
        ok = isinstance(value, kind)
        if kind is int and isinstance(value, bool):
            ok = False
        if not ok:
            raise self.fail(
                pointer,
                f"{pointer or 'document'} must be {_TYPE_NAMES[kind]}, got "
                + _describe(env_value(value) if is_env_pointer(pointer) else value),
                expected=_TYPE_NAMES[kind],
            )
        return value

    def obj(self, parent: Mapping[str, Any], key: str, pointer: str) -> dict[str, Any] | None:
        if key not in parent or parent[key] is None:
            return None
        result: dict[str, Any] = self.check(parent[key], dict, join_pointer(pointer, key))
        return result

    def req(self, parent: Mapping[str, Any], key: str, pointer: str, kind: type) -> Any:
        if key not in parent or parent[key] is None:
            raise self.fail(
                pointer,
                f"{pointer or 'document'} is missing required member {key!r}",
                expected=f"member {key!r}",
                code="OCI302",
            )
        return self.check(parent[key], kind, join_pointer(pointer, key))

    def opt(self, parent: Mapping[str, Any], key: str, pointer: str, kind: type) -> Any:
        if key not in parent or parent[key] is None:
            return None
        return self.check(parent[key], kind, join_pointer(pointer, key))

    def strs(self, parent: Mapping[str, Any], key: str, pointer: str) -> tuple[str, ...] | None:
        value = self.opt(parent, key, pointer, list)
        if value is None:
            return None
        ptr = join_pointer(pointer, key)
        return tuple(self.check(v, str, join_pointer(ptr, i)) for i, v in enumerate(value))

    def ints(self, parent: Mapping[str, Any], key: str, pointer: str) -> tuple[int, ...]:
        value = self.opt(parent, key, pointer, list)
        if value is None:
            return ()
        ptr = join_pointer(pointer, key)
        return tuple(self.check(v, int, join_pointer(ptr, i)) for i, v in enumerate(value))

    def items(
        self,
        parent: Mapping[str, Any],
        key: str,
        pointer: str,
        make: Callable[[dict[str, Any], str], T],
    ) -> tuple[T, ...]:
        value = self.opt(parent, key, pointer, list)
        if value is None:
            return ()
        ptr = join_pointer(pointer, key)
        out = []
        for i, item in enumerate(value):
            item_ptr = join_pointer(ptr, i)
            out.append(make(self.check(item, dict, item_ptr), item_ptr))
        return tuple(out)

    def str_map(self, parent: Mapping[str, Any], key: str, pointer: str) -> Mapping[str, str]:
        value = self.opt(parent, key, pointer, dict)
        if value is None:
            return m.EMPTY_MAP
        ptr = join_pointer(pointer, key)
        for k, v in value.items():
            self.check(v, str, join_pointer(ptr, k))
        return MappingProxyType(dict(value))

    # ------------------------------------------------------------------ spec

    def spec(self, data: Any) -> m.Spec:
        d = self.check(data, dict, "")
        process = self.obj(d, "process", "")
        root = self.obj(d, "root", "")
        hooks = self.obj(d, "hooks", "")
        linux = self.obj(d, "linux", "")
        others = {k: d[k] for k in ("solaris", "windows", "vm", "zos", "freebsd") if k in d}
        return m.Spec(
            pointer="",
            oci_version=self.req(d, "ociVersion", "", str),
            process=self.process(process, "/process") if process is not None else None,
            root=self.root(root, "/root") if root is not None else None,
            hostname=self.opt(d, "hostname", "", str),
            domainname=self.opt(d, "domainname", "", str),
            mounts=self.items(d, "mounts", "", self.mount),
            hooks=self.hooks(hooks, "/hooks") if hooks is not None else None,
            annotations=self.str_map(d, "annotations", ""),
            linux=self.linux(linux, "/linux") if linux is not None else None,
            other_platforms=MappingProxyType(others),
        )

    # ------------------------------------------------------------------ process

    def process(self, d: dict[str, Any], p: str) -> m.Process:
        user = self.obj(d, "user", p)
        if user is None:
            raise self.fail(p, f"{p} is missing required member 'user'", "member 'user'", "OCI302")
        caps = self.obj(d, "capabilities", p)
        console = self.obj(d, "consoleSize", p)
        iop = self.obj(d, "ioPriority", p)
        sched = self.obj(d, "scheduler", p)
        aff = self.obj(d, "execCPUAffinity", p)
        return m.Process(
            pointer=p,
            terminal=bool(self.opt(d, "terminal", p, bool)),
            console_size=m.ConsoleSize(
                pointer=f"{p}/consoleSize",
                height=self.req(console, "height", f"{p}/consoleSize", int),
                width=self.req(console, "width", f"{p}/consoleSize", int),
            )
            if console is not None
            else None,
            user=self.user(user, f"{p}/user"),
            args=self.strs(d, "args", p) or (),
            command_line=self.opt(d, "commandLine", p, str),
            env=self.strs(d, "env", p) or (),
            cwd=self.req(d, "cwd", p, str),
            capabilities=self.capabilities(caps, f"{p}/capabilities") if caps is not None else None,
            rlimits=self.items(d, "rlimits", p, self.rlimit),
            no_new_privileges=bool(self.opt(d, "noNewPrivileges", p, bool)),
            apparmor_profile=self.opt(d, "apparmorProfile", p, str),
            oom_score_adj=self.opt(d, "oomScoreAdj", p, int),
            selinux_label=self.opt(d, "selinuxLabel", p, str),
            io_priority=m.IOPriority(
                pointer=f"{p}/ioPriority",
                klass=self.req(iop, "class", f"{p}/ioPriority", str),
                priority=self.opt(iop, "priority", f"{p}/ioPriority", int) or 0,
            )
            if iop is not None
            else None,
            scheduler=self.scheduler(sched, f"{p}/scheduler") if sched is not None else None,
            exec_cpu_affinity=m.ExecCPUAffinity(
                pointer=f"{p}/execCPUAffinity",
                initial=self.opt(aff, "initial", f"{p}/execCPUAffinity", str),
                final=self.opt(aff, "final", f"{p}/execCPUAffinity", str),
            )
            if aff is not None
            else None,
        )

    def user(self, d: dict[str, Any], p: str) -> m.User:
        return m.User(
            pointer=p,
            uid=self.req(d, "uid", p, int),
            gid=self.req(d, "gid", p, int),
            umask=self.opt(d, "umask", p, int),
            additional_gids=self.ints(d, "additionalGids", p),
            username=self.opt(d, "username", p, str),
        )

    def capabilities(self, d: dict[str, Any], p: str) -> m.Capabilities:
        return m.Capabilities(
            pointer=p,
            bounding=self.strs(d, "bounding", p),
            effective=self.strs(d, "effective", p),
            inheritable=self.strs(d, "inheritable", p),
            permitted=self.strs(d, "permitted", p),
            ambient=self.strs(d, "ambient", p),
        )

    def rlimit(self, d: dict[str, Any], p: str) -> m.Rlimit:
        return m.Rlimit(
            pointer=p,
            type=self.req(d, "type", p, str),
            soft=self.req(d, "soft", p, int),
            hard=self.req(d, "hard", p, int),
        )

    def scheduler(self, d: dict[str, Any], p: str) -> m.Scheduler:
        return m.Scheduler(
            pointer=p,
            policy=self.req(d, "policy", p, str),
            nice=self.opt(d, "nice", p, int),
            priority=self.opt(d, "priority", p, int),
            flags=self.strs(d, "flags", p) or (),
            runtime=self.opt(d, "runtime", p, int),
            deadline=self.opt(d, "deadline", p, int),
            period=self.opt(d, "period", p, int),
        )

    # ------------------------------------------------------------------ root, mounts, hooks

    def root(self, d: dict[str, Any], p: str) -> m.Root:
        return m.Root(
            pointer=p,
            path=self.req(d, "path", p, str),
            readonly=bool(self.opt(d, "readonly", p, bool)),
        )

    def idmap(self, d: dict[str, Any], p: str) -> m.IDMapping:
        return m.IDMapping(
            pointer=p,
            container_id=self.req(d, "containerID", p, int),
            host_id=self.req(d, "hostID", p, int),
            size=self.req(d, "size", p, int),
        )

    def mount(self, d: dict[str, Any], p: str) -> m.Mount:
        return m.Mount(
            pointer=p,
            destination=self.req(d, "destination", p, str),
            source=self.opt(d, "source", p, str),
            type=self.opt(d, "type", p, str),
            options=self.strs(d, "options", p) or (),
            uid_mappings=self.items(d, "uidMappings", p, self.idmap),
            gid_mappings=self.items(d, "gidMappings", p, self.idmap),
        )

    def hook(self, d: dict[str, Any], p: str) -> m.Hook:
        return m.Hook(
            pointer=p,
            path=self.req(d, "path", p, str),
            args=self.strs(d, "args", p) or (),
            env=self.strs(d, "env", p) or (),
            timeout=self.opt(d, "timeout", p, int),
        )

    def hooks(self, d: dict[str, Any], p: str) -> m.Hooks:
        return m.Hooks(
            pointer=p,
            prestart=self.items(d, "prestart", p, self.hook),
            create_runtime=self.items(d, "createRuntime", p, self.hook),
            create_container=self.items(d, "createContainer", p, self.hook),
            start_container=self.items(d, "startContainer", p, self.hook),
            poststart=self.items(d, "poststart", p, self.hook),
            poststop=self.items(d, "poststop", p, self.hook),
        )

    # ------------------------------------------------------------------ linux

    def linux(self, d: dict[str, Any], p: str) -> m.Linux:
        resources = self.obj(d, "resources", p)
        seccomp = self.obj(d, "seccomp", p)
        rdt = self.obj(d, "intelRdt", p)
        pers = self.obj(d, "personality", p)
        mpol = self.obj(d, "memoryPolicy", p)
        return m.Linux(
            pointer=p,
            namespaces=self.items(
                d,
                "namespaces",
                p,
                lambda x, q: m.Namespace(
                    pointer=q, type=self.req(x, "type", q, str), path=self.opt(x, "path", q, str)
                ),
            ),
            uid_mappings=self.items(d, "uidMappings", p, self.idmap),
            gid_mappings=self.items(d, "gidMappings", p, self.idmap),
            time_offsets=self.time_offsets(d, p),
            devices=self.items(d, "devices", p, self.device),
            net_devices=self.net_devices(d, p),
            cgroups_path=self.opt(d, "cgroupsPath", p, str),
            resources=self.resources(resources, f"{p}/resources")
            if resources is not None
            else None,
            intel_rdt=self.intel_rdt(rdt, f"{p}/intelRdt") if rdt is not None else None,
            sysctl=self.str_map(d, "sysctl", p),
            seccomp=self.seccomp(seccomp, f"{p}/seccomp") if seccomp is not None else None,
            rootfs_propagation=self.opt(d, "rootfsPropagation", p, str),
            masked_paths=self.strs(d, "maskedPaths", p) or (),
            readonly_paths=self.strs(d, "readonlyPaths", p) or (),
            mount_label=self.opt(d, "mountLabel", p, str),
            personality=m.Personality(
                pointer=f"{p}/personality",
                domain=self.req(pers, "domain", f"{p}/personality", str),
                flags=self.strs(pers, "flags", f"{p}/personality") or (),
            )
            if pers is not None
            else None,
            memory_policy=m.MemoryPolicy(
                pointer=f"{p}/memoryPolicy",
                mode=self.req(mpol, "mode", f"{p}/memoryPolicy", str),
                nodes=self.opt(mpol, "nodes", f"{p}/memoryPolicy", str),
                flags=self.strs(mpol, "flags", f"{p}/memoryPolicy") or (),
            )
            if mpol is not None
            else None,
        )

    def time_offsets(self, d: dict[str, Any], p: str) -> tuple[m.TimeOffset, ...]:
        offsets = self.obj(d, "timeOffsets", p)
        if offsets is None:
            return ()
        out = []
        for clock, value in offsets.items():
            q = join_pointer(f"{p}/timeOffsets", clock)
            v = self.check(value, dict, q)
            out.append(
                m.TimeOffset(
                    pointer=q,
                    clock=clock,
                    secs=self.opt(v, "secs", q, int) or 0,
                    nanosecs=self.opt(v, "nanosecs", q, int) or 0,
                )
            )
        return tuple(out)

    def net_devices(self, d: dict[str, Any], p: str) -> tuple[m.NetDevice, ...]:
        devs = self.obj(d, "netDevices", p)
        if devs is None:
            return ()
        out = []
        for host_name, value in devs.items():
            q = join_pointer(f"{p}/netDevices", host_name)
            v = self.check(value, dict, q)
            out.append(
                m.NetDevice(pointer=q, host_name=host_name, name=self.opt(v, "name", q, str))
            )
        return tuple(out)

    def device(self, d: dict[str, Any], p: str) -> m.Device:
        return m.Device(
            pointer=p,
            type=self.req(d, "type", p, str),
            path=self.req(d, "path", p, str),
            major=self.opt(d, "major", p, int),
            minor=self.opt(d, "minor", p, int),
            file_mode=self.opt(d, "fileMode", p, int),
            uid=self.opt(d, "uid", p, int),
            gid=self.opt(d, "gid", p, int),
        )

    def device_rule(self, d: dict[str, Any], p: str) -> m.DeviceRule:
        return m.DeviceRule(
            pointer=p,
            allow=self.req(d, "allow", p, bool),
            type=self.opt(d, "type", p, str),
            major=self.opt(d, "major", p, int),
            minor=self.opt(d, "minor", p, int),
            access=self.opt(d, "access", p, str),
        )

    def resources(self, d: dict[str, Any], p: str) -> m.Resources:
        mem = self.obj(d, "memory", p)
        cpu = self.obj(d, "cpu", p)
        bio = self.obj(d, "blockIO", p)
        net = self.obj(d, "network", p)
        pids = self.obj(d, "pids", p)
        return m.Resources(
            pointer=p,
            devices=self.items(d, "devices", p, self.device_rule),
            memory=self.memory(mem, f"{p}/memory") if mem is not None else None,
            cpu=self.cpu(cpu, f"{p}/cpu") if cpu is not None else None,
            block_io=self.block_io(bio, f"{p}/blockIO") if bio is not None else None,
            hugepage_limits=self.items(
                d,
                "hugepageLimits",
                p,
                lambda x, q: m.HugepageLimit(
                    pointer=q,
                    page_size=self.req(x, "pageSize", q, str),
                    limit=self.req(x, "limit", q, int),
                ),
            ),
            network=m.Network(
                pointer=f"{p}/network",
                class_id=self.opt(net, "classID", f"{p}/network", int),
                priorities=self.items(
                    net,
                    "priorities",
                    f"{p}/network",
                    lambda x, q: m.InterfacePriority(
                        pointer=q,
                        name=self.req(x, "name", q, str),
                        priority=self.req(x, "priority", q, int),
                    ),
                ),
            )
            if net is not None
            else None,
            pids=m.Pids(pointer=f"{p}/pids", limit=self.opt(pids, "limit", f"{p}/pids", int))
            if pids is not None
            else None,
            rdma=self.rdma(d, p),
            unified=self.str_map(d, "unified", p),
        )

    def memory(self, d: dict[str, Any], p: str) -> m.Memory:
        return m.Memory(
            pointer=p,
            limit=self.opt(d, "limit", p, int),
            reservation=self.opt(d, "reservation", p, int),
            swap=self.opt(d, "swap", p, int),
            kernel=self.opt(d, "kernel", p, int),
            kernel_tcp=self.opt(d, "kernelTCP", p, int),
            swappiness=self.opt(d, "swappiness", p, int),
            disable_oom_killer=self.opt(d, "disableOOMKiller", p, bool),
            use_hierarchy=self.opt(d, "useHierarchy", p, bool),
            check_before_update=self.opt(d, "checkBeforeUpdate", p, bool),
        )

    def cpu(self, d: dict[str, Any], p: str) -> m.CPU:
        return m.CPU(
            pointer=p,
            shares=self.opt(d, "shares", p, int),
            quota=self.opt(d, "quota", p, int),
            burst=self.opt(d, "burst", p, int),
            period=self.opt(d, "period", p, int),
            realtime_runtime=self.opt(d, "realtimeRuntime", p, int),
            realtime_period=self.opt(d, "realtimePeriod", p, int),
            cpus=self.opt(d, "cpus", p, str),
            mems=self.opt(d, "mems", p, str),
            idle=self.opt(d, "idle", p, int),
        )

    def throttle(self, d: dict[str, Any], p: str) -> m.ThrottleDevice:
        return m.ThrottleDevice(
            pointer=p,
            major=self.req(d, "major", p, int),
            minor=self.req(d, "minor", p, int),
            rate=self.req(d, "rate", p, int),
        )

    def block_io(self, d: dict[str, Any], p: str) -> m.BlockIO:
        return m.BlockIO(
            pointer=p,
            weight=self.opt(d, "weight", p, int),
            leaf_weight=self.opt(d, "leafWeight", p, int),
            weight_device=self.items(
                d,
                "weightDevice",
                p,
                lambda x, q: m.WeightDevice(
                    pointer=q,
                    major=self.req(x, "major", q, int),
                    minor=self.req(x, "minor", q, int),
                    weight=self.opt(x, "weight", q, int),
                    leaf_weight=self.opt(x, "leafWeight", q, int),
                ),
            ),
            throttle_read_bps_device=self.items(d, "throttleReadBpsDevice", p, self.throttle),
            throttle_write_bps_device=self.items(d, "throttleWriteBpsDevice", p, self.throttle),
            throttle_read_iops_device=self.items(d, "throttleReadIOPSDevice", p, self.throttle),
            throttle_write_iops_device=self.items(d, "throttleWriteIOPSDevice", p, self.throttle),
        )

    def rdma(self, d: dict[str, Any], p: str) -> tuple[m.Rdma, ...]:
        rdma = self.obj(d, "rdma", p)
        if rdma is None:
            return ()
        out = []
        for device, value in rdma.items():
            q = join_pointer(f"{p}/rdma", device)
            v = self.check(value, dict, q)
            out.append(
                m.Rdma(
                    pointer=q,
                    device=device,
                    hca_handles=self.opt(v, "hcaHandles", q, int),
                    hca_objects=self.opt(v, "hcaObjects", q, int),
                )
            )
        return tuple(out)

    def intel_rdt(self, d: dict[str, Any], p: str) -> m.IntelRdt:
        return m.IntelRdt(
            pointer=p,
            clos_id=self.opt(d, "closID", p, str),
            l3_cache_schema=self.opt(d, "l3CacheSchema", p, str),
            mem_bw_schema=self.opt(d, "memBwSchema", p, str),
            schemata=self.strs(d, "schemata", p) or (),
            enable_monitoring=self.opt(d, "enableMonitoring", p, bool),
            enable_cmt=self.opt(d, "enableCMT", p, bool),
            enable_mbm=self.opt(d, "enableMBM", p, bool),
        )

    def seccomp(self, d: dict[str, Any], p: str) -> m.Seccomp:
        return m.Seccomp(
            pointer=p,
            default_action=self.req(d, "defaultAction", p, str),
            default_errno_ret=self.opt(d, "defaultErrnoRet", p, int),
            architectures=self.strs(d, "architectures", p) or (),
            flags=self.strs(d, "flags", p) or (),
            listener_path=self.opt(d, "listenerPath", p, str),
            listener_metadata=self.opt(d, "listenerMetadata", p, str),
            syscalls=self.items(d, "syscalls", p, self.seccomp_syscall),
            raw=MappingProxyType(d),
        )

    def seccomp_syscall(self, d: dict[str, Any], p: str) -> m.SeccompSyscall:
        names = self.strs(d, "names", p)
        if names is None:
            raise self.fail(
                p, f"{p} is missing required member 'names'", "member 'names'", "OCI302"
            )
        return m.SeccompSyscall(
            pointer=p,
            names=names,
            action=self.req(d, "action", p, str),
            errno_ret=self.opt(d, "errnoRet", p, int),
            args=self.items(
                d,
                "args",
                p,
                lambda x, q: m.SeccompArg(
                    pointer=q,
                    index=self.req(x, "index", q, int),
                    value=self.req(x, "value", q, int),
                    value_two=self.opt(x, "valueTwo", q, int),
                    op=self.req(x, "op", q, str),
                ),
            ),
        )


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    for kind, name in _TYPE_NAMES.items():
        if isinstance(value, kind):
            return f"{name} ({_short(value)})" if kind in (str, int) else name
    if isinstance(value, float):
        return f"a number ({value!r})"
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def build_spec(doc: Document) -> m.Spec:
    """Build the typed model of ``doc``; raise :class:`ValidationError` on a misfit value."""
    return _Builder(doc).spec(doc.data)
