"""Capability text (libcap's cap_from_text form): semantics, canonical text, located errors."""

from __future__ import annotations

import pytest

from ocitool.capabilities import CAP_NUMBER
from ocitool.captext import ALL_KNOWN, CapSets, CapTextError, parse_captext
from ocitool.errors import UsageError


def bit(*names: str) -> int:
    mask = 0
    for name in names:
        mask |= 1 << CAP_NUMBER[name]
    return mask


@pytest.mark.parametrize(
    ("text", "effective", "permitted", "inheritable"),
    [
        ("", 0, 0, 0),
        ("   ", 0, 0, 0),
        ("=", 0, 0, 0),
        ("=ep", ALL_KNOWN, ALL_KNOWN, 0),
        ("=pe", ALL_KNOWN, ALL_KNOWN, 0),
        ("all=eip", ALL_KNOWN, ALL_KNOWN, ALL_KNOWN),
        ("ALL+i", 0, 0, ALL_KNOWN),
        ("cap_chown+ep-i", bit("CAP_CHOWN"), bit("CAP_CHOWN"), 0),
        ("CAP_CHOWN=ep", bit("CAP_CHOWN"), bit("CAP_CHOWN"), 0),
        ("Cap_Chown=p", 0, bit("CAP_CHOWN"), 0),
        ("chown,kill=ep", bit("CAP_CHOWN", "CAP_KILL"), bit("CAP_CHOWN", "CAP_KILL"), 0),
        (
            "cap_chown,cap_kill=ep cap_net_raw+i",
            bit("CAP_CHOWN", "CAP_KILL"),
            bit("CAP_CHOWN", "CAP_KILL"),
            bit("CAP_NET_RAW"),
        ),
        ("all=ep cap_kill-e", ALL_KNOWN & ~bit("CAP_KILL"), ALL_KNOWN, 0),
        ("=ep cap_kill=", ALL_KNOWN & ~bit("CAP_KILL"), ALL_KNOWN & ~bit("CAP_KILL"), 0),
        ("cap_chown=ep+i", bit("CAP_CHOWN"), bit("CAP_CHOWN"), bit("CAP_CHOWN")),
        ("cap_chown=ep cap_chown-p", bit("CAP_CHOWN"), 0, 0),
        ("cap_chown+e-e", 0, 0, 0),  # left to right: the later operator wins
        ("cap_chown=+e", bit("CAP_CHOWN"), 0, 0),
        ("cap_chown=ep cap_chown=-e", 0, 0, 0),
        ("=ep =", 0, 0, 0),
        ("5=ep", bit("CAP_KILL"), bit("CAP_KILL"), 0),
        ("0x5=e", bit("CAP_KILL"), 0, 0),
        ("010=e", bit("CAP_SETPCAP"), 0, 0),  # C's strtoul: a leading 0 is octal
        ("63=p", 0, 1 << 63, 0),
        ("cap_chown=e\tcap_kill=p\n", bit("CAP_CHOWN"), bit("CAP_KILL"), 0),
    ],
)
def test_semantics(text: str, effective: int, permitted: int, inheritable: int) -> None:
    assert parse_captext(text) == CapSets(effective, permitted, inheritable)


@pytest.mark.parametrize(
    ("text", "code", "column", "needle"),
    [
        ("cap_chown", "OCI040", 10, "ends in the middle"),
        ("cap_chown+", "OCI040", 11, "ends in the middle"),
        ("cap_chown+EP", "OCI040", 11, "lower case"),
        ("cap_chown=ex", "OCI040", 12, "unexpected 'x'"),
        ("cap_chown =e", "OCI040", 10, "unexpected"),
        ("cap_chown,,cap_kill=e", "OCI040", 11, "unexpected ','"),
        ("cap_chown+e=p", "OCI040", 12, "first operator"),
        ("+ep", "OCI043", 1, "need a list"),
        ("cap_kill=e -ep", "OCI043", 12, "need a list"),
        ("=ep-e", "OCI043", 4, "need a list"),
        ("=+e", "OCI043", 1, "need a list"),
        ("cap_kill=e cap_frobnicate+p", "OCI041", 12, "unknown capability 'cap_frobnicate'"),
        ("all=e 64=p", "OCI042", 7, "out of range"),
    ],
)
def test_errors_carry_code_and_column(text: str, code: str, column: int, needle: str) -> None:
    with pytest.raises(CapTextError) as info:
        parse_captext(text, source="--caps")
    err = info.value
    assert isinstance(err, UsageError)
    assert (err.code, err.column, err.line, err.path) == (code, column, 1, "--caps")
    rendered = err.render()
    assert needle in rendered
    assert rendered.startswith(f"--caps:1:{column}: error {code}")
    # the caret sits under the faulty column
    lines = rendered.splitlines()
    caret = next(line for line in lines if line.strip() == "^")
    shown = lines[lines.index(caret) - 1]
    assert caret.index("^") - 4 == column - 1
    assert shown.strip() == text.strip() or shown[4:] == text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", "="),
        ("=ep", "=ep"),
        ("cap_chown+ep-i", "cap_chown=ep"),
        ("cap_chown,cap_kill=ep cap_net_raw+i", "cap_net_raw=i cap_chown,cap_kill+ep"),
        ("all=ep cap_kill-e", "=ep cap_kill-e"),
        ("cap_kill,cap_chown=ep cap_net_raw=i", "cap_net_raw=i cap_chown,cap_kill+ep"),
        ("41=ep", "= 41+ep"),
        ("=ep 63+i", "=ep 63+i"),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    sets = parse_captext(text)
    assert sets.to_text() == canonical
    assert parse_captext(canonical) == sets


def test_to_oci_maps_bounding_and_ambient() -> None:
    oci = parse_captext("cap_chown,cap_kill=ep cap_net_raw+i").to_oci()
    assert oci == {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "effective": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": ["CAP_NET_RAW"],
        "permitted": ["CAP_CHOWN", "CAP_KILL"],
        "ambient": [],
    }


def test_to_oci_refuses_unnamed_bits() -> None:
    with pytest.raises(CapTextError) as info:
        parse_captext("cap_chown,41=ep").to_oci()
    assert info.value.code == "OCI044"
    assert "41" in info.value.message
