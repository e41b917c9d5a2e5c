"""Benchmark: lowering a config into a plan, in process, and what the plan verifier adds.

For examples/busybox, examples/rootless and examples/full (on the host each
one suits), times ``lower()`` as it runs (concerns, merge, verifier, ordering
check) and ``verify_plan`` alone on the result, and reports the fastest of
``--repeat`` rounds of ``--count`` calls each, in milliseconds per call.
The seccomp compiler's per-process cache is warm after the first call, as in
``ocitool-runc``, which lowers a config more than once.

    python bench/bench_lower.py [--count 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocitool.lower import lower  # noqa: E402
from ocitool.lower.host import HostInfo  # noqa: E402
from ocitool.lower.verify import verify_plan  # noqa: E402
from ocitool.spec.build import build_spec  # noqa: E402
from ocitool.spec.load import parse_text  # noqa: E402

# (example, host overrides); full loses what v2 cannot honour (cpu.realtime*), as in tests/golden.
CASES = (("busybox", "cgroup=v2"), ("rootless", "cgroup=v2,euid=1000"), ("full", "cgroup=v2"))


def best_ms(fn: object, count: int, repeat: int) -> float:
    assert callable(fn)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(count):
            fn()
        best = min(best, (time.perf_counter() - start) / count)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'config':10} {'ops':>4} {'lower ms':>9} {'verify ms':>10} {'share':>6}")
    for name, overrides in CASES:
        path = ROOT / "examples" / name / "config.json"
        data = json.loads(path.read_text())
        if name == "rootless":  # as uid 1000 would generate it (tests/golden does the same)
            for key in ("uidMappings", "gidMappings"):
                for m in data["linux"][key]:
                    m["hostID"] = 1000
        if name == "full":
            for key in ("realtimeRuntime", "realtimePeriod"):
                data["linux"]["resources"]["cpu"].pop(key, None)
        spec = build_spec(parse_text(json.dumps(data), str(path)))
        host = HostInfo.parse_overrides(overrides, HostInfo.preset("v2", "x86_64"))
        bundle = str(path.parent)

        def run(spec=spec, host=host, bundle=bundle):  # type: ignore[no-untyped-def]
            return lower(spec, host, container_id="bench", bundle=bundle)

        plan = run()
        lower_ms = best_ms(run, args.count, args.repeat)
        verify_ms = best_ms(
            lambda plan=plan, spec=spec, host=host: verify_plan(
                spec, plan.ops, diagnostics=plan.diagnostics, euid=host.euid
            ),
            args.count,
            args.repeat,
        )
        share = 100 * verify_ms / lower_ms
        print(f"{name:10} {len(plan):4} {lower_ms:9.2f} {verify_ms:10.2f} {share:5.0f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
