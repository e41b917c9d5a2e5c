"""Device rules -> BPF_PROG_TYPE_CGROUP_DEVICE program, run in a small eBPF interpreter."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ocitool.lower.cgroups.ebpf import (  # noqa: E402
    DeviceRule,
    DeviceRuleError,
    compile_device_rules,
    emulate,
)
from tests.helpers.ebpf_interp import BpfFault, check_device, dev_ctx, run  # noqa: E402

DENY_ALL = DeviceRule(allow=False, type="a", access="rwm")
ALLOW_ALL = DeviceRule(allow=True, type="a", access="rwm")


def allowed(rules: list[DeviceRule], dev: str, major: int, minor: int, access: str) -> bool:
    return check_device(compile_device_rules(rules).encode(), dev, major, minor, access)


def test_no_rules_means_deny_all_as_runc() -> None:
    # runc's TestDeviceFilter_Nil: an empty rule list is an empty allow-list.
    prog = compile_device_rules([])
    assert not prog.default_allow
    assert len(prog.insns) == 8
    assert not allowed([], "c", 1, 3, "rwm")
    assert not allowed([], "b", 8, 0, "r")


def test_default_deny() -> None:
    assert not allowed([DENY_ALL], "c", 1, 3, "r")
    assert not allowed([DENY_ALL], "b", 8, 0, "m")


def test_exact_device_allow_with_access_subset() -> None:
    rules = [DENY_ALL, DeviceRule(allow=True, type="c", major=1, minor=3, access="rw")]
    assert allowed(rules, "c", 1, 3, "r")
    assert allowed(rules, "c", 1, 3, "w")
    assert allowed(rules, "c", 1, 3, "rw")
    assert not allowed(rules, "c", 1, 3, "m"), "mknod was not granted"
    assert not allowed(rules, "c", 1, 3, "rm"), "a request is allowed only if every bit is"
    assert not allowed(rules, "b", 1, 3, "r"), "type must match"
    assert not allowed(rules, "c", 1, 4, "r"), "minor must match"
    assert not allowed(rules, "c", 2, 3, "r"), "major must match"


def test_wildcard_minor_and_major() -> None:
    rules = [
        DENY_ALL,
        DeviceRule(allow=True, type="c", major=136, minor=-1, access="rwm"),
        DeviceRule(allow=True, type="b", major=-1, minor=-1, access="m"),
    ]
    assert allowed(rules, "c", 136, 0, "rw")
    assert allowed(rules, "c", 136, 99999, "rwm")
    assert not allowed(rules, "c", 137, 0, "r")
    assert allowed(rules, "b", 8, 0, "m")
    assert allowed(rules, "b", 259, 7, "m")
    assert not allowed(rules, "b", 8, 0, "r")
    assert not allowed(rules, "c", 8, 0, "m"), "the m wildcard was for block devices only"


def test_type_a_resets_and_later_rules_win() -> None:
    # runc's TestDeviceFilter_Weird: 8:1 denied first, then allow-all resets it.
    rules = [
        DeviceRule(allow=False, type="b", major=8, minor=1),
        ALLOW_ALL,
        DeviceRule(allow=False, type="b", major=8, minor=2),
    ]
    assert allowed(rules, "b", 8, 1, "rwm")
    assert not allowed(rules, "b", 8, 2, "r")
    assert allowed(rules, "b", 8, 3, "rw")
    assert allowed(rules, "c", 8, 2, "r")


def test_last_match_wins_for_same_device() -> None:
    rules = [
        DENY_ALL,
        DeviceRule(allow=True, type="c", major=10, minor=200, access="rwm"),
        DeviceRule(allow=False, type="c", major=10, minor=200, access="w"),
    ]
    assert allowed(rules, "c", 10, 200, "r")
    assert allowed(rules, "c", 10, 200, "m")
    assert not allowed(rules, "c", 10, 200, "w")
    # and allowing it again restores it
    rules.append(DeviceRule(allow=True, type="c", major=10, minor=200, access="w"))
    assert allowed(rules, "c", 10, 200, "rw")


def test_deny_then_everything_removed_leaves_default() -> None:
    rules = [
        DENY_ALL,
        DeviceRule(allow=True, type="c", major=1, minor=5, access="rw"),
        DeviceRule(allow=False, type="c", major=1, minor=5, access="rwm"),
    ]
    state = emulate(rules)
    assert state.exceptions == {}
    assert not allowed(rules, "c", 1, 5, "r")


def test_allow_all_with_specific_denies_and_access_subsets() -> None:
    rules = [ALLOW_ALL, DeviceRule(allow=False, type="b", major=8, minor=-1, access="w")]
    assert allowed(rules, "b", 8, 0, "r")
    assert not allowed(rules, "b", 8, 0, "w")
    assert not allowed(rules, "b", 8, 16, "rw")
    assert allowed(rules, "b", 9, 0, "w")


def test_punching_hole_in_wildcard_is_an_error() -> None:
    rules = [
        DENY_ALL,
        DeviceRule(allow=True, type="c", major=-1, minor=-1, access="rwm"),
        DeviceRule(allow=False, type="c", major=1, minor=3, access="r"),
    ]
    with pytest.raises(DeviceRuleError) as err:
        compile_device_rules(rules)
    assert err.value.index == 2
    assert "wildcard" in str(err.value)


@pytest.mark.parametrize(
    "rule",
    [
        DeviceRule(allow=True, type="x"),
        DeviceRule(allow=True, type="c", access="rwx"),
        DeviceRule(allow=True, type="c", access=""),
        DeviceRule(allow=True, type="c", major=5000),
        DeviceRule(allow=True, type="c", minor=1 << 21),
    ],
)
def test_invalid_rules_are_rejected(rule: DeviceRule) -> None:
    with pytest.raises(DeviceRuleError):
        compile_device_rules([rule])


def test_type_a_with_any_access_letters_is_still_all_devices() -> None:
    rules = [DeviceRule(allow=False, type="a", access="r")]
    assert not allowed(rules, "c", 1, 3, "w")


def test_program_shape_and_listing() -> None:
    prog = compile_device_rules([DENY_ALL, DeviceRule(allow=True, type="c", major=1, minor=3)])
    listing = prog.listing()
    assert listing[0].strip().startswith("0: r2 = *(u32 *)(r1 + 0)")
    assert any("c 1:3 rwm -> allow" in line for line in listing)
    assert listing[-1].strip().endswith("exit")
    assert "default: deny" in listing[-2]
    raw = prog.encode()
    assert len(raw) == 8 * len(prog.insns)
    # rwm rules skip the access check: type, major, minor, mov, exit
    assert len(prog.insns) == 6 + 5 + 2


def test_big_endian_encoding_round_trips() -> None:
    rules = [DENY_ALL, DeviceRule(allow=True, type="c", major=1, minor=3, access="r")]
    prog = compile_device_rules(rules)
    raw = prog.encode("s390x")
    assert raw != prog.encode("x86_64")
    assert check_device(raw, "c", 1, 3, "r", big_endian=True)
    assert not check_device(raw, "c", 1, 3, "w", big_endian=True)


def test_runc_default_allowed_devices() -> None:
    # runc's AllowedDevices appended after a user deny-all.
    defaults = [
        DeviceRule(allow=True, type="c", access="m"),
        DeviceRule(allow=True, type="b", access="m"),
        *(
            DeviceRule(allow=True, type="c", major=ma, minor=mi)
            for ma, mi in ((1, 3), (1, 8), (1, 7), (5, 0), (1, 5), (1, 9), (5, 2), (10, 200))
        ),
        DeviceRule(allow=True, type="c", major=136, minor=-1),
    ]
    rules = [DENY_ALL, *defaults]
    for ma, mi in ((1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 2), (10, 200), (136, 4)):
        assert allowed(rules, "c", ma, mi, "rw")
    assert allowed(rules, "b", 8, 0, "m")
    assert not allowed(rules, "b", 8, 0, "r")
    assert not allowed(rules, "c", 4, 1, "r"), "tty1 is not in the list"


def test_interpreter_rejects_bad_programs() -> None:
    ctx = dev_ctx(2, 2, 1, 3)
    with pytest.raises(BpfFault):
        run(b"\x95" + b"\x00" * 7, ctx)  # exit with r0 unset
    with pytest.raises(BpfFault):
        run(b"\x61\x21\x0c\x00\x00\x00\x00\x00", ctx)  # load past the 12-byte context
    with pytest.raises(BpfFault):
        run(b"\xbc\x20\x00\x00\x00\x00\x00\x00", ctx)  # read of uninitialised r2


def _reference(state_rules: list[DeviceRule], dev: str, major: int, minor: int, acc: str) -> bool:
    """Kernel v1 semantics evaluated directly on the emulated exceptions."""
    state = emulate(state_rules)
    req = DeviceRule(allow=True, access=acc).access_bits()
    for (etype, emaj, emin), bits in state.exceptions.items():
        if etype != dev or emaj not in (-1, major) or emin not in (-1, minor):
            continue
        if state.default_allow and bits & req:
            return False
        if not state.default_allow and req & bits == req:
            return True
    return state.default_allow


def test_random_rule_sets_match_the_reference_semantics() -> None:
    rng = random.Random(20261129)
    accesses = ["r", "w", "m", "rw", "rm", "wm", "rwm"]
    checked = 0
    for _ in range(250):
        rules = [
            DeviceRule(
                allow=rng.random() < 0.5,
                type=rng.choice("abcc"),
                major=rng.choice([-1, 1, 8]),
                minor=rng.choice([-1, 3, 0]),
                access=rng.choice(accesses),
            )
            for _ in range(rng.randint(0, 6))
        ]
        try:
            raw = compile_device_rules(rules).encode()
        except DeviceRuleError:
            continue  # hole punching: rejected, tested above
        for _ in range(12):
            dev = rng.choice("bc")
            major, minor = rng.choice([1, 8, 9]), rng.choice([0, 3, 4])
            acc = rng.choice(accesses)
            assert check_device(raw, dev, major, minor, acc) == _reference(
                rules, dev, major, minor, acc
            ), (rules, dev, major, minor, acc)
            checked += 1
    assert checked > 1000


def test_last_matching_rule_wins_for_exact_rwm_rules() -> None:
    rng = random.Random(7)
    devices = [("c", 1, 3), ("c", 1, 5), ("b", 8, 0)]
    for _ in range(200):
        rules = []
        for _ in range(rng.randint(1, 6)):
            if rng.random() < 0.25:
                rules.append(DeviceRule(allow=rng.random() < 0.5, type="a"))
            else:
                t, ma, mi = rng.choice(devices)
                rules.append(DeviceRule(allow=rng.random() < 0.5, type=t, major=ma, minor=mi))
        raw = compile_device_rules(rules).encode()
        for t, ma, mi in devices:
            expected = False  # the rules are an allow-list
            for rule in rules:
                if rule.type == "a" or (rule.type, rule.major, rule.minor) == (t, ma, mi):
                    expected = rule.allow
            assert check_device(raw, t, ma, mi, "rwm") == expected, (rules, t, ma, mi)
