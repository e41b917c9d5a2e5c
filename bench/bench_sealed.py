"""Benchmark: what sealing costs a rootless runtime (ocitool/exec/sealed.py).

Runs, as an unprivileged user (``nobody`` through ``setpriv``; run the bench as
root), a ``python3`` process (no ``-S``: Debian keeps cffi in dist-packages) that does what ``ocitool-runc create``/``exec``
do first: ``sealed.ensure()`` then ``sealed.verify()``. Rows, alternating:

- ``debian, no seal``: Debian's ``/usr/bin/python3``, importing the same modules
  without sealing (the floor);
- ``debian, sealed``: the same interpreter, owned by root: no container of the
  user can write it, so nothing is copied;
- ``user copy, no seal`` / ``user copy, sealed``: a ``venv --copies`` of it owned by
  the user: sealing copies it into a sealed memfd and re-executes.

    python3 bench/bench_sealed.py [-n 30]

Reports the median wall and CPU (user+sys of the child) per row. Take the load
(``uptime``) with the figures: on a shared machine compare CPU, within a table.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534
SEALED = (
    "from ocitool.exec import sealed\n"
    "from ocitool.exec.linux import LinuxSyscalls\n"
    "sealed.ensure(LinuxSyscalls())\n"
    "sealed.verify()\n"
)
PLAIN = "from ocitool.exec import sealed\nfrom ocitool.exec.linux import LinuxSyscalls\n"


def _run(python: str, code: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        + [python, "-c", code],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        cwd="/",
        check=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocitool-bench-sealed-") as top:
        os.chmod(top, 0o755)
        venv = Path(top) / "venv"
        subprocess.run(
            ["/usr/bin/python3", "-m", "venv", "--copies", "--system-site-packages"]
            + ["--without-pip", str(venv)],
            check=True,
        )
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(venv)], check=True)
        rows = {
            "debian, no seal": ("/usr/bin/python3", PLAIN),
            "debian, sealed": ("/usr/bin/python3", SEALED),
            "user copy, no seal": (str(venv / "bin" / "python3"), PLAIN),
            "user copy, sealed": (str(venv / "bin" / "python3"), SEALED),
        }
        results: dict[str, list[tuple[float, float]]] = {k: [] for k in rows}
        for python, code in rows.values():
            _run(python, code)  # warm the page cache
        for _ in range(args.n):
            for name, (python, code) in rows.items():
                results[name].append(_run(python, code))
    print(f"load: {os.getloadavg()[0]:.2f} (1 min); medians of {args.n} alternating runs")
    print("| row | wall ms | CPU ms |")
    print("|---|---:|---:|")
    for name, samples in results.items():
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        print(f"| {name} | {wall:.1f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
