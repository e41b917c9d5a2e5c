"""Fault injection: wrap a backend and make op k fail, to test rollback.

The first call made while op ``fail_op`` is being applied raises the
ExecError the kernel would give for ``errno``; an op that makes no call at
all fails when it ends. Because the wrapper is plain data it survives the
fork into the container init, so init-side ops can be failed too.
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Callable
from typing import Any

from ocitool.exec.recording import SYSCALL_METHODS
from ocitool.exec.syscalls import Syscalls, sys_error


def _faulty(name: str) -> Callable[..., Any]:
    def method(self: FaultSyscalls, *args: Any, **kwargs: Any) -> Any:
        if self.current == self.fail_op and not self.fired:
            self.fired = True
            raise sys_error(name, args, self.errno)
        return getattr(self.inner, name)(*args, **kwargs)

    method.__name__ = name
    return method


class FaultSyscalls(Syscalls):
    """Delegates to ``inner`` but fails op ``fail_op`` with ``errno``."""

    def __init__(self, inner: Syscalls, fail_op: int, errno: int = _errno.EIO) -> None:
        self.inner = inner
        self.fail_op = fail_op
        self.errno = errno
        self.current: int | None = None
        self.fired = False

    def begin_op(self, index: int, op: object) -> None:
        self.current = index
        self.inner.begin_op(index, op)

    def end_op(self, index: int, op: object) -> None:
        self.current = None
        if index == self.fail_op and not self.fired:
            self.fired = True
            raise sys_error(getattr(op, "name", "op"), (), self.errno)
        self.inner.end_op(index, op)


for _name in SYSCALL_METHODS:
    setattr(FaultSyscalls, _name, _faulty(_name))
