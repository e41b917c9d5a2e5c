"""Shared by the check tests: a minimal ELF with PT_INTERP."""

from __future__ import annotations

import struct
from pathlib import Path


def elf_with_interp(path: Path, interp: str) -> None:
    """A minimal 64-bit little-endian ELF with one PT_INTERP program header."""
    name = interp.encode() + b"\0"
    phoff, phentsize = 64, 56
    data_off = phoff + phentsize
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, phoff, 0, 0, 64, phentsize, 1, 0, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 3, 4, data_off, 0, 0, len(name), len(name), 1)
    path.write_bytes(header + ph + name)
    path.chmod(0o755)
