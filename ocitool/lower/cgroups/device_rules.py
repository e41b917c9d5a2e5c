"""The device access rules a container's cgroup gets: the config's, then runc's defaults.

runc appends a fixed list of allow rules after the config's
``linux.resources.devices`` (its ``specconv.AllowedDevices``), so the
default device nodes every container gets (/dev/null, /dev/zero, ...,
/dev/pts/*) are usable even after a leading deny-all; being last, they win.
We do the same so configs behave as under runc (podman and containerd
rely on it). The list also allows ``mknod`` of any device and /dev/net/tun,
two runc compatibility choices documented in docs/mounts-and-cgroups.md.
"""

from __future__ import annotations

from ocitool.errors import LoweringError
from ocitool.lower.cgroups.ebpf import DeviceRule, DeviceRuleError, DeviceState, emulate
from ocitool.spec.model import Resources

WILD = -1

DEFAULT_ALLOWED: tuple[DeviceRule, ...] = (
    DeviceRule(allow=True, type="c", major=WILD, minor=WILD, access="m"),
    DeviceRule(allow=True, type="b", major=WILD, minor=WILD, access="m"),
    DeviceRule(allow=True, type="c", major=1, minor=3, access="rwm"),  # /dev/null
    DeviceRule(allow=True, type="c", major=1, minor=8, access="rwm"),  # /dev/random
    DeviceRule(allow=True, type="c", major=1, minor=7, access="rwm"),  # /dev/full
    DeviceRule(allow=True, type="c", major=5, minor=0, access="rwm"),  # /dev/tty
    DeviceRule(allow=True, type="c", major=1, minor=5, access="rwm"),  # /dev/zero
    DeviceRule(allow=True, type="c", major=1, minor=9, access="rwm"),  # /dev/urandom
    DeviceRule(allow=True, type="c", major=136, minor=WILD, access="rwm"),  # /dev/pts/*
    DeviceRule(allow=True, type="c", major=5, minor=2, access="rwm"),  # /dev/ptmx
    DeviceRule(allow=True, type="c", major=10, minor=200, access="rwm"),  # /dev/net/tun
)


def config_rules(resources: Resources | None) -> list[DeviceRule]:
    """The config's rules, normalised: no type = ``a``, no number = any, no access = ``rwm``."""
    if resources is None:
        return []
    out = []
    for rule in resources.devices:
        out.append(
            DeviceRule(
                allow=rule.allow,
                type=rule.type or "a",
                major=WILD if rule.major is None else rule.major,
                minor=WILD if rule.minor is None else rule.minor,
                access=rule.access if rule.access is not None else "rwm",
                source=rule.pointer,
            )
        )
    return out


def device_state(resources: Resources | None) -> DeviceState:
    """Apply config rules then the defaults; an inexpressible rule is a LoweringError."""
    rules = config_rules(resources) + list(DEFAULT_ALLOWED)
    try:
        return emulate(rules)
    except DeviceRuleError as err:
        pointer = ""
        if err.index is not None and err.index < len(rules):
            pointer = rules[err.index].source or ""
        raise LoweringError(
            message=f"device rule: {err}",
            code="OCI321",
            pointer=pointer or None,
            hint="order rules from general to specific, or deny the wide rule and allow "
            "the devices you need one by one",
        ) from None
