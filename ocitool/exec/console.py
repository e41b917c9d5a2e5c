"""A pty for a process started by ``ocitool-runc exec --tty --console-socket``.

As runc does: the process opens ``/dev/ptmx`` of the container's own devpts
(so the pty belongs to the container), makes the slave its controlling
terminal and stdio, and sends the master fd over the console socket with
SCM_RIGHTS, the name ``/dev/ptmx`` as the message. The engine (conmon, the
containerd shim) holds the master from then on.

The socket is a host path, unreachable after ``setns`` into the container's
mount namespace: it is connected first (:func:`connect`) and the connected
fd is used inside.
"""

from __future__ import annotations

import os

from ocitool.exec.syscalls import Syscalls
from ocitool.exec.tty import become_controlling, open_pty
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    import socket  # imported where a socket is made: not by every exec that joins


def attach_console(
    sys: Syscalls, sock: socket.socket, width: int | None = None, height: int | None = None
) -> None:
    """Become a session leader with a new pty as controlling tty; hand the master over
    (``sock``: ``sys.unix_connect(console_socket)``, made by the runtime)."""
    master, slave = open_pty()
    become_controlling(slave, width, height)
    sys.send_fds(sock, b"/dev/ptmx", [master])
    os.close(master)
    sock.close()


def receive_fd(sock: socket.socket) -> tuple[str, int]:
    """The other end (tests, ``recvtty``-like tools): (name, fd) of one SCM_RIGHTS message."""
    import socket

    msg, fds, _, _ = socket.recv_fds(sock, 4096, 1)
    if not fds:
        raise OSError("no file descriptor received on the console socket")
    return msg.decode(), fds[0]
