"""Container state store: one directory per container under a root dir.

``<root>/<id>/state.json`` holds the runtime-spec state (ociVersion, id,
status, pid, bundle, annotations), runc's extra fields (rootfs, created,
owner) and ours under ``ocitool`` (the undo log, the init's start time for
pid-reuse detection, the exec fifo). Writes are atomic (temp file + rename)
and every read-modify-write holds an flock on the container directory, so
two runtimes working on one root cannot corrupt each other's state.
"""

from __future__ import annotations

import errno as _errno
import os

from ocitool.exec.syscalls import TYPE_CHECKING
from ocitool.ids import check_id, id_problem
from ocitool.inputs import NO_SUCH_FILE, read_input
from ocitool.jsonlite import dumps, loads

if TYPE_CHECKING:
    from typing import Any

    from ocitool.errors import RuntimeStateError

DEFAULT_ROOT = "/run/ocitool"
OCI_VERSION = "1.3.0"


def _valid_id(cid: str) -> bool:
    return id_problem(cid) is None


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


STATE_IO = "OCI620"


def io_error(action: str, path: str, exc: OSError) -> RuntimeStateError:
    """The state root could not be read or written (runc's wording: ``mkdir PATH: ...``)."""
    reason = (exc.strerror or "I/O error").lower()
    return state_error(
        message=f"{action} {path}: {reason}",
        code=STATE_IO,
        path=path,
        hint="check --root: it must be a writable directory on a file system with free space",
    )


def state_error(message: str, code: str, **extra: Any) -> RuntimeStateError:
    from ocitool.errors import RuntimeStateError

    return RuntimeStateError(message=message, code=code, **extra)


class State:
    """One container's state (runtime-spec state.json + runc's and our fields)."""

    def __init__(
        self,
        id: str,
        bundle: str,
        status: str = "creating",
        pid: int = 0,
        annotations: dict[str, str] | None = None,
        rootfs: str = "",
        created: str = "",
        owner: str = "",
        pid_start: int | None = None,
        rollback: list[list[Any]] | None = None,
        exec_fifo: str = "",
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.bundle = bundle
        self.status = status
        self.pid = pid
        self.annotations = annotations if annotations is not None else {}
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.pid_start = pid_start
        self.rollback = rollback if rollback is not None else []
        self.exec_fifo = exec_fifo
        self.extra = extra if extra is not None else {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, State) and self.to_disk() == other.to_disk()

    def __repr__(self) -> str:
        return f"State({self.to_disk()!r})"

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


LOCK_NAME = "lock"


class StateStore:
    """The containers under one root directory."""

    def __init__(self, root: str = DEFAULT_ROOT) -> None:
        self.root = root

    def dir(self, cid: str) -> str:
        check_id(cid)
        return os.path.join(self.root, cid)

    def reserve(self, cid: str) -> str:
        """Create the container's directory; fails if the id is taken."""
        path = self.dir(cid)
        try:
            os.makedirs(self.root, mode=0o711, exist_ok=True)
        except OSError as exc:
            raise io_error("mkdir", self.root, exc) from None
        try:
            os.mkdir(path, 0o711)
        except FileExistsError:
            raise state_error(
                message=f"container with id {cid!r} already exists",
                code="OCI602",
                hint="choose another --id or delete the old container",
            ) from None
        except OSError as exc:
            raise io_error("mkdir", path, exc) from None
        lock = os.path.join(path, LOCK_NAME)
        try:
            os.close(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
        except OSError as exc:
            os.rmdir(path)
            raise io_error("open", lock, exc) from None
        return path

    def lock(self, cid: str) -> int:
        """Take the container's exclusive lock; returns the fd to pass to :meth:`unlock`.

        A POSIX record lock on the ``lock`` file that :meth:`reserve` made
        (``lockf``, in the builtin posix module): ``flock`` would need the fcntl
        extension, ~0.5 ms of every start, kill and delete. The file is never
        created here, so a lock cannot race with :meth:`remove` (a waiter that
        gets the lock of a removed container then finds no state). Directories
        made before the lock file existed are locked with flock, as they were.
        """
        try:
            fd = os.open(os.path.join(self.dir(cid), LOCK_NAME), os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return self._lock_dir(cid)
        os.lockf(fd, os.F_LOCK, 0)
        return fd

    def _lock_dir(self, cid: str) -> int:
        try:
            fd = os.open(self.dir(cid), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise self.missing(cid) from None
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    @staticmethod
    def unlock(fd: int) -> None:
        os.close(fd)

    @staticmethod
    def missing(cid: str) -> RuntimeStateError:
        return state_error(
            message=f"container {cid!r} does not exist",
            code="OCI603",
            hint="see 'ocitool-runc list'",
        )

    def save(self, state: State) -> None:
        path = os.path.join(self.dir(state.id), "state.json")
        tmp = f"{path}.{os.getpid()}.tmp"
        data = dumps(state.to_disk()).encode()
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                if os.write(fd, data) != len(data):
                    raise OSError(_errno.ENOSPC, "No space left on device")
            finally:
                os.close(fd)
            os.rename(tmp, path)
        except OSError as exc:  # ENOSPC, EROFS, EACCES on the state root
            try:  # noqa: SIM105 - contextlib is an import on the hot path
                os.unlink(tmp)
            except OSError:
                pass
            raise io_error("write", path, exc) from None

    def parse(self, raw: bytes) -> Any:
        """The JSON value of a state file."""
        return loads(raw.decode("utf-8"))

    def load(self, cid: str) -> State:
        path = os.path.join(self.dir(cid), "state.json")
        try:
            raw = read_input(path, "state file")
        except Exception as err:
            if getattr(err, "code", None) == NO_SUCH_FILE:
                raise self.missing(cid) from None
            raise
        try:
            return State.from_disk(self.parse(raw))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise state_error(
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
        try:  # noqa: SIM105
            os.rmdir(path)
        except FileNotFoundError:
            pass

    def ids(self) -> list[str]:
        try:
            # dot-names are ours (e.g. ".plans", the lowered-plan cache), not containers
            return sorted(n for n in os.listdir(self.root) if _valid_id(n) and n[0] != ".")
        except FileNotFoundError:
            return []
        except OSError as exc:  # --root names a file, or an unreadable directory
            raise io_error("open", self.root, exc) from None
