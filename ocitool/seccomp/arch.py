"""Architecture names and facts the compiler needs (AUDIT_ARCH, word order, x32 bit).

OCI profiles name arches the libseccomp way (``SCMP_ARCH_X86_64``); we use short names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from ocitool.errors import SeccompError
from ocitool.seccomp.tables import AUDIT_ARCH, SCMP_ARCH_TOKEN

X32_SYSCALL_BIT = 0x40000000

OCI_ARCH_NAMES: dict[str, str] = {
    "SCMP_ARCH_X86_64": "x86_64",
    "SCMP_ARCH_X86": "x86",
    "SCMP_ARCH_X32": "x32",
    "SCMP_ARCH_AARCH64": "aarch64",
    "SCMP_ARCH_ARM": "arm",
    "SCMP_ARCH_RISCV64": "riscv64",
    "SCMP_ARCH_PPC64LE": "ppc64le",
    "SCMP_ARCH_S390X": "s390x",
    "SCMP_ARCH_MIPS64": "mips64",
    "SCMP_ARCH_MIPSEL": "mipsel",
}
SHORT_TO_OCI = {v: k for k, v in OCI_ARCH_NAMES.items()}

# uname -m / Go GOARCH spellings that people pass for --arch
_ALIASES = {
    "amd64": "x86_64",
    "i386": "x86",
    "i686": "x86",
    "386": "x86",
    "arm64": "aarch64",
    "armv7l": "arm",
    "armhf": "arm",
    "ppc64el": "ppc64le",
    "mips64el": "mips64",  # not exact, but the closest arch we have tables for
}

# 32-bit ABIs: libseccomp compares only the low 32 bits of an argument there
_ARG32 = {"x86", "arm", "mipsel", "x32"}
_BIG_ENDIAN = {"s390x", "mips64"}


@dataclass(frozen=True)
class ArchInfo:
    name: str
    audit_arch: int
    scmp_token: int
    big_endian: bool
    arg_bits: int  # 32 or 64: how wide a comparison on this ABI is

    @property
    def oci_name(self) -> str:
        return SHORT_TO_OCI[self.name]


def normalize_arch(name: str) -> str:
    """``SCMP_ARCH_X86_64`` / ``amd64`` / ``x86_64`` -> ``x86_64``; SeccompError if unknown."""
    if name in AUDIT_ARCH:
        return name
    if name in OCI_ARCH_NAMES:
        return OCI_ARCH_NAMES[name]
    if name.lower() in _ALIASES:
        return _ALIASES[name.lower()]
    raise SeccompError(
        f"unsupported seccomp architecture {name!r}",
        code="OCI402",
        expected="one of " + ", ".join(sorted(OCI_ARCH_NAMES)),
        hint="ocitool has syscall tables for " + ", ".join(AUDIT_ARCH),
    )


@cache
def arch_info(name: str) -> ArchInfo:
    short = normalize_arch(name)
    return ArchInfo(
        name=short,
        audit_arch=AUDIT_ARCH[short],
        scmp_token=SCMP_ARCH_TOKEN[short],
        big_endian=short in _BIG_ENDIAN,
        arg_bits=32 if short in _ARG32 else 64,
    )


def host_arch() -> str:
    """The running machine's arch (the default target, like libseccomp's native arch)."""
    return normalize_arch(os.uname().machine)  # what platform.machine() reads, unimported
