"""Device rules: device nodes created in the container and the devices cgroup."""

from __future__ import annotations

from collections.abc import Iterator

from ocitool.lint.context import LintContext, as_dict, as_list
from ocitool.lint.registry import Hit, rule

# char 1:1 /dev/mem, 1:2 /dev/kmem, 1:4 /dev/port
_KERNEL_MEMORY = {(1, 1): "/dev/mem", (1, 2): "/dev/kmem", (1, 4): "/dev/port"}


@rule(
    "OCS240",
    "devices-allow-all",
    "error",
    fix="deny all devices first and allow only the specific major:minor pairs needed",
)
def devices_allow_all(ctx: LintContext) -> Iterator[Hit]:
    """A devices cgroup rule allows access to every device.

    With the device controller open, container root can create and open any
    device node: raw disks, /dev/mem, the host's terminals. It is one half
    of what "privileged" means.
    """
    for i, entry in enumerate(as_list(ctx.resources.get("devices"))):
        entry = as_dict(entry)
        if entry.get("allow") is not True:
            continue
        kind = entry.get("type", "a")
        major, minor = entry.get("major", -1), entry.get("minor", -1)
        if kind in ("a", None) and major in (-1, None) and minor in (-1, None):
            yield Hit(f"/linux/resources/devices/{i}", "devices cgroup allows all devices")


@rule(
    "OCS241",
    "block-device-node",
    "warning",
    fix="give the container a filesystem (bind mount or volume) instead of the block device",
)
def block_device(ctx: LintContext) -> Iterator[Hit]:
    """A block device node is created in the container.

    Raw access to a block device bypasses every file permission on it and,
    for a device holding a mounted filesystem, can corrupt or read the host's
    data.
    """
    for i, dev in enumerate(as_list(ctx.linux.get("devices"))):
        dev = as_dict(dev)
        if dev.get("type") == "b":
            yield Hit(f"/linux/devices/{i}", f"block device {dev.get('path')} in the container")


@rule(
    "OCS242",
    "kernel-memory-device",
    "error",
    fix="remove /dev/mem, /dev/kmem and /dev/port from linux.devices",
)
def kernel_memory_device(ctx: LintContext) -> Iterator[Hit]:
    """/dev/mem, /dev/kmem or /dev/port is created in the container.

    These give direct access to physical memory, kernel memory and I/O ports:
    reading secrets or patching the running kernel.
    """
    for i, dev in enumerate(as_list(ctx.linux.get("devices"))):
        dev = as_dict(dev)
        path = dev.get("path")
        key = (dev.get("major"), dev.get("minor"))
        if path in _KERNEL_MEMORY.values() or (
            dev.get("type") in ("c", "u") and key in _KERNEL_MEMORY
        ):
            yield Hit(f"/linux/devices/{i}", f"{path} gives access to kernel memory or I/O ports")
