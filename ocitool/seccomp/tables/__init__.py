"""Syscall tables per architecture (generated from libseccomp; see tools/gen_syscall_tables.py).

Tables load lazily, one module per arch, so compiling for x86_64 never parses mips tables.
"""

from __future__ import annotations

import importlib
from functools import cache

from ocitool.seccomp.tables._generated_arches import (
    AUDIT_ARCH,
    LIBSECCOMP_VERSION,
    SCMP_ARCH_TOKEN,
)

ARCHES: tuple[str, ...] = tuple(AUDIT_ARCH)

__all__ = [
    "ARCHES",
    "AUDIT_ARCH",
    "LIBSECCOMP_VERSION",
    "SCMP_ARCH_TOKEN",
    "syscall_name",
    "syscall_number",
    "syscalls",
]


@cache
def syscalls(arch: str) -> dict[str, int]:
    """name -> number for ``arch`` (a short name such as ``x86_64``)."""
    if arch not in AUDIT_ARCH:
        raise KeyError(arch)
    mod = importlib.import_module(f"ocitool.seccomp.tables._generated_{arch}")
    table: dict[str, int] = mod.SYSCALLS
    return table


@cache
def _names(arch: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for name, nr in syscalls(arch).items():
        out.setdefault(nr, name)
    return out


def syscall_number(arch: str, name: str) -> int | None:
    return syscalls(arch).get(name)


def syscall_name(arch: str, nr: int) -> str | None:
    return _names(arch).get(nr)
