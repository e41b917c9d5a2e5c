"""cgroup actions on a live container: freeze/thaw (pause/resume), list its pids, update limits.

Works on the container's own cgroup directories as create made them (one per
v1 hierarchy, or the single v2 directory). Freezing is asynchronous in the
kernel: v1 reports FREEZING until every task stopped, v2 sets ``frozen 1``
in cgroup.events; we wait for the final state as runc does.
"""

from __future__ import annotations

import time

from ocitool import lightos as os
from ocitool.exec.syscalls import exec_error


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _write(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def freezer_dir(dirs: list[str]) -> tuple[str, str] | None:
    """(kind, directory): ("v1", .../freezer/...) or ("v2", dir with cgroup.freeze)."""
    for d in dirs:
        if "/freezer/" in d or d.endswith("/freezer"):
            return "v1", d
    for d in dirs:
        if os.path.exists(os.path.join(d, "cgroup.freeze")):
            return "v2", d
    return None


def is_frozen(dirs: list[str]) -> bool:
    where = freezer_dir(dirs)
    if where is None:
        return False
    kind, d = where
    try:
        if kind == "v1":
            return _read(os.path.join(d, "freezer.state")).strip() == "FROZEN"
        return _read(os.path.join(d, "cgroup.freeze")).strip() == "1"
    except OSError:
        return False


def set_frozen(dirs: list[str], frozen: bool, timeout: float = 10.0) -> None:
    where = freezer_dir(dirs)
    if where is None:
        raise exec_error(
            "the container has no freezer cgroup",
            code="OCI510",
            hint="pause needs the v1 freezer controller or cgroup v2",
        )
    kind, d = where
    deadline = time.monotonic() + timeout
    try:
        if kind == "v1":
            want = "FROZEN" if frozen else "THAWED"
            state = os.path.join(d, "freezer.state")
            while True:
                _write(state, want)
                if _read(state).strip() == want:
                    return
                if time.monotonic() > deadline:
                    break
                time.sleep(0.001)
        else:
            _write(os.path.join(d, "cgroup.freeze"), "1" if frozen else "0")
            events = os.path.join(d, "cgroup.events")
            want_line = f"frozen {1 if frozen else 0}"
            while want_line not in _read(events).splitlines():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.001)
            else:
                return
    except OSError as exc:
        raise exec_error(
            f"{'freeze' if frozen else 'thaw'} {d}: {exc.strerror}", code="OCI510"
        ) from None
    if frozen:  # do not leave it half frozen
        set_frozen(dirs, False, timeout=1.0)
    raise exec_error(f"timed out {'freezing' if frozen else 'thawing'} {d}", code="OCI510")


def pids(dirs: list[str]) -> list[int]:
    """Every process in the container's cgroup (the first hierarchy that lists any)."""
    ordered = sorted(dirs, key=lambda d: ("/pids/" not in d, "/memory/" not in d))
    for d in ordered:
        try:
            text = _read(os.path.join(d, "cgroup.procs"))
        except OSError:
            continue
        found = sorted(int(x) for x in text.split())
        if found:
            return found
    return []


def signal_all(dirs: list[str], sig: int) -> int:
    """Send ``sig`` to every process in the cgroup (kill --all); returns how many got it."""
    sent = 0
    for pid in pids(dirs):
        try:
            os.kill(pid, sig)
            sent += 1
        except ProcessLookupError:
            pass
    return sent


def write_values(writes: list[tuple[str, str]]) -> None:
    """Apply (file, value) pairs in order; an error names the file and value."""
    for path, value in writes:
        try:
            _write(path, value)
        except OSError as exc:
            raise exec_error(
                message=f"write {value!r} to {path}: {exc.strerror}",
                code="OCI511",
            ) from None
