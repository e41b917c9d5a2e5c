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

import fcntl
import os
import socket
import struct
import termios

TIOCGPTN = 0x80045430
TIOCSPTLCK = 0x40045431


def connect(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def open_pty() -> tuple[int, int]:
    """(master, slave) from the devpts instance behind /dev/ptmx (the container's)."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
    n = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, struct.pack("I", 0)))[0]
    slave = os.open(f"/dev/pts/{n}", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    return master, slave


def attach_console(
    sock: socket.socket, width: int | None = None, height: int | None = None
) -> None:
    """Become a session leader with a new pty as controlling tty; hand the master over."""
    master, slave = open_pty()
    if width and height:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)
    socket.send_fds(sock, [b"/dev/ptmx"], [master])
    os.close(master)
    sock.close()


def receive_fd(sock: socket.socket) -> tuple[str, int]:
    """The other end (tests, ``recvtty``-like tools): (name, fd) of one SCM_RIGHTS message."""
    msg, fds, _, _ = socket.recv_fds(sock, 4096, 1)
    if not fds:
        raise OSError("no file descriptor received on the console socket")
    return msg.decode(), fds[0]
