"""Named constants for seccomp policies: errno names and the flag values rules test.

Values are those of the asm-generic headers, which x86_64, x86, x32, aarch64,
arm and riscv64 share (mips, alpha, sparc and parisc number errnos differently;
policies for them should use numbers). Policies name constants instead of
magic numbers so a reader can check them against man pages.
"""

from __future__ import annotations

from ocitool.kernel.constants import CLONE as KERNEL_CLONE

# fmt: off
# asm-generic/errno-base.h + asm-generic/errno.h (aliases EWOULDBLOCK, EDEADLOCK added below).
ERRNO: dict[str, int] = {
    "EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7,
    "ENOEXEC": 8, "EBADF": 9, "ECHILD": 10, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13,
    "EFAULT": 14, "ENOTBLK": 15, "EBUSY": 16, "EEXIST": 17, "EXDEV": 18, "ENODEV": 19,
    "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENFILE": 23, "EMFILE": 24, "ENOTTY": 25,
    "ETXTBSY": 26, "EFBIG": 27, "ENOSPC": 28, "ESPIPE": 29, "EROFS": 30, "EMLINK": 31,
    "EPIPE": 32, "EDOM": 33, "ERANGE": 34, "EDEADLK": 35, "ENAMETOOLONG": 36, "ENOLCK": 37,
    "ENOSYS": 38, "ENOTEMPTY": 39, "ELOOP": 40, "ENOMSG": 42, "EIDRM": 43, "ECHRNG": 44,
    "EL2NSYNC": 45, "EL3HLT": 46, "EL3RST": 47, "ELNRNG": 48, "EUNATCH": 49, "ENOCSI": 50,
    "EL2HLT": 51, "EBADE": 52, "EBADR": 53, "EXFULL": 54, "ENOANO": 55, "EBADRQC": 56,
    "EBADSLT": 57, "EBFONT": 59, "ENOSTR": 60, "ENODATA": 61, "ETIME": 62, "ENOSR": 63,
    "ENONET": 64, "ENOPKG": 65, "EREMOTE": 66, "ENOLINK": 67, "EADV": 68, "ESRMNT": 69,
    "ECOMM": 70, "EPROTO": 71, "EMULTIHOP": 72, "EDOTDOT": 73, "EBADMSG": 74, "EOVERFLOW": 75,
    "ENOTUNIQ": 76, "EBADFD": 77, "EREMCHG": 78, "ELIBACC": 79, "ELIBBAD": 80, "ELIBSCN": 81,
    "ELIBMAX": 82, "ELIBEXEC": 83, "EILSEQ": 84, "ERESTART": 85, "ESTRPIPE": 86, "EUSERS": 87,
    "ENOTSOCK": 88, "EDESTADDRREQ": 89, "EMSGSIZE": 90, "EPROTOTYPE": 91, "ENOPROTOOPT": 92,
    "EPROTONOSUPPORT": 93, "ESOCKTNOSUPPORT": 94, "EOPNOTSUPP": 95, "EPFNOSUPPORT": 96,
    "EAFNOSUPPORT": 97, "EADDRINUSE": 98, "EADDRNOTAVAIL": 99, "ENETDOWN": 100,
    "ENETUNREACH": 101, "ENETRESET": 102, "ECONNABORTED": 103, "ECONNRESET": 104,
    "ENOBUFS": 105, "EISCONN": 106, "ENOTCONN": 107, "ESHUTDOWN": 108, "ETOOMANYREFS": 109,
    "ETIMEDOUT": 110, "ECONNREFUSED": 111, "EHOSTDOWN": 112, "EHOSTUNREACH": 113,
    "EALREADY": 114, "EINPROGRESS": 115, "ESTALE": 116, "EUCLEAN": 117, "ENOTNAM": 118,
    "ENAVAIL": 119, "EISNAM": 120, "EREMOTEIO": 121, "EDQUOT": 122, "ENOMEDIUM": 123,
    "EMEDIUMTYPE": 124, "ECANCELED": 125, "ENOKEY": 126, "EKEYEXPIRED": 127,
    "EKEYREVOKED": 128, "EKEYREJECTED": 129, "EOWNERDEAD": 130, "ENOTRECOVERABLE": 131,
    "ERFKILL": 132, "EHWPOISON": 133,
}
ERRNO["EWOULDBLOCK"] = ERRNO["EAGAIN"]
ERRNO["EDEADLOCK"] = ERRNO["EDEADLK"]
ERRNO["ENOTSUP"] = ERRNO["EOPNOTSUPP"]

_ERRNO_ALIASES = frozenset({"EWOULDBLOCK", "EDEADLOCK", "ENOTSUP"})

#: number -> canonical name (aliases are not chosen as the canonical name)
ERRNO_NAME: dict[int, str] = {v: k for k, v in ERRNO.items() if k not in _ERRNO_ALIASES}

# linux/socket.h address families (socket(2) arg0).
AF: dict[str, int] = {
    "AF_UNSPEC": 0, "AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_AX25": 3, "AF_IPX": 4,
    "AF_APPLETALK": 5, "AF_NETROM": 6, "AF_BRIDGE": 7, "AF_ATMPVC": 8, "AF_X25": 9,
    "AF_INET6": 10, "AF_ROSE": 11, "AF_DECnet": 12, "AF_NETBEUI": 13, "AF_SECURITY": 14,
    "AF_KEY": 15, "AF_NETLINK": 16, "AF_ROUTE": 16, "AF_PACKET": 17, "AF_ASH": 18,
    "AF_ECONET": 19, "AF_ATMSVC": 20, "AF_RDS": 21, "AF_SNA": 22, "AF_IRDA": 23,
    "AF_PPPOX": 24, "AF_WANPIPE": 25, "AF_LLC": 26, "AF_IB": 27, "AF_MPLS": 28, "AF_CAN": 29,
    "AF_TIPC": 30, "AF_BLUETOOTH": 31, "AF_IUCV": 32, "AF_RXRPC": 33, "AF_ISDN": 34,
    "AF_PHONET": 35, "AF_IEEE802154": 36, "AF_CAIF": 37, "AF_ALG": 38, "AF_NFC": 39,
    "AF_VSOCK": 40, "AF_KCM": 41, "AF_QIPCRTR": 42, "AF_SMC": 43, "AF_XDP": 44, "AF_MCTP": 45,
    "AF_MAX": 46,
}

# socket(2) arg1 types and flags (x86_64/generic values; mips differs).
SOCK: dict[str, int] = {
    "SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_RAW": 3, "SOCK_RDM": 4, "SOCK_SEQPACKET": 5,
    "SOCK_DCCP": 6, "SOCK_PACKET": 10, "SOCK_NONBLOCK": 0o4000, "SOCK_CLOEXEC": 0o2000000,
}

# linux/netlink.h protocols (socket(AF_NETLINK, type, protocol) arg2).
NETLINK: dict[str, int] = {
    "NETLINK_ROUTE": 0, "NETLINK_UNUSED": 1, "NETLINK_USERSOCK": 2, "NETLINK_FIREWALL": 3,
    "NETLINK_SOCK_DIAG": 4, "NETLINK_NFLOG": 5, "NETLINK_XFRM": 6, "NETLINK_SELINUX": 7,
    "NETLINK_ISCSI": 8, "NETLINK_AUDIT": 9, "NETLINK_FIB_LOOKUP": 10, "NETLINK_CONNECTOR": 11,
    "NETLINK_NETFILTER": 12, "NETLINK_IP6_FW": 13, "NETLINK_DNRTMSG": 14,
    "NETLINK_KOBJECT_UEVENT": 15, "NETLINK_GENERIC": 16, "NETLINK_SCSITRANSPORT": 18,
    "NETLINK_ECRYPTFS": 19, "NETLINK_RDMA": 20, "NETLINK_CRYPTO": 21, "NETLINK_SMC": 22,
}

# asm-generic/mman-common.h protections (mmap/mprotect arg2).
PROT: dict[str, int] = {
    "PROT_NONE": 0x0, "PROT_READ": 0x1, "PROT_WRITE": 0x2, "PROT_EXEC": 0x4, "PROT_SEM": 0x8,
    "PROT_GROWSDOWN": 0x01000000, "PROT_GROWSUP": 0x02000000,
}

# linux/personality.h flags and personality types (personality(2) arg0).
_STICKY, _MMAP0, _SHORT, _WHOLE = 0x4000000, 0x0100000, 0x1000000, 0x2000000
PERSONALITY: dict[str, int] = {
    "UNAME26": 0x0020000, "ADDR_NO_RANDOMIZE": 0x0040000, "FDPIC_FUNCPTRS": 0x0080000,
    "MMAP_PAGE_ZERO": _MMAP0, "ADDR_COMPAT_LAYOUT": 0x0200000, "READ_IMPLIES_EXEC": 0x0400000,
    "ADDR_LIMIT_32BIT": 0x0800000, "SHORT_INODE": _SHORT, "WHOLE_SECONDS": _WHOLE,
    "STICKY_TIMEOUTS": _STICKY, "ADDR_LIMIT_3GB": 0x8000000,
    "PER_LINUX": 0x0000, "PER_LINUX_32BIT": 0x0800000, "PER_LINUX_FDPIC": 0x0080000,
    "PER_SVR4": 0x0001 | _STICKY | _MMAP0, "PER_SVR3": 0x0002 | _STICKY | _SHORT,
    "PER_SCOSVR3": 0x0003 | _STICKY | _WHOLE | _SHORT, "PER_OSR5": 0x0003 | _STICKY | _WHOLE,
    "PER_WYSEV386": 0x0004 | _STICKY | _SHORT, "PER_ISCR4": 0x0005 | _STICKY,
    "PER_BSD": 0x0006, "PER_SUNOS": 0x0006 | _STICKY, "PER_XENIX": 0x0007 | _STICKY | _SHORT,
    "PER_LINUX32": 0x0008, "PER_LINUX32_3GB": 0x0008 | 0x8000000,
    "PER_IRIX32": 0x0009 | _STICKY, "PER_IRIXN32": 0x000A | _STICKY,
    "PER_IRIX64": 0x000B | _STICKY, "PER_RISCOS": 0x000C, "PER_SOLARIS": 0x000D | _STICKY,
    "PER_UW7": 0x000E | _STICKY | _MMAP0, "PER_OSF4": 0x000F, "PER_HPUX": 0x0010,
    "PER_MASK": 0x00FF,
    # ocitool's name for personality(0xffffffff), which only queries the persona.
    "PER_QUERY": 0xFFFFFFFF,
}
# fmt: on

# linux/sched.h clone flags (clone(2) arg0 on most arches, arg1 on s390; unshare(2) arg0),
# generated from the kernel headers (ocitool.kernel.constants).
CLONE: dict[str, int] = KERNEL_CLONE

# Every name a policy may use as a value, by family (families never share a name).
FAMILIES: dict[str, dict[str, int]] = {
    "errno": ERRNO,
    "address family": AF,
    "socket type": SOCK,
    "netlink protocol": NETLINK,
    "clone flag": CLONE,
    "protection": PROT,
    "personality": PERSONALITY,
}

CONSTANTS: dict[str, int] = {}
for _table in FAMILIES.values():
    CONSTANTS.update(_table)


def errno_number(name: str) -> int | None:
    """``EPERM`` -> 1; None if the name is not a known errno."""
    return ERRNO.get(name)


def errno_name(number: int) -> str | None:
    """1 -> ``EPERM``; None if the number has no name."""
    return ERRNO_NAME.get(number)


def constant(name: str) -> int | None:
    """Value of any named constant (errno, AF_*, SOCK_*, NETLINK_*, CLONE_*, PROT_*, PER_*)."""
    return CONSTANTS.get(name)


def family_of(name: str) -> str | None:
    """Which family a constant belongs to (for messages), or None."""
    for family, table in FAMILIES.items():
        if name in table:
            return family
    return None
