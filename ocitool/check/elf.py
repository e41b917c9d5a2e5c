"""What the kernel needs besides the file itself to execve it: a ``#!`` interpreter or
an ELF program interpreter (PT_INTERP, the dynamic loader).

Only the headers are read: the ELF header, then the program headers, then
the interpreter's path string. A few lines of ``struct`` rather than
pyelftools: importing pyelftools alone costs more than the whole check
budget (bench/README.md, "ocitool check").
"""

from __future__ import annotations

import struct

_PT_INTERP = 3
_MAX_HEAD = 256


def interpreter(path: str) -> tuple[str, str] | None:
    """``("#!", "/bin/sh")`` or ``("PT_INTERP", "/lib64/ld-linux-x86-64.so.2")`` for the
    file at ``path`` (a host path), or None (a static binary, or unreadable)."""
    try:
        with open(path, "rb") as f:
            head = f.read(_MAX_HEAD)
            if head.startswith(b"#!"):
                line = head[2:].split(b"\n", 1)[0].strip()
                word = line.split()[0] if line else b""
                return ("#!", word.decode("utf-8", "surrogateescape")) if word else None
            if head[:4] != b"\x7fELF" or len(head) < 52:
                return None
            return _pt_interp(f, head)
    except OSError:
        return None


def _pt_interp(f: object, head: bytes) -> tuple[str, str] | None:
    is64 = head[4] == 2
    order = "<" if head[5] == 1 else ">"
    if is64:
        if len(head) < 64:
            return None
        phoff, phentsize, phnum = (
            struct.unpack_from(order + "Q", head, 32)[0],
            struct.unpack_from(order + "H", head, 54)[0],
            struct.unpack_from(order + "H", head, 56)[0],
        )
    else:
        phoff, phentsize, phnum = (
            struct.unpack_from(order + "I", head, 28)[0],
            struct.unpack_from(order + "H", head, 42)[0],
            struct.unpack_from(order + "H", head, 44)[0],
        )
    if phnum > 256 or phentsize < (56 if is64 else 32):
        return None
    f.seek(phoff)  # type: ignore[attr-defined]
    table = f.read(phentsize * phnum)  # type: ignore[attr-defined]
    for i in range(phnum):
        entry = table[i * phentsize : (i + 1) * phentsize]
        if len(entry) < phentsize:
            return None
        if struct.unpack_from(order + "I", entry, 0)[0] != _PT_INTERP:
            continue
        if is64:
            offset, size = (
                struct.unpack_from(order + "Q", entry, 8)[0],
                struct.unpack_from(order + "Q", entry, 32)[0],
            )
        else:
            offset, size = (
                struct.unpack_from(order + "I", entry, 4)[0],
                struct.unpack_from(order + "I", entry, 16)[0],
            )
        if size > 4096:
            return None
        f.seek(offset)  # type: ignore[attr-defined]
        name = f.read(size).split(b"\0", 1)[0]  # type: ignore[attr-defined]
        return ("PT_INTERP", name.decode("utf-8", "surrogateescape")) if name else None
    return None
