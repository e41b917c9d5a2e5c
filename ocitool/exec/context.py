"""What op appliers may know besides the op itself: the backend, ids, fds, the undo log."""

from __future__ import annotations

from ocitool.exec.rollback import Rollback
from ocitool.exec.syscalls import TYPE_CHECKING, Syscalls

if TYPE_CHECKING:
    from typing import Any


class ExecContext:
    """Per-container execution state, shared by the runtime and (after clone) the init.

    A plain class, not a dataclass: importing dataclasses costs milliseconds on
    every container start.
    """

    def __init__(
        self,
        sys: Syscalls,
        container_id: str = "",
        bundle: str = "",
        rootfs: str = "",
        state_json: str = "",
        pid: int = 0,
        in_init: bool = False,
        rollback: Rollback | None = None,
        preserve_fds: int = 0,
        exec_fifo: str | None = None,
        console_socket: str | None = None,
        detached: bool = False,
        fds: dict[str, int] | None = None,
        scratch: dict[str, Any] | None = None,
        state: Any = None,
    ) -> None:
        self.sys = sys
        self.container_id = container_id
        self.bundle = bundle
        self.rootfs = rootfs
        self.state_json = state_json
        self.pid = pid  # the init's pid, runtime side
        self.in_init = in_init
        self.rollback = rollback if rollback is not None else Rollback(sys)
        self.preserve_fds = preserve_fds
        self.exec_fifo = exec_fifo
        self.console_socket = console_socket
        self.detached = detached
        # init side: fds opened by earlier ops (namespace files, the pty slave, ...)
        self.fds = fds if fds is not None else {}
        # filled by ops for later ops (resolvers, the interpreter's identity, ...)
        self.scratch = scratch if scratch is not None else {}
        # the State being created (hooks that run before it has a pid get the init's)
        self.state = state
