"""A container's resource statistics in ``runc events`` shape (runc's types/events.go).

Read from the container's cgroup files: cgroup v1 (one directory per hierarchy,
the files of cgroup-v1/*.rst) or v2 (one directory, cgroup-v2.rst). Only reads;
nothing is written. Go's ``omitempty`` is followed: a zero number or an empty
list is left out where runc leaves it out, so the JSON compares field by field.
"""

from __future__ import annotations

import os

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

CGROUP_ROOT = "/sys/fs/cgroup"
USER_HZ = 100  # cpuacct.stat counts in USER_HZ ticks (always 100 on Linux's ABI)
V1_NO_LIMIT = 0x7FFFFFFFFFFFF000  # what v1 shows for "no limit" (PAGE_COUNTER_MAX pages)
V2_NO_LIMIT = 2**64 - 1  # runc's math.MaxUint64 for "max"


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _int(path: str, default: int = 0) -> int:
    text = _read(path)
    if text is None:
        return default
    text = text.strip()
    if text == "max":
        return V2_NO_LIMIT
    try:
        return int(text)
    except ValueError:
        return default


def _keyed(path: str) -> dict[str, int]:
    """A flat keyed file ("name value" per line: memory.stat, cpu.stat, memory.events)."""
    out: dict[str, int] = {}
    for line in (_read(path) or "").splitlines():
        key, _, value = line.partition(" ")
        try:
            out[key] = int(value)
        except ValueError:
            continue
    return out


def _list(text: str | None) -> list[int]:
    """A cpu/node list ("0-3,8") as numbers."""
    out: list[int] = []
    for part in (text or "").strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def _nonzero(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v}


def _memory_entry(limit: int, usage: int, peak: int, failcnt: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"limit": limit}
    entry.update(_nonzero({"usage": usage, "max": peak}))
    entry["failcnt"] = failcnt
    return entry


def _psi(path: str) -> dict[str, Any] | None:
    """cpu/memory/io.pressure: {some: {avg10, avg60, avg300, total}, full: {...}}."""
    text = _read(path)
    if text is None:
        return None
    out: dict[str, Any] = {}
    for line in text.splitlines():
        kind, *fields = line.split()
        values: dict[str, Any] = {}
        for field in fields:
            key, _, value = field.partition("=")
            values[key] = int(value) if key == "total" else float(value)
        out[kind] = values
    return out


def hierarchies(dirs: list[str]) -> dict[str, str]:
    """v1: controller name -> the container's directory in that hierarchy."""
    out: dict[str, str] = {}
    for d in dirs:
        rel = d[len(CGROUP_ROOT) + 1 :] if d.startswith(CGROUP_ROOT + "/") else ""
        for name in rel.split("/", 1)[0].split(","):
            out.setdefault(name, d)
    return out


def is_v2(dirs: list[str]) -> bool:
    return len(dirs) == 1 and os.path.exists(os.path.join(dirs[0], "cgroup.controllers"))


def stats(dirs: list[str]) -> dict[str, Any]:
    """The ``data`` of a ``stats`` event for the cgroup directories of one container."""
    data = _stats_v2(dirs[0]) if is_v2(dirs) else _stats_v1(hierarchies(dirs))
    data["intel_rdt"] = {}
    data["network_interfaces"] = None
    return data


# ----------------------------------------------------------------------- cgroup v1
def _stats_v1(h: dict[str, str]) -> dict[str, Any]:
    return {
        "cpu": _cpu_v1(h.get("cpuacct"), h.get("cpu")),
        "cpuset": _cpuset_v1(h.get("cpuset")),
        "memory": _memory_v1(h.get("memory")),
        "pids": _pids(h.get("pids")),
        "blkio": _blkio_v1(h.get("blkio")),
        "hugetlb": _hugetlb(h.get("hugetlb"), v2=False),
    }


def _cpu_v1(acct: str | None, cpu: str | None) -> dict[str, Any]:
    usage: dict[str, Any] = {}
    if acct:
        j = lambda name: os.path.join(acct, name)  # noqa: E731
        ticks = _keyed(j("cpuacct.stat"))
        usage = _nonzero(
            {
                "total": _int(j("cpuacct.usage")),
                "percpu": _list_ints(j("cpuacct.usage_percpu")),
                "percpu_kernel": _list_ints(j("cpuacct.usage_percpu_sys")),
                "percpu_user": _list_ints(j("cpuacct.usage_percpu_user")),
            }
        )
        usage["kernel"] = ticks.get("system", 0) * (10**9 // USER_HZ)
        usage["user"] = ticks.get("user", 0) * (10**9 // USER_HZ)
    throttling: dict[str, Any] = {}
    if cpu:
        st = _keyed(os.path.join(cpu, "cpu.stat"))
        throttling = _nonzero(
            {
                "periods": st.get("nr_periods", 0),
                "throttledPeriods": st.get("nr_throttled", 0),
                "throttledTime": st.get("throttled_time", 0),
            }
        )
    out: dict[str, Any] = {}
    if usage:
        out["usage"] = usage
    out["throttling"] = throttling
    return out


def _list_ints(path: str) -> list[int]:
    return [int(x) for x in (_read(path) or "").split()]


def _cpuset_v1(d: str | None) -> dict[str, Any]:
    if not d:
        return {}
    j = lambda name: _int(os.path.join(d, f"cpuset.{name}"))  # noqa: E731
    out: dict[str, Any] = _nonzero({"cpus": _list(_read(os.path.join(d, "cpuset.cpus")))})
    out["cpu_exclusive"] = j("cpu_exclusive")
    out.update(_nonzero({"mems": _list(_read(os.path.join(d, "cpuset.mems")))}))
    for name in ("mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page"):
        out[name] = j(name)
    for name in ("memory_spread_slab", "memory_pressure", "sched_load_balance"):
        out[name] = j(name)
    out["sched_relax_domain_level"] = j("sched_relax_domain_level")
    return out


def _memory_v1(d: str | None) -> dict[str, Any]:
    if not d:
        return {}

    def entry(prefix: str) -> dict[str, Any]:
        j = lambda name: _int(os.path.join(d, f"{prefix}.{name}"))  # noqa: E731
        return _memory_entry(
            j("limit_in_bytes"), j("usage_in_bytes"), j("max_usage_in_bytes"), j("failcnt")
        )

    raw = _keyed(os.path.join(d, "memory.stat"))
    out: dict[str, Any] = _nonzero({"cache": raw.get("cache", 0)})
    out["usage"] = entry("memory")
    out["swap"] = entry("memory.memsw")
    out["kernel"] = entry("memory.kmem")
    out["kernelTCP"] = entry("memory.kmem.tcp")
    if raw:
        out["raw"] = raw
    return out


def _blkio_v1(d: str | None) -> dict[str, Any]:
    if not d:
        return {}
    files = {
        "ioServiceBytesRecursive": "io_service_bytes_recursive",
        "ioServicedRecursive": "io_serviced_recursive",
        "ioQueueRecursive": "io_queued_recursive",
        "ioServiceTimeRecursive": "io_service_time_recursive",
        "ioWaitTimeRecursive": "io_wait_time_recursive",
        "ioMergedRecursive": "io_merged_recursive",
        "ioTimeRecursive": "time_recursive",
        "sectorsRecursive": "sectors_recursive",
    }
    out: dict[str, Any] = {}
    cfq = os.path.exists(os.path.join(d, "blkio.io_service_bytes_recursive"))
    for key, name in files.items():
        if not cfq:  # without the CFQ/BFQ files, runc reads the throttle ones (two of them)
            if key not in ("ioServiceBytesRecursive", "ioServicedRecursive"):
                continue
            name = name.removesuffix("_recursive").replace("io_", "throttle.io_") + "_recursive"
        entries = _blkio_entries(_read(os.path.join(d, f"blkio.{name}")))
        if entries:
            out[key] = entries
    return out


def _blkio_entries(text: str | None) -> list[dict[str, Any]]:
    out = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 2 or ":" not in fields[0]:
            continue  # the "Total N" line
        major, _, minor = fields[0].partition(":")
        op = fields[1] if len(fields) == 3 else ""
        value = int(fields[-1])
        out.append(_nonzero({"major": int(major), "minor": int(minor), "op": op, "value": value}))
    return out


def _pids(d: str | None) -> dict[str, Any]:
    if not d:
        return {}
    limit = _int(os.path.join(d, "pids.max"))
    return _nonzero(
        {
            "current": _int(os.path.join(d, "pids.current")),
            "limit": limit if limit != V2_NO_LIMIT else 0,
        }
    )


def _hugetlb(d: str | None, *, v2: bool) -> dict[str, Any]:
    """Per page size ("2MB", "1GB", from /sys/kernel/mm/hugepages)."""
    if not d:
        return {}
    out: dict[str, Any] = {}
    try:
        sizes = sorted(os.listdir("/sys/kernel/mm/hugepages"))
    except OSError:
        return out
    for entry in sizes:
        kb = int(entry.removeprefix("hugepages-").removesuffix("kB"))
        size = next(
            f"{kb >> s}{u}"
            for s, u in ((20, "GB"), (10, "MB"), (0, "KB"))
            if kb >> s and not kb % (1 << s)
        )
        base = os.path.join(d, f"hugetlb.{size}.")
        if v2:
            usage, peak = _int(base + "current"), 0
            failcnt = _keyed(base + "events").get("max", 0)
        else:
            usage, peak = _int(base + "usage_in_bytes"), _int(base + "max_usage_in_bytes")
            failcnt = _int(base + "failcnt")
        row = _nonzero({"usage": usage, "max": peak})
        row["failcnt"] = failcnt
        out[size] = row
    return out


# ----------------------------------------------------------------------- cgroup v2
def _stats_v2(d: str) -> dict[str, Any]:
    j = lambda name: os.path.join(d, name)  # noqa: E731
    st = _keyed(j("cpu.stat"))
    usage = _nonzero({"total": st.get("usage_usec", 0) * 1000})
    usage["kernel"] = st.get("system_usec", 0) * 1000
    usage["user"] = st.get("user_usec", 0) * 1000
    cpu: dict[str, Any] = {
        "usage": usage,
        "throttling": _nonzero(
            {
                "periods": st.get("nr_periods", 0),
                "throttledPeriods": st.get("nr_throttled", 0),
                "throttledTime": st.get("throttled_usec", 0) * 1000,
            }
        ),
    }
    psi = _psi(j("cpu.pressure"))
    if psi:
        cpu["psi"] = psi
    cpuset: dict[str, Any] = _nonzero(
        {
            "cpus": _list(_read(j("cpuset.cpus.effective"))),
            "mems": _list(_read(j("cpuset.mems.effective"))),
        }
    )
    raw = _keyed(j("memory.stat"))
    events = _keyed(j("memory.events"))
    mem_limit, mem_usage = _int(j("memory.max"), V2_NO_LIMIT), _int(j("memory.current"))
    memory: dict[str, Any] = _nonzero({"cache": raw.get("file", 0)})
    memory["usage"] = _memory_entry(
        mem_limit, mem_usage, _int(j("memory.peak")), events.get("max", 0)
    )
    if os.path.exists(j("memory.swap.current")):
        # runc reports swap as memory+swap, the v1 memsw meaning
        swap_limit = _int(j("memory.swap.max"), V2_NO_LIMIT)
        both = V2_NO_LIMIT if V2_NO_LIMIT in (swap_limit, mem_limit) else swap_limit + mem_limit
        memory["swap"] = _memory_entry(both, _int(j("memory.swap.current")) + mem_usage, 0, 0)
    if raw:
        memory["raw"] = raw
    psi = _psi(j("memory.pressure"))
    if psi:
        memory["psi"] = psi
    blkio: dict[str, Any] = {}
    for line in (_read(j("io.stat")) or "").splitlines():
        dev, *fields = line.split()
        major, _, minor = dev.partition(":")
        kv = {k: int(v) for k, _, v in (f.partition("=") for f in fields) if v.isdigit()}
        for key, read, write in (
            ("ioServiceBytesRecursive", "rbytes", "wbytes"),
            ("ioServicedRecursive", "rios", "wios"),
        ):
            for op, name in (("Read", read), ("Write", write)):
                blkio.setdefault(key, []).append(
                    _nonzero(
                        {
                            "major": int(major),
                            "minor": int(minor),
                            "op": op,
                            "value": kv.get(name, 0),
                        }
                    )
                )
    psi = _psi(j("io.pressure"))
    if psi:
        blkio["psi"] = psi
    return {
        "cpu": cpu,
        "cpuset": cpuset,
        "memory": memory,
        "pids": _pids(d),
        "blkio": blkio,
        "hugetlb": _hugetlb(d, v2=True),
    }
