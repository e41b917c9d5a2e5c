#!/usr/bin/env python3
"""Seccomp filters side by side: ocitool's compiler vs libseccomp (via pyseccomp).

Profile: Docker's default (moby-default.json) for Docker's default capability set, arches
x86_64 + x86 + x32 (what Docker writes into config.json). Reports, for each filter:
program length, mean and max BPF instructions executed per profile syscall (zero args,
x86_64), compile time, and the real cost of an arg-checked syscall (personality(-1), which
Docker's profile checks by argument) in a forked child that loaded the filter.

With ``--rules N[,N...]`` it measures large profiles of argument rules instead
(tests/helpers/seccomp_profiles.py): compile time and length for ours and libseccomp's
on the ``traced`` shape (libseccomp only up to ``--lib-max`` rules), and ours alone on
the ``distinct`` shape, whose program outgrows the kernel's limit (the length is then
the one the program would need; compile_seccomp reports OCI410).

Run: python bench/bench_seccomp.py [--json] [--loops N] [--repeat N] [--rounds N]
     python bench/bench_seccomp.py --rules 1000,2000,4000,8000 [--repeat N] [--json]
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

from ocitool.errors import SeccompError  # noqa: E402
from ocitool.seccomp import bpf as B  # noqa: E402
from ocitool.seccomp.compiler import compile_seccomp, generate_unchecked  # noqa: E402
from ocitool.seccomp.docker import DOCKER_DEFAULT_CAPS, docker_to_oci  # noqa: E402
from ocitool.seccomp.emulator import emulate  # noqa: E402
from ocitool.seccomp.libseccomp import build  # noqa: E402
from ocitool.seccomp.rules import build_profile  # noqa: E402
from ocitool.seccomp.tables import syscall_number  # noqa: E402
from tests.helpers.seccomp_profiles import argument_rules  # noqa: E402

DATA = ROOT / "tests" / "data" / "seccomp" / "moby-default.json"
ARCH = "x86_64"
PERSONALITY_QUERY = 0xFFFFFFFF


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _time(fn: Any, n: int, clock: Any = time.perf_counter) -> float:
    fn()  # warm up (imports, caches)
    samples = []
    for _ in range(n):
        t = clock()
        fn()
        samples.append(clock() - t)
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


def _compile_ours(oci: dict[str, Any]) -> int | str:
    """Length of our program, or the error code when compile_seccomp refuses it."""
    try:
        return len(compile_seccomp(oci, ARCH).instructions)
    except SeccompError as exc:
        return exc.code


def _large(counts: list[int], repeat: int, lib_max: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for shape in ("traced", "distinct"):
        for n in counts:
            oci = argument_rules(n, shape)
            runs: list[tuple[str, Any]] = [("ocitool", lambda oci=oci: _compile_ours(oci))]
            if shape == "traced" and n <= lib_max:
                runs += [
                    ("libseccomp tree (runc)", lambda oci=oci: build(oci, ARCH, optimize=2)),
                    ("libseccomp default (crun)", lambda oci=oci: build(oci, ARCH)),
                ]
            for label, make in runs:
                out = make()
                if label == "ocitool":
                    length = len(generate_unchecked(build_profile(oci, ARCH)))
                    verdict = out if isinstance(out, str) else "ok"
                else:
                    length, verdict = len(out.raw) // B.INSN_SIZE, "ok"
                rows.append(
                    {
                        "shape": shape,
                        "rules": n,
                        "filter": label,
                        "length": length,
                        "result": verdict,
                        "compile_s": round(_time(make, repeat) / 1e3, 3),
                        "compile_cpu_s": round(_time(make, repeat, time.process_time) / 1e3, 3),
                    }
                )
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--loops", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, help="compile runs per median (30; 3 with --rules)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rules", help="comma-separated rule counts: measure large profiles")
    ap.add_argument("--lib-max", type=int, default=8000, help="largest count libseccomp gets")
    opts = ap.parse_args(argv)
    if opts.rules:
        counts = [int(x) for x in opts.rules.split(",")]
        large = _large(counts, opts.repeat or 3, opts.lib_max)
        if opts.json:
            print(json.dumps(large, indent=2))
            return 0
        print("profiles: tests/helpers/seccomp_profiles.py, x86_64 + x86 + x32")
        cols = ["shape", "rules", "filter", "length", "result", "compile_s", "compile_cpu_s"]
        print("".join(f"{c:>28}" if c == "filter" else f"{c:>10}" for c in cols))
        for row in large:
            print("".join(f"{row[c]!s:>28}" if c == "filter" else f"{row[c]!s:>10}" for c in cols))
        return 0

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
            "compile_ms": round(_time(make, opts.repeat or 30), 2),
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
