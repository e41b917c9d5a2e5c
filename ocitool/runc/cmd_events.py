"""``events``: a container's statistics and OOM notifications, one JSON object per line.

As runc's events command: ``--stats`` prints one ``{"type":"stats","id":ID,"data":...}``
and exits; otherwise a stats event every ``--interval`` (a Go duration, 5s by
default) and an ``{"type":"oom","id":ID}`` event each time the kernel's OOM killer
acts in the container's memory cgroup, until the container stops.

How OOM is noticed (no polling of counters between ticks):

- cgroup v1 (cgroup-v1/memory.rst, "Memory thresholds"/"OOM control"): an
  eventfd registered through ``cgroup.event_control`` with the fd of
  ``memory.oom_control`` is signalled at each OOM;
- cgroup v2 (cgroup-v2.rst): ``memory.events`` raises a file modified event
  (poll ``POLLPRI``) when it changes; an ``oom_kill`` count larger than the
  last one read is an OOM.
"""

from __future__ import annotations

import json
import os
import re
import select
import sys
import time

from ocitool.runc import container as C
from ocitool.runc.args import BOOL, VALUE, Flag, parse
from ocitool.runc.common import Globals, exactly_one, live_status, load_state
from ocitool.runc.errs import state_error, usage_error
from ocitool.runc.stats import hierarchies, is_v2, stats

EVENTS_FLAGS = (
    Flag(("interval",), VALUE, "5s", help="the stats collection interval (Go duration)"),
    Flag(("stats",), BOOL, help="print the container's stats once, then exit"),
)

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration ("5s", "1m30s", "250ms", "-1s") in seconds."""
    sign, body = (-1.0, text[1:]) if text.startswith("-") else (1.0, text.lstrip("+"))
    if body == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(body):
        m = _PART.match(body, pos)
        if m is None:
            raise usage_error(message=f'time: invalid duration "{text}"', code="OCI010")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not body:
        raise usage_error(message=f'time: invalid duration "{text}"', code="OCI010")
    return sign * total


def event(kind: str, cid: str, data: object = None) -> str:
    """One line as Go's json.Encoder writes runc's types.Event (data omitted when empty)."""
    obj: dict[str, object] = {"type": kind, "id": cid}
    if data is not None:
        obj["data"] = data
    return json.dumps(obj, separators=(",", ":")) + "\n"


class OomWatch:
    """An fd that becomes readable (v1) or raises POLLPRI (v2) on OOM; see the module doc."""

    def __init__(self, dirs: list[str]) -> None:
        self.fds: list[int] = []
        self.v2 = is_v2(dirs)
        self.mask = select.POLLPRI | select.POLLERR if self.v2 else select.POLLIN
        self.events_fd = -1
        self.oom_kills = 0
        self.poll = select.poll()
        memory = dirs[0] if self.v2 else hierarchies(dirs).get("memory")
        if memory is None:
            return
        self.memory = memory
        if self.v2:
            self.events_fd = os.open(os.path.join(memory, "memory.events"), os.O_RDONLY)
            self.fds.append(self.events_fd)
            self.oom_kills = self._oom_kills()
            self.poll.register(self.events_fd, self.mask)
            return
        efd = os.eventfd(0, os.EFD_CLOEXEC)
        self.fds.append(efd)
        control = os.open(os.path.join(memory, "memory.oom_control"), os.O_RDONLY | os.O_CLOEXEC)
        self.fds.append(control)
        with open(os.path.join(memory, "cgroup.event_control"), "w") as f:
            f.write(f"{efd} {control}")
        self.efd = efd
        self.poll.register(efd, self.mask)

    def _oom_kills(self) -> int:
        text = os.pread(self.events_fd, 4096, 0).decode()
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def wait(self, timeout: float) -> int:
        """OOM events seen within ``timeout`` seconds (returns early on the first)."""
        if not self.fds:
            time.sleep(max(timeout, 0))
            return 0
        if not self.poll.poll(max(int(timeout * 1000), 0)):
            return 0
        if self.v2:
            now = self._oom_kills()
            seen, self.oom_kills = max(now - self.oom_kills, 0), now
            return seen
        count = int.from_bytes(os.read(self.efd, 8), sys.byteorder)
        # the eventfd also fires when the cgroup goes away: that is no OOM
        return count if os.path.exists(os.path.join(self.memory, "memory.oom_control")) else 0

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)


def cmd_events(g: Globals, argv: list[str]) -> int:
    p = parse(argv, EVENTS_FLAGS)
    cid = exactly_one("events", p.args)
    interval = parse_duration(str(p.value("interval") or "5s"))
    if interval <= 0:
        raise usage_error(message="duration interval must be greater than 0", code="OCI010")
    st = load_state(g.store(), cid)
    if live_status(st) == "stopped":
        raise state_error(message=f"container with id {cid} is not running", code="OCI612")
    dirs = C.cgroup_dirs(st)
    out = sys.stdout
    if p.on("stats"):
        out.write(event("stats", cid, stats(dirs)))
        return 0
    watch = OomWatch(dirs)
    try:
        due = time.monotonic() + interval
        while True:
            for _ in range(watch.wait(due - time.monotonic())):
                out.write(event("oom", cid))
            if live_status(st) == "stopped":
                for _ in range(watch.wait(0)):
                    out.write(event("oom", cid))
                out.flush()
                return 0
            if time.monotonic() >= due:
                out.write(event("stats", cid, stats(dirs)))
                due += interval
            out.flush()
    finally:
        watch.close()
