"""Capabilities: the five named sets -> five bitmaps, checked against the host.

A name the table does not know, or one whose number is above the host's last
capability (/proc/sys/kernel/cap_last_cap), is an error at its pointer: the
kernel would refuse the set. Ambient caps must also be permitted and
inheritable (capabilities(7)); runc drops those that are not, with a warning,
and so do we. An effective set beyond permitted makes capset(2) fail, so that
is an error too.
"""

from __future__ import annotations

from ocitool.capabilities import cap_name, cap_number
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.security import SetCapabilities
from ocitool.spec.model import Capabilities, Spec

SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")


def _mask(caps: Capabilities, which: str, host: HostInfo, ctx: LowerContext) -> int:
    names: tuple[str, ...] | None = getattr(caps, which)
    mask = 0
    for i, name in enumerate(names or ()):
        pointer = caps.at(which, i)
        number = cap_number(name)
        if number is None or not name.upper().startswith("CAP_"):
            raise ctx.error(
                pointer,
                f"unknown capability {name!r} in {which}",
                code="OCI340",
                hint="names are CAP_ followed by the kernel name, e.g. CAP_NET_BIND_SERVICE",
            )
        if number > host.last_cap:
            raise ctx.error(
                pointer,
                f"{name} (number {number}) is not supported by this host "
                f"(last capability is {host.last_cap}, {cap_name(host.last_cap)})",
                code="OCI341",
                hint="drop it, or plan for a newer kernel (--host last_cap=N)",
            )
        mask |= 1 << number
    return mask


def lower_capabilities(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    proc = spec.process
    if proc is None:
        return []
    caps = proc.capabilities
    if caps is None:
        return [
            SetCapabilities(
                phase=Phase.EXEC,
                source=None,
                bounding=0,
                effective=0,
                permitted=0,
                inheritable=0,
                ambient=0,
            )
        ]
    masks = {which: _mask(caps, which, host, ctx) for which in SETS}
    extra = masks["effective"] & ~masks["permitted"]
    if extra:
        names = ", ".join(cap_name(n) for n in range(extra.bit_length()) if extra >> n & 1)
        raise ctx.error(
            caps.at("effective"),
            f"effective capabilities not in permitted: {names}",
            code="OCI342",
            hint="capset(2) fails with EPERM: every effective cap must be permitted",
        )
    allowed = masks["permitted"] & masks["inheritable"]
    dropped = masks["ambient"] & ~allowed
    if dropped:
        names = ", ".join(cap_name(n) for n in range(dropped.bit_length()) if dropped >> n & 1)
        ctx.warn(
            caps.at("ambient"),
            f"ambient capabilities {names} are not both permitted and inheritable; the "
            "kernel refuses to raise them, so they are dropped (runc does the same)",
            code="OCI377",
            hint="add them to permitted and inheritable, or remove them from ambient",
        )
        masks["ambient"] &= allowed
    return [SetCapabilities(phase=Phase.EXEC, source=caps.pointer, **masks)]
