"""A test double: records every call (grouped by op) and returns scripted results.

Nothing touches the kernel, so appliers can be tested without root: the test
asserts the exact calls a plan produces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocitool.exec.syscalls import Syscalls


@dataclass
class Call:
    name: str
    args: tuple[Any, ...]
    op_index: int | None


_DEFAULTS: dict[str, Any] = {
    "open": 100,
    "openat2": 101,
    "open_tree": 102,
    "pidfd_open": 103,
    "pipe2": (104, 105),
    "read": b"",
    "read_file": b"",
    "capget": (0, 0, 0),
    "prctl": 0,
    "seccomp": 0,
    "personality": 0,
    "umask": 0o022,
    "fork": 1000,  # the parent's view: the child's pid
    "clone": 1000,
    "waitpid": lambda pid, options=0: (pid if pid > 0 else 0, 0),
    "statvfs_flags": 0,
    "listdir": [],
    "subdirs": [],
    "recv_fds": (b"", []),
}


def _recorder(name: str) -> Callable[..., Any]:
    def method(self: RecordingSyscalls, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            args = (*args, kwargs)
        return self._record(name, args)

    method.__name__ = name
    return method


@dataclass
class RecordingSyscalls(Syscalls):
    """Records calls in ``calls``; ``results[name]`` overrides the return value
    (a callable gets the args; an exception instance is raised)."""

    calls: list[Call] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    current: int | None = None

    def begin_op(self, index: int, op: object) -> None:
        self.current = index

    def end_op(self, index: int, op: object) -> None:
        self.current = None

    def _record(self, name: str, args: tuple[Any, ...]) -> Any:
        self.calls.append(Call(name, args, self.current))
        result = self.results.get(name, _DEFAULTS.get(name))
        if isinstance(result, BaseException):
            raise result
        if callable(result):
            return result(*args)
        return result

    def names(self) -> list[str]:
        return [c.name for c in self.calls]


SYSCALL_METHODS = [
    name
    for name, value in vars(Syscalls).items()
    if callable(value) and not name.startswith("_") and name not in ("begin_op", "end_op")
]
for _name in SYSCALL_METHODS:
    setattr(RecordingSyscalls, _name, _recorder(_name))
