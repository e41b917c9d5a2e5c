"""seccomp explain: verdict, deciding rule with its JSON pointer, why, and the BPF cross-check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocitool.errors import SeccompError
from ocitool.seccomp.docker import convert
from ocitool.seccomp.explain import describe_test, evaluate, explain, rule_matches
from ocitool.seccomp.policy import parse_policy_with_sources

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "seccomp"


def config(seccomp: dict[str, Any]) -> dict[str, Any]:
    return {"ociVersion": "1.2.0", "linux": {"seccomp": seccomp}}


PROFILE: dict[str, Any] = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
        },
        {
            "names": ["personality"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}],
        },
        {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"},
    ],
}


def test_default_action_names_the_pointer_and_why() -> None:
    e = explain(config(PROFILE), "ptrace", (), "x86_64")
    assert e.verdict.text() == "ERRNO(EPERM)"
    assert e.pointer == "/linux/seccomp/defaultAction"
    assert e.why == (
        "ptrace: no rule names it → defaultAction SCMP_ACT_ERRNO (EPERM) "
        "at /linux/seccomp/defaultAction"
    )
    assert e.nr == 101


def test_unconditional_rule() -> None:
    e = explain(config(PROFILE), "write", (), "x86_64")
    assert e.verdict.text() == "ALLOW"
    assert e.pointer == "/linux/seccomp/syscalls/0"
    assert "no argument test" in e.why
    e = explain(config(PROFILE), "clone3", (), "x86_64")
    assert e.verdict.text() == "ERRNO(ENOSYS)"
    assert e.pointer == "/linux/seccomp/syscalls/1"
    assert "SCMP_ACT_ERRNO (ENOSYS)" in e.why


def test_argument_rule_matches_or_falls_to_default() -> None:
    e = explain(config(PROFILE), "clone", (0x11,), "x86_64")
    assert e.verdict.text() == "ALLOW"
    assert e.pointer == "/linux/seccomp/syscalls/2"
    assert "arg0 & 0x7e020000 == 0x0 holds" in e.why
    e = explain(config(PROFILE), "clone", (0x10000000,), "x86_64")
    assert e.verdict.text() == "ERRNO(EPERM)"
    assert e.pointer == "/linux/seccomp/defaultAction"
    assert "/linux/seccomp/syscalls/2 needs arg0 & 0x7e020000 == 0x0" in e.why


def test_bare_object_pointers_have_no_prefix() -> None:
    e = explain(PROFILE, "kill", (), "x86_64")
    assert e.pointer == "/syscalls/4"
    assert e.verdict.text() == "KILL_PROCESS"


def test_bpf_cross_check_agrees_and_records_the_path() -> None:
    for name, args in [("read", ()), ("clone", (0x11,)), ("clone", (1 << 28,)), ("ptrace", ())]:
        e = explain(config(PROFILE), name, args, "x86_64")
        assert e.agrees is True, e.render()
        assert e.bpf_path and e.bpf_path[0] == 0
        assert e.bpf_ret is not None


def test_overlapping_rules_follow_the_compiled_filter() -> None:
    overlapping = {
        "defaultAction": "SCMP_ACT_KILL",
        "syscalls": [
            {
                "names": ["read"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}],
            },
            {
                "names": ["read"],
                "action": "SCMP_ACT_ERRNO",
                "args": [{"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}],
            },
        ],
    }
    e = explain(overlapping, "read", (1, 2), "x86_64")
    # libseccomp lets the test on the higher argument decide; our compiler does the same
    assert e.verdict.text() == "ERRNO(EPERM)"
    assert e.pointer == "/syscalls/1"
    assert e.also_matching == ["/syscalls/0"]
    assert e.agrees is True


def test_docker_profile_pointers_and_policy_sources() -> None:
    moby = json.loads((DATA / "moby-default.json").read_text())
    conv = convert(moby)
    pointers = [f"/syscalls/{i}" for i in conv.origins]
    e = explain(conv.seccomp, "clone3", (), "x86_64", pointers=pointers)
    assert e.pointer == "/syscalls/20"  # the rule's place in Docker's file
    assert e.verdict.text() == "ERRNO(ENOSYS)"

    pol, sources = parse_policy_with_sources(
        "default errno(EPERM)\narch x86_64\n\nallow personality if arg0 == 0 || arg0 == 8\n",
        "p.policy",
    )
    e = explain(pol, "personality", (8,), "x86_64", sources=sources)
    assert e.pointer == "/syscalls/1"
    assert e.source == "p.policy:4: allow personality if arg0 == 0 || arg0 == 8"


def test_unknown_syscall_on_arch_is_noted() -> None:
    e = explain(config(PROFILE), "chown32", (), "x86_64")
    assert e.nr is None
    assert any("does not exist on x86_64" in n for n in e.notes)


def test_32_bit_abi_compares_low_words() -> None:
    rule = {"args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}
    assert rule_matches(rule, ((1 << 32) | 8,), 32)
    assert not rule_matches(rule, ((1 << 32) | 8,), 64)


def test_masked_eq_ignores_value_two_bits_outside_the_mask() -> None:
    # libseccomp compares (arg & mask) == (valueTwo & mask); so does the compiled filter
    odd = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {
                "names": ["clone"],
                "action": "SCMP_ACT_ALLOW",
                "args": [
                    {"index": 0, "value": 0xFF, "valueTwo": 0x100, "op": "SCMP_CMP_MASKED_EQ"}
                ],
            }
        ],
    }
    assert evaluate(odd, "clone", (0x100,), "x86_64").verdict.text() == "ALLOW"
    assert evaluate(odd, "clone", (0,), "x86_64").verdict.text() == "ALLOW"
    assert evaluate(odd, "clone", (1,), "x86_64").verdict.text() == "ERRNO(EPERM)"
    for value in (0, 0x100, 1, (1 << 32) | 1):
        assert explain(odd, "clone", (value,), "x86_64").agrees is True


def test_describe_test() -> None:
    assert describe_test({"index": 2, "value": 9, "op": "SCMP_CMP_NE"}) == "arg2 != 0x9"
    assert (
        describe_test({"index": 0, "value": 6, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"})
        == "arg0 & 0x6 == 0x2"
    )


def test_errors() -> None:
    with pytest.raises(SeccompError) as err:
        explain({"ociVersion": "1.2.0"}, "read", (), "x86_64")
    assert err.value.code == "OCI470"
    assert err.value.pointer == "/linux/seccomp"
    with pytest.raises(SeccompError):
        explain(PROFILE, "read", (1, 2, 3, 4, 5, 6, 7), "x86_64")


def test_to_json_round_trips() -> None:
    e = evaluate(PROFILE, "personality", (8,), "x86_64")
    data = json.loads(json.dumps(e.to_json()))
    assert data["verdict"] == "ALLOW"
    assert data["pointer"] == "/syscalls/3"
    assert data["args"] == [8]


@pytest.mark.parametrize(
    ("seccomp", "pointer", "words"),
    [
        ({"defaultAction": []}, "/linux/seccomp/defaultAction", "expected a string, not an array"),
        ({"syscalls": []}, "/linux/seccomp/defaultAction", "expected a string, missing"),
        (
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": 5},
            "/linux/seccomp/syscalls",
            "expected an array, not an integer",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": "pread64", "action": "SCMP_ACT_ERRNO"}]},
            "/linux/seccomp/syscalls/0/names",
            "expected an array, not a string",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": True}]},
            "/linux/seccomp/syscalls/0/errnoRet",
            "expected an integer, not a boolean",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                           "args": [{"index": "0", "value": 1, "op": "SCMP_CMP_EQ"}]}]},
            "/linux/seccomp/syscalls/0/args/0/index",
            "expected an integer, not a string",
        ),
    ],
)  # fmt: skip
def test_wrong_json_types_are_refused_with_a_pointer(
    seccomp: dict[str, Any], pointer: str, words: str
) -> None:
    """A string where a list belongs must not be read as one: 'read' in 'pread64' is True."""
    with pytest.raises(SeccompError) as err:
        explain(config(seccomp), "read", arch="x86_64")
    assert err.value.pointer == pointer
    assert words in err.value.message
