"""The installed libcap's cap_from_text / cap_to_text through ctypes: a reference to test against.

Only tests use it; ocitool itself never loads libcap.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_E, _P, _I = 0, 1, 2  # CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE


class LibCap:
    def __init__(self) -> None:
        name = ctypes.util.find_library("cap") or "libcap.so.2"
        lib = ctypes.CDLL(name, use_errno=True)
        lib.cap_from_text.restype = ctypes.c_void_p
        lib.cap_from_text.argtypes = [ctypes.c_char_p]
        lib.cap_get_flag.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
        ]
        lib.cap_to_text.restype = ctypes.c_void_p
        lib.cap_to_text.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.cap_free.argtypes = [ctypes.c_void_p]
        self.lib = lib

    def from_text(self, text: str) -> tuple[tuple[int, int, int], str] | None:
        """(effective, permitted, inheritable) masks and libcap's canonical text; None if refused."""
        caps = self.lib.cap_from_text(text.encode())
        if not caps:
            return None
        try:
            masks = []
            for flag in (_E, _P, _I):
                mask = 0
                for cap in range(64):
                    value = ctypes.c_int()
                    found = self.lib.cap_get_flag(caps, cap, flag, ctypes.byref(value)) == 0
                    if found and value.value:
                        mask |= 1 << cap
                masks.append(mask)
            raw = self.lib.cap_to_text(caps, None)
            canonical = ctypes.string_at(raw).decode()
            self.lib.cap_free(raw)
            return (masks[0], masks[1], masks[2]), canonical
        finally:
            self.lib.cap_free(caps)


def load() -> LibCap | None:
    try:
        return LibCap()
    except OSError:
        return None
