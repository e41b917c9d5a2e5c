"""cgroup v1 (and hybrid hosts): one directory per hierarchy, the controllers' own files.

File names and the order of writes follow the kernel's v1 documentation and
runc's ``libcontainer/cgroups/fs``. Orders that matter:

* memory: the kernel refuses ``memory.memsw.limit_in_bytes`` below
  ``memory.limit_in_bytes``. A new cgroup starts with both unlimited, so we
  write the memory limit first and then memory+swap, except when swap is
  unlimited (-1), where memsw goes first. Either way memsw >= limit after
  every single write.
* cpu: ``cpu.cfs_period_us`` before ``cpu.cfs_quota_us``;
  ``cpu.rt_period_us`` before ``cpu.rt_runtime_us``; all before the init
  joins (a SCHED_RR process cannot join a group with no RT budget).
* devices: first the policy reset (``devices.deny`` or ``devices.allow`` of
  ``a *:* rwm``), then the exceptions in the order the rules name them (the
  config's, then runc's defaults), so devices.list shows the config's
  entries in the listed order (runc sorts them by number).
* cpuset: a new cpuset cgroup has empty ``cpus``/``mems`` and cannot take
  tasks; ``cgroup_mkdir`` copies them from the parent for every level it
  creates (runc does the same), then the config's values are written.
"""

from __future__ import annotations

from ocitool.lower.cgroups import paths
from ocitool.lower.cgroups.common import Writer
from ocitool.lower.cgroups.convert import SWAP_HINT, swap_below_limit
from ocitool.lower.cgroups.device_rules import device_state
from ocitool.lower.cgroups.ebpf import DeviceException
from ocitool.spec.model import CPU, BlockIO, Memory, Resources


def write_limits(w: Writer, res: Resources) -> None:
    """Every limit in ``res`` as v1 file writes (directories are made by the caller)."""
    if res.memory is not None:
        _memory(w, res.memory)
    if res.cpu is not None:
        _cpu(w, res.cpu)
    if res.pids is not None and res.pids.limit is not None and res.pids.limit != 0:
        value = "max" if res.pids.limit < 0 else str(res.pids.limit)
        w.write("pids", "pids.max", value, res.pids.at("limit"))
    if res.block_io is not None:
        _blkio(w, res.block_io)
    for hp in res.hugepage_limits:
        name = f"hugetlb.{hp.page_size}.limit_in_bytes"
        w.write("hugetlb", name, str(hp.limit), hp.at("limit"))
        if w.host.kernel_at_least(5, 7):  # reservation accounting (runtime-spec prefers it)
            rsvd = f"hugetlb.{hp.page_size}.rsvd.limit_in_bytes"
            w.write("hugetlb", rsvd, str(hp.limit), hp.at("limit"))
    if res.network is not None:
        if res.network.class_id is not None:
            classid = str(res.network.class_id)
            w.write("net_cls", "net_cls.classid", classid, res.network.at("classID"))
        for prio in res.network.priorities:
            w.write("net_prio", "net_prio.ifpriomap", f"{prio.name} {prio.priority}", prio.pointer)
    for rdma in res.rdma:
        w.write(
            "rdma",
            "rdma.max",
            rdma_line(rdma.device, rdma.hca_handles, rdma.hca_objects),
            rdma.pointer,
        )
    if res.unified:
        raise w.ctx.error(
            res.at("unified"),
            "linux.resources.unified needs a cgroup v2 host; this host uses cgroup v1",
            code="OCI322",
            hint="move these settings to the v1 fields, or run on a cgroup v2 host",
        )


def rdma_line(device: str, handles: int | None, objects: int | None) -> str:
    parts = [device]
    if handles is not None:
        parts.append(f"hca_handle={handles}")
    if objects is not None:
        parts.append(f"hca_object={objects}")
    return " ".join(parts)


def _memory(w: Writer, mem: Memory) -> None:
    limit, swap = mem.limit, mem.swap
    writes: list[tuple[str, str, str]] = []
    if limit is not None and limit != 0:
        writes.append(("memory.limit_in_bytes", str(limit), mem.at("limit")))
    if swap is not None and swap != 0:
        problem = swap_below_limit(swap, limit)
        if problem:
            raise w.ctx.error(mem.at("swap"), problem, code="OCI323", hint=SWAP_HINT)
        memsw = ("memory.memsw.limit_in_bytes", str(swap), mem.at("swap"))
        if swap == -1:
            writes.insert(0, memsw)
        else:
            writes.append(memsw)
    for name, value, pointer in writes:
        w.write("memory", name, value, pointer)
    if mem.reservation is not None and mem.reservation != 0:
        w.write("memory", "memory.soft_limit_in_bytes", str(mem.reservation), mem.at("reservation"))
    if mem.disable_oom_killer:
        w.write("memory", "memory.oom_control", "1", mem.at("disableOOMKiller"))
    if mem.swappiness is not None and mem.swappiness != -1:
        if not 0 <= mem.swappiness <= 100:
            raise w.ctx.error(
                mem.at("swappiness"),
                f"memory.swappiness {mem.swappiness} is out of range",
                code="OCI323",
                expected="0..100",
            )
        w.write("memory", "memory.swappiness", str(mem.swappiness), mem.at("swappiness"))
    for field, name in (("kernel", "kernel"), ("kernel_tcp", "kernelTCP")):
        if getattr(mem, field) is not None:
            w.ctx.warn(
                mem.at(name),
                f"memory.{name} is ignored: separate kernel memory limits are "
                "deprecated by the kernel and runtime-spec (NOT RECOMMENDED); runc "
                "ignores them too",
                code="OCI352",
            )
    if mem.use_hierarchy is not None:
        if mem.use_hierarchy:
            w.write("memory", "memory.use_hierarchy", "1", mem.at("useHierarchy"))
        elif w.host.kernel_at_least(5, 11):
            w.ctx.warn(
                mem.at("useHierarchy"),
                "memory.useHierarchy=false is ignored: since Linux 5.11 the memory "
                "controller is always hierarchical",
                code="OCI352",
            )
        else:
            w.write("memory", "memory.use_hierarchy", "0", mem.at("useHierarchy"))


def _cpu(w: Writer, cpu: CPU) -> None:
    if cpu.shares is not None and cpu.shares != 0:
        w.write("cpu", "cpu.shares", str(cpu.shares), cpu.at("shares"))
    if cpu.period is not None and cpu.period != 0:
        w.write("cpu", "cpu.cfs_period_us", str(cpu.period), cpu.at("period"))
    if cpu.quota is not None and cpu.quota != 0:
        w.write("cpu", "cpu.cfs_quota_us", str(cpu.quota), cpu.at("quota"))
    if cpu.burst is not None:
        check_burst(w, cpu)
        w.needs_kernel(5, 14, cpu.at("burst"), "cpu.cfs_burst_us")
        w.write("cpu", "cpu.cfs_burst_us", str(cpu.burst), cpu.at("burst"))
    if cpu.realtime_period is not None and cpu.realtime_period != 0:
        w.write("cpu", "cpu.rt_period_us", str(cpu.realtime_period), cpu.at("realtimePeriod"))
    if cpu.realtime_runtime is not None and cpu.realtime_runtime != 0:
        value = str(cpu.realtime_runtime)
        w.write("cpu", "cpu.rt_runtime_us", value, cpu.at("realtimeRuntime"))
    if cpu.idle is not None:
        w.needs_kernel(5, 15, cpu.at("idle"), "cpu.idle")
        w.write("cpu", "cpu.idle", str(cpu.idle), cpu.at("idle"))
    cpuset_writes(w, cpu)


def cpuset_writes(w: Writer, cpu: CPU) -> None:
    """cpuset.cpus and cpuset.mems: the same files on v1 and v2."""
    if cpu.cpus:
        w.write("cpuset", "cpuset.cpus", cpu.cpus, cpu.at("cpus"))
    if cpu.mems:
        w.write("cpuset", "cpuset.mems", cpu.mems, cpu.at("mems"))


def check_burst(w: Writer, cpu: CPU) -> None:
    """runtime-spec: burst MUST be no larger than a positive quota (runtimes MAY refuse)."""
    if cpu.burst is not None and cpu.quota is not None and 0 < cpu.quota < cpu.burst:
        raise w.ctx.error(
            cpu.at("burst"),
            f"cpu.burst ({cpu.burst}) is larger than cpu.quota ({cpu.quota})",
            code="OCI323",
            hint="the kernel refuses a burst above the quota",
        )


def _blkio(w: Writer, bio: BlockIO) -> None:
    # CFQ (blkio.weight, leaf weights) was removed in Linux 5.0; BFQ provides
    # blkio.bfq.weight (runc tries blkio.weight first, then the bfq file).
    bfq = w.host.kernel_at_least(5, 0)
    weight_file = "blkio.bfq.weight" if bfq else "blkio.weight"
    if bio.weight is not None and bio.weight != 0:
        w.write("blkio", weight_file, str(bio.weight), bio.at("weight"))
        if bfq:
            w.ctx.warn(
                bio.at("weight"),
                "blkio weights need the BFQ I/O scheduler on Linux >= 5.0 "
                f"(the write goes to {weight_file})",
                code="OCI353",
            )
    if bio.leaf_weight is not None and bio.leaf_weight != 0:
        if bfq:
            w.ctx.warn(
                bio.at("leafWeight"),
                "blockIO.leafWeight is ignored: leaf weights were a CFQ feature, "
                "removed in Linux 5.0",
                code="OCI352",
            )
        else:
            w.write("blkio", "blkio.leaf_weight", str(bio.leaf_weight), bio.at("leafWeight"))
    for wd in bio.weight_device:
        if wd.weight is not None:
            w.write(
                "blkio", f"{weight_file}_device", f"{wd.major}:{wd.minor} {wd.weight}", wd.pointer
            )
        if wd.leaf_weight is not None and not bfq:
            line = f"{wd.major}:{wd.minor} {wd.leaf_weight}"
            w.write("blkio", "blkio.leaf_weight_device", line, wd.pointer)
    for attr, fname in (
        ("throttle_read_bps_device", "blkio.throttle.read_bps_device"),
        ("throttle_write_bps_device", "blkio.throttle.write_bps_device"),
        ("throttle_read_iops_device", "blkio.throttle.read_iops_device"),
        ("throttle_write_iops_device", "blkio.throttle.write_iops_device"),
    ):
        for td in getattr(bio, attr):
            w.write("blkio", fname, f"{td.major}:{td.minor} {td.rate}", td.pointer)


def write_devices(w: Writer, res: Resources | None) -> None:
    """devices.deny/devices.allow lines that take a fresh (allow-all) cgroup to the rules."""
    state = device_state(res)
    reset_file = "devices.allow" if state.default_allow else "devices.deny"
    w.write("devices", reset_file, "a *:* rwm", state.reset_source)
    exc_file = "devices.deny" if state.default_allow else "devices.allow"
    exc: DeviceException
    for exc in state.in_rule_order():
        w.write("devices", exc_file, exc.cgroup_string(), exc.source)


def all_dirs(w: Writer) -> list[str]:
    return paths.v1_dirs(w.host, w.cgroup_path)
