"""Large synthetic seccomp profiles made of argument rules, for the tests and the bench.

Two shapes, both deterministic for a given seed:

* ``traced``: what a syscall tracer that writes one rule per observed call produces.
  Each syscall is checked on the argument that selects what it does (``ioctl``'s request,
  ``prctl``'s option, ``socket``'s family...), the values come from a small set per
  syscall, so most rules repeat an earlier one; some add a second test. The program
  fits the kernel's limit whatever the number of rules.
* ``distinct``: every rule tests a value no other rule of its syscall tests, so every
  rule costs at least one instruction and the program grows with the rule count (past
  about 3,000 rules it no longer fits the kernel's 4,096 instructions, for libseccomp's
  program as for ours).
"""

from __future__ import annotations

import random
from typing import Any

# (syscall, the argument that selects what the call does); all exist on x86_64
SELECTORS: tuple[tuple[str, int], ...] = (
    ("ioctl", 1), ("fcntl", 1), ("prctl", 0), ("socket", 1), ("setsockopt", 2),
    ("getsockopt", 2), ("personality", 0), ("clone", 0), ("mmap", 2), ("mprotect", 2),
    ("madvise", 2), ("kill", 1), ("tgkill", 2), ("futex", 1), ("arch_prctl", 0),
    ("keyctl", 0), ("ptrace", 0), ("bpf", 0), ("setns", 1), ("unshare", 0), ("openat", 2),
    ("socketpair", 1), ("sendmsg", 2), ("recvmsg", 2), ("flock", 1), ("lseek", 2),
    ("fadvise64", 3), ("epoll_ctl", 1), ("eventfd2", 1), ("pipe2", 1), ("dup3", 2),
    ("accept4", 3), ("shutdown", 1), ("getrandom", 2), ("membarrier", 0),
    ("rt_sigprocmask", 0), ("sched_setscheduler", 1), ("prlimit64", 1), ("clock_gettime", 0),
    ("timerfd_create", 0),
)  # fmt: skip
TRACED_VALUES = 12  # distinct selector values per syscall in a traced profile


def _action(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.8:
        return {"action": "SCMP_ACT_ALLOW"}
    if roll < 0.9:
        return {"action": "SCMP_ACT_ERRNO", "errnoRet": rng.choice((1, 13, 38))}
    return {"action": "SCMP_ACT_LOG"}


def _second_test(rng: random.Random, selector: int) -> dict[str, Any]:
    index = rng.choice([i for i in range(4) if i != selector])
    op = rng.choice(("SCMP_CMP_MASKED_EQ", "SCMP_CMP_LE", "SCMP_CMP_GE", "SCMP_CMP_NE"))
    if op == "SCMP_CMP_MASKED_EQ":
        mask = rng.choice((0xFF, 0xF000, 0x80000000, 0xFFFFFFFF00000000))
        return {"index": index, "op": op, "value": mask, "valueTwo": rng.randrange(1 << 16)}
    return {"index": index, "op": op, "value": rng.choice((0, 1, 0xFFFF, 1 << 32, 1 << 40))}


def argument_rules(
    count: int,
    shape: str = "traced",
    seed: int = 0,
    arches: tuple[str, ...] = ("SCMP_ARCH_X86", "SCMP_ARCH_X32"),
) -> dict[str, Any]:
    """An OCI ``linux.seccomp`` object with ``count`` rules that all test arguments."""
    if shape not in ("traced", "distinct"):
        raise ValueError(f"unknown shape {shape!r}")
    rng = random.Random(seed)
    used: dict[str, int] = {}
    rules = []
    for _ in range(count):
        name, selector = rng.choice(SELECTORS)
        if shape == "traced":
            value = rng.randrange(TRACED_VALUES) * 0x101
            pick = random.Random(f"{seed}/{name}/{value}")  # a call always gets one verdict
            rule: dict[str, Any] = {"names": [name], **_action(pick)}
            args = [{"index": selector, "op": "SCMP_CMP_EQ", "value": value}]
            if pick.random() < 0.25:
                args.append(_second_test(pick, selector))
        else:
            used[name] = used.get(name, 0) + 1
            high = (used[name] % 7 == 0) << 32  # a few values with the high word set
            value = high | used[name]
            rule = {"names": [name], **_action(rng)}
            args = [{"index": selector, "op": "SCMP_CMP_EQ", "value": value}]
            if rng.random() < 0.25:
                args.append(_second_test(rng, selector))
        rule["args"] = args
        rules.append(rule)
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": list(arches),
        "syscalls": rules,
    }
