"""Command line: build the runtime-tools validation suite and run it against runtimes.

    python3 -m tests.helpers_rtools.run_suite --src ~/runtime-tools \\
        --runtime "$(command -v ocitool-runc)" --runtime runc

prints one Markdown row per program (pass, or the failing checks in the
suite's words) and, with --json, writes every TAP result.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.helpers_rtools.suite import (
    build,
    delete_leftovers,
    find_tree,
    isolated_runtime,
    make_rootfs_tarball,
    run_test,
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="run_suite", description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, required=True, help="runtime-tools checkout")
    ap.add_argument("--runtime", action="append", required=True, help="runtime binary")
    ap.add_argument("--work", type=Path, default=Path("/tmp/rtools-work"))
    ap.add_argument("--test", action="append", help="only these programs")
    ap.add_argument("--env", action="append", default=[], help="K=V for the programs")
    ap.add_argument("--json", type=Path, help="write all results here")
    args = ap.parse_args(argv)

    tree = find_tree(args.src)
    made = build(tree, args.work, args.test)
    make_rootfs_tarball(made.rundir)
    extra = dict(kv.split("=", 1) for kv in args.env)
    rows: dict[str, dict[str, str]] = {}
    dump: list[dict[str, object]] = []
    for name, err in sorted(made.errors.items()):
        first = err.splitlines()[-1] if err else "?"
        rows[name] = {rt: f"does not build: {first}" for rt in args.runtime}
    for name, binary in sorted(made.binaries.items()):
        for i, runtime in enumerate(args.runtime):
            state_root = args.work / f"state{i}"
            run = run_test(
                binary,
                str(isolated_runtime(runtime, state_root)),
                extra_env=extra,
                by_exit_status=name in made.untapped,
            )
            delete_leftovers(runtime, state_root)
            rows.setdefault(name, {})[runtime] = run.summary()
            dump.append(
                {
                    "test": name,
                    "runtime": runtime,
                    "returncode": run.returncode,
                    "seconds": round(run.seconds, 2),
                    "results": [
                        {"ok": r.ok, "description": r.description, "directive": r.directive}
                        for r in run.report.results
                    ],
                    "stderr": run.stderr[-2000:],
                }
            )
            print(f"{name} [{runtime}]: {run.summary()}", file=sys.stderr)
    print("| test | " + " | ".join(args.runtime) + " |")
    print("|---" * (len(args.runtime) + 1) + "|")
    for name, cells in sorted(rows.items()):
        print(f"| {name} | " + " | ".join(cells.get(rt, "") for rt in args.runtime) + " |")
    if args.json:
        args.json.write_text(json.dumps(dump, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
