"""Container state store: one directory per container under a root dir.

``<root>/<id>/state.json`` holds the runtime-spec state (ociVersion, id,
status, pid, bundle, annotations), runc's extra fields (rootfs, created,
owner) and ours under ``ocitool`` (the undo log, the init's start time for
pid-reuse detection, the exec fifo). Writes are atomic (temp file + rename)
and every read-modify-write holds an flock on the container directory, so
two runtimes working on one root cannot corrupt each other's state.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import fcntl
import os
from dataclasses import dataclass, field
from typing import Any

from ocitool.errors import RuntimeStateError

DEFAULT_ROOT = "/run/ocitool"
OCI_VERSION = "1.3.0"


def _valid_id(cid: str) -> bool:
    return bool(cid) and cid not in (".", "..") and "/" not in cid and "\0" not in cid


def proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks); None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2 :].split()
    if rest[0] == b"Z" or rest[0] == b"X":
        return None  # a zombie has finished running
    return int(rest[19])


@dataclass
class State:
    id: str
    bundle: str
    status: str = "creating"
    pid: int = 0
    annotations: dict[str, str] = field(default_factory=dict)
    rootfs: str = ""
    created: str = ""
    owner: str = ""
    pid_start: int | None = None
    rollback: list[list[Any]] = field(default_factory=list)
    exec_fifo: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ociVersion": OCI_VERSION,
            "id": self.id,
            "status": self.status,
            "bundle": self.bundle,
            "annotations": dict(self.annotations),
            "rootfs": self.rootfs,
            "created": self.created,
            "owner": self.owner,
        }
        if self.status in ("created", "running") and self.pid:
            data["pid"] = self.pid
        return data

    def to_disk(self) -> dict[str, Any]:
        data = self.to_json()
        data["pid"] = self.pid
        data["ocitool"] = {
            "pid_start": self.pid_start,
            "rollback": self.rollback,
            "exec_fifo": self.exec_fifo,
            "extra": self.extra,
        }
        return data

    @classmethod
    def from_disk(cls, data: dict[str, Any]) -> State:
        own = data.get("ocitool") or {}
        return cls(
            id=data["id"],
            bundle=data.get("bundle", ""),
            status=data.get("status", "creating"),
            pid=int(data.get("pid") or 0),
            annotations=dict(data.get("annotations") or {}),
            rootfs=data.get("rootfs", ""),
            created=data.get("created", ""),
            owner=data.get("owner", ""),
            pid_start=own.get("pid_start"),
            rollback=list(own.get("rollback") or []),
            exec_fifo=own.get("exec_fifo", ""),
            extra=dict(own.get("extra") or {}),
        )

    def refresh_status(self) -> str:
        """The live status: a created/running container whose init is gone is stopped."""
        if self.status in ("created", "running", "creating") and self.pid:
            start = proc_start_time(self.pid)
            if start is None or (self.pid_start is not None and start != self.pid_start):
                self.status = "stopped"
            elif self.status == "created" and self.exec_fifo and not os.path.exists(self.exec_fifo):
                self.status = "running"
        return self.status


class StateStore:
    """The containers under one root directory."""

    def __init__(self, root: str = DEFAULT_ROOT) -> None:
        self.root = root

    def dir(self, cid: str) -> str:
        if not _valid_id(cid):
            raise RuntimeStateError(
                message=f"invalid container id {cid!r}",
                code="OCI601",
                hint="ids may not be empty, '.', '..' or contain '/'",
            )
        return os.path.join(self.root, cid)

    def reserve(self, cid: str) -> str:
        """Create the container's directory; fails if the id is taken."""
        path = self.dir(cid)
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        try:
            os.mkdir(path, 0o711)
        except FileExistsError:
            raise RuntimeStateError(
                message=f"container with id {cid!r} already exists",
                code="OCI602",
                hint="choose another --id or delete the old container",
            ) from None
        return path

    def lock(self, cid: str) -> int:
        """Take the container's exclusive lock; returns the fd to pass to :meth:`unlock`."""
        try:
            fd = os.open(self.dir(cid), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise self.missing(cid) from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    @staticmethod
    def unlock(fd: int) -> None:
        os.close(fd)

    @staticmethod
    def missing(cid: str) -> RuntimeStateError:
        return RuntimeStateError(
            message=f"container {cid!r} does not exist",
            code="OCI603",
            hint="see 'ocitool-runc list'",
        )

    def save(self, state: State) -> None:
        import json

        path = os.path.join(self.dir(state.id), "state.json")
        tmp = f"{path}.{os.getpid()}.tmp"
        data = json.dumps(state.to_disk(), separators=(",", ":"))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data.encode())
        finally:
            os.close(fd)
        os.rename(tmp, path)

    def load(self, cid: str) -> State:
        import json

        path = os.path.join(self.dir(cid), "state.json")
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise self.missing(cid) from None
        try:
            return State.from_disk(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            raise RuntimeStateError(
                message=f"state of container {cid!r} is unreadable: {exc}",
                code="OCI604",
                path=path,
            ) from None

    def remove(self, cid: str) -> None:
        path = self.dir(cid)
        try:
            names = os.listdir(path)
        except FileNotFoundError:
            return
        for name in names:
            try:
                os.unlink(os.path.join(path, name))
            except OSError as exc:
                if exc.errno != _errno.ENOENT:
                    raise
        with contextlib.suppress(FileNotFoundError):
            os.rmdir(path)

    def ids(self) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.root) if _valid_id(n))
        except FileNotFoundError:
            return []
