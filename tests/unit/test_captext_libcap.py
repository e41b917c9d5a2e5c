"""Differential test: ocitool's capability text parser against the installed libcap.

Random texts built from the form's pieces (valid and invalid) must be accepted
or refused exactly as libcap's cap_from_text does, give the same three sets,
and print the same canonical text as cap_to_text.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool.captext import ALL_KNOWN, CapTextError, parse_captext

# The installed libcap through ctypes: the reference (ocitool itself never loads libcap).


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


LIBCAP = load()

pytestmark = pytest.mark.skipif(LIBCAP is None, reason="libcap.so.2 is not installed")


def _libcap_knows_our_table() -> bool:
    assert LIBCAP is not None
    result = LIBCAP.from_text("all=e")
    return result is not None and result[0][0] == ALL_KNOWN


PIECES = [
    "cap_chown",
    "CAP_KILL",
    "Cap_Sys_Admin",
    "cap_net_raw",
    "cap_checkpoint_restore",
    "all",
    "ALL",
    "0",
    "5",
    "40",
    "41",
    "63",
    "64",
    "0x10",
    "010",
    "=",
    "+",
    "-",
    "e",
    "i",
    "p",
    "ep",
    "eip",
    "E",
    "x",
    ",",
    " ",
    "\t",
]


def check_same(text: str) -> None:
    assert LIBCAP is not None
    reference = LIBCAP.from_text(text)
    try:
        ours = parse_captext(text)
    except CapTextError:
        assert reference is None, f"we refused {text!r}, libcap accepted it"
        return
    assert reference is not None, f"we accepted {text!r}, libcap refused it"
    (effective, permitted, inheritable), canonical = reference
    assert (ours.effective, ours.permitted, ours.inheritable) == (
        effective,
        permitted,
        inheritable,
    ), text
    assert ours.to_text() == canonical, text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "=",
        "=ep",
        "cap_chown+ep-i",
        "cap_chown,cap_kill=ep cap_net_raw+i",
        "all=ep cap_kill-e",
        "cap_chown+e=p",
        "=e+p",
        "=ep-e",
        "cap_chown=-e",
        "cap_chown=+e",
        "cap_chown+EP",
        "cap_chown,,cap_kill=e",
        "41=ep",
        "0x3f=e",
        "010=e",
        "64=e",
        "cap_net_raw=i cap_kill,cap_chown=ep cap_sys_admin+p",
        "all=eip cap_chown-i cap_kill-p cap_setuid-e cap_bpf=",
    ],
)
def test_examples_match_libcap(text: str) -> None:
    if not _libcap_knows_our_table():
        pytest.skip("installed libcap names a different number of capabilities")
    check_same(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=10))
def test_random_texts_match_libcap(pieces: list[str]) -> None:
    if not _libcap_knows_our_table():
        pytest.skip("installed libcap names a different number of capabilities")
    check_same("".join(pieces))
