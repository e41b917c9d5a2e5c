"""profiles/seccomp/default.policy behaves like Docker's default profile (default caps, x86_64).

Every syscall of x86_64, x86 and x32 is checked with zero arguments, and the
argument-checked ones (clone, personality, socket) with the values that matter.
Both the OCI reading and the compiled filters are compared.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ocitool.resources import resource_path
from ocitool.seccomp.constants import AF, CLONE, PERSONALITY
from ocitool.seccomp.docker import docker_to_oci
from ocitool.seccomp.explain import evaluate
from ocitool.seccomp.policy import load_policy
from ocitool.seccomp.tables import syscalls

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "seccomp"
ARCHES = ("x86_64", "x86", "x32")

CLONE_VALUES = sorted(
    {0, 0x11, 0x3D0F00, 0x1200011, 1 << 32, (1 << 32) | CLONE["CLONE_NEWNS"]}
    | set(CLONE.values())
    | {CLONE["CLONE_VM"] | CLONE["CLONE_NEWUSER"], 0x7E020000, 0xFFFFFFFF}
)
PERSONALITY_VALUES = sorted(
    set(PERSONALITY.values()) | {0x20008, 0x20009, 0xFFFFFFFE, (1 << 32) | 8, 0x7FFFFFFF}
)
SOCKET_VALUES = sorted(set(AF.values()) | set(range(0, 64)) | {0xFFFFFFFF, 1 << 32, (1 << 32) | 40})
ARG_CASES = {"clone": CLONE_VALUES, "personality": PERSONALITY_VALUES, "socket": SOCKET_VALUES}


@cache
def ours() -> dict[str, Any]:
    return load_policy(resource_path("profiles", "seccomp/default.policy"))


@cache
def dockers() -> dict[str, Any]:
    return docker_to_oci(json.loads((DATA / "moby-default.json").read_text()))


def cases(arch: str) -> list[tuple[str, int, tuple[int, ...]]]:
    out: list[tuple[str, int, tuple[int, ...]]] = []
    for name, nr in sorted(syscalls(arch).items()):
        out.append((name, nr, ()))
        for value in ARG_CASES.get(name, ()):
            out.append((name, nr, (value, 0x11, 0)))
    return out


def test_policy_keeps_dockers_shape() -> None:
    pol, dock = ours(), dockers()
    assert pol["defaultAction"] == dock["defaultAction"]
    assert pol["defaultErrnoRet"] == dock["defaultErrnoRet"]
    assert pol["architectures"] == dock["architectures"]


@pytest.mark.parametrize("arch", ARCHES)
def test_same_oci_verdicts_as_docker(arch: str) -> None:
    pol, dock = ours(), dockers()
    diffs = []
    checked = 0
    for name, _nr, args in cases(arch):
        a = evaluate(pol, name, args, arch).verdict
        b = evaluate(dock, name, args, arch).verdict
        checked += 1
        if a != b:
            diffs.append(f"{name}{args}: policy {a.text()} docker {b.text()}")
    assert checked > 300
    assert diffs == []


def test_a_changed_policy_is_caught() -> None:
    # the comparison is sharp: dropping one name or loosening one test shows up
    text = resource_path("profiles", "seccomp/default.policy").read_text()
    loose = text.replace("arg0 > AF_VSOCK", "arg0 >= AF_VSOCK")
    from ocitool.seccomp.policy import parse_policy

    pol = parse_policy(loose)
    assert evaluate(pol, "socket", (AF["AF_VSOCK"],)).verdict.text() == "ALLOW"
    assert evaluate(dockers(), "socket", (AF["AF_VSOCK"],)).verdict.text() == "ERRNO(EPERM)"


@pytest.mark.parametrize("arch", ARCHES)
def test_same_bpf_verdicts_as_docker(arch: str) -> None:
    from ocitool.seccomp import compiler
    from ocitool.seccomp.emulator import emulate

    prog_ours = compiler.compile_seccomp(ours(), arch)
    prog_docker = compiler.compile_seccomp(dockers(), arch)
    diffs = []
    for name, nr, args in cases(arch):
        full = args + (0,) * (6 - len(args))
        a = emulate(prog_ours, arch, nr, full).ret
        b = emulate(prog_docker, arch, nr, full).ret
        if a != b:
            diffs.append(f"{name}{args}: policy {a:#x} docker {b:#x}")
    assert diffs == []
