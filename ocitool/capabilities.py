"""Linux capability names and numbers (include/uapi/linux/capability.h)."""

from __future__ import annotations

CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN",  # 0
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",  # 5
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",  # 10
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",  # 15
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",  # 20
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",  # 25
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",  # 30
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",  # 35
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",  # 40
)

CAP_NUMBER: dict[str, int] = {name: i for i, name in enumerate(CAPABILITIES)}
LAST_KNOWN_CAP = len(CAPABILITIES) - 1


def cap_number(name: str) -> int | None:
    """Number of a capability given as ``CAP_X``, ``cap_x`` or ``x``; None when unknown."""
    upper = name.strip().upper()
    if not upper.startswith("CAP_"):
        upper = "CAP_" + upper
    return CAP_NUMBER.get(upper)


def cap_name(number: int) -> str:
    """Name of capability ``number`` (``CAP_<n>`` for numbers newer than this table)."""
    if 0 <= number < len(CAPABILITIES):
        return CAPABILITIES[number]
    return f"CAP_{number}"


def names_to_mask(names: list[str] | tuple[str, ...]) -> int:
    """Bitmap of the given known capability names (unknown names raise KeyError)."""
    mask = 0
    for name in names:
        number = cap_number(name)
        if number is None:
            raise KeyError(name)
        mask |= 1 << number
    return mask


def mask_to_names(mask: int) -> list[str]:
    """Names of the bits set in ``mask``, lowest first."""
    return [cap_name(i) for i in range(mask.bit_length()) if mask >> i & 1]
