"""Library callers get a located SeccompError, never a TypeError, for wrongly typed members."""

from __future__ import annotations

from typing import Any

import pytest

from ocitool.errors import SeccompError
from ocitool.seccomp.compiler import compile_seccomp

ALLOW = "SCMP_ACT_ALLOW"


@pytest.mark.parametrize(
    ("profile", "pointer"),
    [
        ({"defaultAction": []}, "/linux/seccomp/defaultAction"),
        ({"defaultAction": ALLOW, "architectures": True}, "/linux/seccomp/architectures"),
        ({"defaultAction": ALLOW, "architectures": ["SCMP_ARCH_X86_64", 3]}, "/linux/seccomp/architectures/1"),
        ({"defaultAction": ALLOW, "flags": True}, "/linux/seccomp/flags"),
        ({"defaultAction": ALLOW, "syscalls": True}, "/linux/seccomp/syscalls"),
        ({"defaultAction": ALLOW, "defaultErrnoRet": "1"}, "/linux/seccomp/defaultErrnoRet"),
        ({"defaultAction": ALLOW, "syscalls": [{"names": "read", "action": "SCMP_ACT_ERRNO"}]},
         "/linux/seccomp/syscalls/0/names"),
        ({"defaultAction": ALLOW, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
          "args": [{"index": True, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
         "/linux/seccomp/syscalls/0/args/0/index"),
    ],
)  # fmt: skip
def test_wrong_types_are_located_errors(profile: dict[str, Any], pointer: str) -> None:
    with pytest.raises(SeccompError) as info:
        compile_seccomp(profile, "x86_64")
    assert info.value.pointer == pointer
    assert info.value.code == "OCI460"


def test_missing_default_action_keeps_its_own_message() -> None:
    with pytest.raises(SeccompError, match="defaultAction is required"):
        compile_seccomp({}, "x86_64")
