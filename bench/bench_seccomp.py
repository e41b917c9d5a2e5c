#!/usr/bin/env python3
"""Seccomp filters side by side: ocitool's compiler vs libseccomp (via pyseccomp).

Profile: Docker's default (moby-default.json) for Docker's default capability set, arches
x86_64 + x86 + x32 (what Docker writes into config.json). Reports, for each filter:
program length, mean and max BPF instructions executed per profile syscall (zero args,
x86_64), compile time, and the real cost of an arg-checked syscall (personality(-1), which
Docker's profile checks by argument) in a forked child that loaded the filter.

Run: python bench/bench_seccomp.py [--json] [--loops N] [--repeat N] [--rounds N]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocitool.seccomp import bpf as B  # noqa: E402
from ocitool.seccomp.compiler import compile_seccomp  # noqa: E402
from ocitool.seccomp.docker import DOCKER_DEFAULT_CAPS, docker_to_oci  # noqa: E402
from ocitool.seccomp.emulator import emulate  # noqa: E402
from ocitool.seccomp.libseccomp import build  # noqa: E402
from ocitool.seccomp.tables import syscall_number  # noqa: E402

DATA = ROOT / "tests" / "data" / "seccomp" / "moby-default.json"
ARCH = "x86_64"
PERSONALITY_QUERY = 0xFFFFFFFF


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _time(fn: Any, n: int) -> float:
    fn()  # warm up (imports, caches)
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e3


def _executed(insns: list[B.Insn], nrs: list[int]) -> tuple[float, int]:
    counts = [emulate(insns, ARCH, n).executed for n in nrs]
    return sum(counts) / len(counts), max(counts)


def _syscall_ns(insns: list[B.Insn] | None, loops: int) -> float:
    """ns per personality(0xffffffff) in a child that loaded ``insns`` (None: no filter)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            if insns is not None:
                raw = B.pack_program(insns)
                buf = ctypes.create_string_buffer(raw, len(raw))
                prog = SockFprog(len(insns), ctypes.cast(buf, ctypes.c_void_p))
                libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
                if libc.syscall(syscall_number(ARCH, "seccomp"), 1, 0, ctypes.byref(prog)):
                    os._exit(3)
            call = libc.syscall
            nr = ctypes.c_long(syscall_number(ARCH, "personality") or 0)
            arg = ctypes.c_ulong(PERSONALITY_QUERY)
            best = float("inf")
            for _ in range(5):
                t = time.perf_counter_ns()
                for _ in range(loops):
                    call(nr, arg)
                best = min(best, (time.perf_counter_ns() - t) / loops)
            os.write(w, f"{best}\n".encode())
        finally:
            os._exit(0)
    os.close(w)
    out = os.read(r, 100).decode()
    os.close(r)
    os.waitpid(pid, 0)
    return float(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--loops", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    opts = ap.parse_args(argv)

    profile = json.loads(DATA.read_text())
    oci = docker_to_oci(profile, list(DOCKER_DEFAULT_CAPS), ARCH)
    names = sorted({n for r in oci["syscalls"] for n in r["names"]})
    nrs = [n for n in (syscall_number(ARCH, x) for x in names) if n is not None]

    ours = compile_seccomp(oci, ARCH)
    rows: dict[str, dict[str, Any]] = {}
    variants: list[tuple[str, Any]] = [
        ("ocitool", lambda: B.unpack_program(compile_seccomp(oci, ARCH).raw())),
        ("libseccomp tree (runc)", lambda: B.unpack_program(build(oci, ARCH, optimize=2).raw)),
        ("libseccomp default (crun)", lambda: B.unpack_program(build(oci, ARCH).raw)),
    ]
    programs: dict[str, list[B.Insn] | None] = {}
    for label, make in variants:
        insns = make()
        programs[label] = insns
        mean, worst = _executed(insns, nrs)
        rows[label] = {
            "length": len(insns),
            "mean_executed": round(mean, 2),
            "max_executed": worst,
            "compile_ms": round(_time(make, opts.repeat), 2),
        }
    programs["no filter"] = None
    rows["no filter"] = {}
    # the machine is shared: interleave the children and keep each filter's best round
    best: dict[str, float] = {}
    for _ in range(opts.rounds):
        for label, insns in programs.items():
            ns = _syscall_ns(insns, opts.loops)
            best[label] = min(best.get(label, ns), ns)
    for label, ns in best.items():
        rows[label]["ns_per_argchecked_syscall"] = round(ns, 1)
    result = {
        "profile": "moby-default.json, Docker default caps, x86_64+x86+x32",
        "profile_syscalls_x86_64": len(nrs),
        "arches": ours.arches,
        "results": rows,
    }
    if opts.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"profile: {result['profile']} ({len(nrs)} syscalls on x86_64)")
    cols = ["length", "mean_executed", "max_executed", "compile_ms", "ns_per_argchecked_syscall"]
    print(
        f"{'filter':<28}"
        + "".join(
            f"{c:>16}" for c in ["length", "mean exec", "max exec", "compile ms", "ns/arg-call"]
        )
    )
    for label, row in rows.items():
        print(f"{label:<28}" + "".join(f"{row.get(c, '-')!s:>16}" for c in cols))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
