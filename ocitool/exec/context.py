"""What op appliers may know besides the op itself: the backend, ids, fds, the undo log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ocitool.exec.rollback import Rollback
from ocitool.exec.syscalls import Syscalls


@dataclass
class ExecContext:
    """Per-container execution state, shared by the runtime and (after clone) the init."""

    sys: Syscalls
    container_id: str = ""
    bundle: str = ""
    rootfs: str = ""
    state_json: str = ""
    pid: int = 0  # the init's pid, runtime side
    in_init: bool = False
    rollback: Rollback = None  # type: ignore[assignment]
    preserve_fds: int = 0
    exec_fifo: str | None = None
    console_socket: str | None = None
    detached: bool = False
    # init side: fds opened by earlier ops (namespace files, the rootfs, ...)
    fds: dict[str, int] = field(default_factory=dict)
    # filled by ops for later ops (e.g. the exec op reads the resolved argv[0])
    scratch: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rollback is None:
            self.rollback = Rollback(self.sys)
