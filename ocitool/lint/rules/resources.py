"""Cgroup resource rules: values the kernel rejects, contradictions, and missing limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ocitool.lint.context import LintContext, as_dict
from ocitool.lint.registry import Hit, rule

_CPUSET_RE = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@rule(
    "OCR103",
    "cpu-quota-too-small",
    "error",
    fix="use a quota of at least 1000 (1 ms), or -1 for none",
)
def cpu_quota_too_small(ctx: LintContext) -> Iterator[Hit]:
    """cpu.quota is positive but below 1 ms.

    The kernel rejects CFS quotas below 1000 microseconds with EINVAL, so
    the cgroup write (and container creation) fails.
    """
    quota = _int(as_dict(ctx.resources.get("cpu")).get("quota"))
    if quota is not None and 0 < quota < 1000:
        yield Hit("/linux/resources/cpu/quota", f"cpu quota {quota}us is below the 1000us minimum")


@rule(
    "OCR104",
    "cpu-period-out-of-range",
    "error",
    fix="use a period from 1000 to 1000000 microseconds",
)
def cpu_period_range(ctx: LintContext) -> Iterator[Hit]:
    """cpu.period is outside 1 ms .. 1 s.

    The kernel accepts CFS periods from 1000 to 1000000 microseconds only.
    """
    period = _int(as_dict(ctx.resources.get("cpu")).get("period"))
    if period and not 1000 <= period <= 1_000_000:
        yield Hit("/linux/resources/cpu/period", f"cpu period {period}us is outside 1000..1000000")


@rule(
    "OCR105",
    "swap-below-memory",
    "error",
    fix="set memory.swap (memory + swap) to at least memory.limit, or -1 for unlimited",
)
def swap_below_memory(ctx: LintContext) -> Iterator[Hit]:
    """memory.swap is below memory.limit.

    In the runtime-spec memory.swap is the memory+swap limit; a value below
    the memory limit is rejected by the kernel (v1) or by the runtime (v2).
    """
    # Lowering's own rule, on the typed spec: lint and lowering cannot disagree.
    from ocitool.lower.cgroups.convert import swap_below_limit

    linux = ctx.spec.linux if ctx.spec is not None else None
    mem = linux.resources.memory if linux is not None and linux.resources is not None else None
    problem = swap_below_limit(mem.swap, mem.limit) if mem is not None else None
    if mem is not None and problem:
        yield Hit(mem.at("swap"), problem)


@rule(
    "OCR106",
    "cpu-shares-out-of-range",
    "warning",
    fix="use shares from 2 to 262144 (1024 is the default weight)",
)
def cpu_shares_range(ctx: LintContext) -> Iterator[Hit]:
    """cpu.shares is 0 or outside 2..262144.

    Runtimes treat 0 as "not set" and the kernel clamps other values into
    2..262144, so the configured weight is not the one applied.
    """
    if "shares" not in as_dict(ctx.resources.get("cpu")):
        return
    shares = _int(ctx.resources["cpu"]["shares"])
    if shares is not None and not 2 <= shares <= 262144:
        yield Hit("/linux/resources/cpu/shares", f"cpu shares {shares} is outside 2..262144")


@rule(
    "OCR125",
    "memory-reservation-above-limit",
    "warning",
    fix="set memory.reservation below memory.limit",
)
def reservation_above_limit(ctx: LintContext) -> Iterator[Hit]:
    """memory.reservation (soft limit) is above memory.limit.

    A soft limit above the hard limit never takes effect; the author
    probably swapped the two values.
    """
    mem = as_dict(ctx.resources.get("memory"))
    limit, res = _int(mem.get("limit")), _int(mem.get("reservation"))
    if limit and res and limit > 0 and res > limit:
        yield Hit("/linux/resources/memory/reservation", f"reservation {res} > limit {limit}")


@rule("OCR126", "blkio-weight-out-of-range", "error", fix="use a weight from 10 to 1000")
def blkio_weight_range(ctx: LintContext) -> Iterator[Hit]:
    """blockIO.weight is outside 10..1000.

    The block I/O controller rejects weights outside 10..1000.
    """
    blkio = as_dict(ctx.resources.get("blockIO"))
    weight = _int(blkio.get("weight"))
    if weight is not None and weight != 0 and not 10 <= weight <= 1000:
        yield Hit("/linux/resources/blockIO/weight", f"blkio weight {weight} is outside 10..1000")


@rule("OCR127", "cpuset-syntax", "error", fix='write CPU and memory node lists like "0-3,6"')
def cpuset_syntax(ctx: LintContext) -> Iterator[Hit]:
    """cpu.cpus or cpu.mems is not a valid list.

    cpuset files accept comma-separated numbers and ranges only; anything else
    fails with EINVAL at cgroup write time.
    """
    cpu = as_dict(ctx.resources.get("cpu"))
    for key in ("cpus", "mems"):
        value = cpu.get(key)
        if isinstance(value, str) and value.strip():
            ok = _CPUSET_RE.match(value.replace(" ", ""))
            ranges_ok = ok and all(
                int(a) <= int(b)
                for a, _, b in (r.partition("-") for r in value.split(",") if "-" in r)
            )
            if not ranges_ok:
                yield Hit(f"/linux/resources/cpu/{key}", f"{key} {value!r} is not a valid list")


@rule("OCS254", "no-pids-limit", "warning", fix="set linux.resources.pids.limit (e.g. 1024)")
def no_pids_limit(ctx: LintContext) -> Iterator[Hit]:
    """There is no limit on the number of processes.

    Without a pids limit a fork bomb in the container exhausts the host's
    process table and takes every other workload down with it.
    """
    if not ctx.process or not ctx.linux:
        return
    limit = _int(as_dict(ctx.resources.get("pids")).get("limit"))
    if limit is None or limit <= 0:
        yield Hit("/linux/resources", "no pids limit: a fork bomb can exhaust the host")


@rule("OCS255", "no-memory-limit", "info", fix="set linux.resources.memory.limit")
def no_memory_limit(ctx: LintContext) -> Iterator[Hit]:
    """There is no memory limit.

    Without one, the container can push the host into global memory pressure
    and the OOM killer may pick a process outside the container.
    """
    if not ctx.process or not ctx.linux:
        return
    limit = _int(as_dict(ctx.resources.get("memory")).get("limit"))
    if limit is None or limit <= 0:
        yield Hit("/linux/resources", "no memory limit")
