"""What op appliers may know besides the op itself: the backend, ids, fds, the undo log."""

from __future__ import annotations

from ocitool.exec.rollback import Rollback
from ocitool.exec.syscalls import TYPE_CHECKING, Syscalls

if TYPE_CHECKING:
    from typing import Any

    from ocitool.exec.resolve import RootResolver


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
        # What earlier ops (or the engine) learnt for later ones:
        # cached root resolvers, by root ("/" = the current mount namespace's)
        self.resolvers: dict[str, RootResolver] = {}
        # sockets connected before the clone (console, seccomp listenerPath), by path
        self.listeners: dict[str, Any] = {}
        # the init is in a new user namespace (its /proc/self files are its own)
        self.userns = False
        # (st_dev, st_ino) of the interpreter, so execve never runs the host's binary
        self.self_exe: tuple[int, int] | None = None
        # the init's pid as the host sees it (for the seccomp listener's state)
        self.host_pid = 0
        # the executable the create-time check resolved, for execve to reuse
        self.exec_path: str | None = None
        # id-mapped trees the runtime made (idmap_tree ops), by name: fds the init inherits
        self.idmap_trees: dict[str, int] = {}
        # whether such a tree's source is a directory, by source path
        self.source_is_dir: dict[str, bool] = {}
        # the init's write end of the exec fifo, held open until execve closes it
        self.exec_fifo_writer = -1
        # the State being created (hooks that run before it has a pid get the init's)
        self.state = state
