"""The container's terminal (process.terminal): a pty as controlling tty and stdio.

Two sources for the pty:

* a console socket (``ocitool-runc --console-socket``): the init opens
  ``/dev/ptmx`` of the container's own devpts and sends the master fd over
  the socket with SCM_RIGHTS, as runc does;
* foreground ``ocitool exec`` with a tty on stdin: the runtime made a pty
  (``ctx.fds["pty_slave"]``) and relays between it and the user's terminal.

Without either, the container keeps the runtime's stdio.
"""

from __future__ import annotations

import fcntl
import os
import struct
import termios

from ocitool.exec.context import ExecContext

TIOCGPTN = 0x80045430
TIOCSPTLCK = 0x40045431


def _become_controlling(slave: int, width: int | None, height: int | None) -> None:
    if width and height:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def setup_console(ctx: ExecContext, width: int | None, height: int | None) -> None:
    if ctx.console_socket:
        master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
        n = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, struct.pack("I", 0)))[0]
        slave = os.open(f"/dev/pts/{n}", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        _become_controlling(slave, width, height)
        # connected by the runtime before the clone: the socket's path is a host
        # path, out of reach after pivot_root
        sock = ctx.scratch.get("listeners", {}).get("console")
        if sock is None:
            send_fd(ctx.console_socket, master, "/dev/ptmx")
        else:
            import socket

            socket.send_fds(sock, [b"/dev/ptmx"], [master])
        os.close(master)
        return
    slave = ctx.fds.get("pty_slave", -1)
    if slave >= 0:
        _become_controlling(slave, width, height)
        ctx.fds.pop("pty_slave", None)


def send_fd(socket_path: str, fd: int, name: str) -> None:
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(socket_path)
        socket.send_fds(sock, [name.encode()], [fd])


class HostPty:
    """Foreground terminal: a host pty whose slave becomes the container's tty.

    The runtime relays bytes between its own terminal (put in raw mode) and the
    pty master until the container side closes, and copies window size changes.
    """

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self._copy_winsize()

    def _copy_winsize(self) -> None:
        try:
            size = fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, size)
        except OSError:
            pass

    def close_slave(self) -> None:
        if self.slave >= 0:
            os.close(self.slave)
            self.slave = -1

    def pump(self) -> None:
        """Relay until the container's side of the pty is gone."""
        import select
        import signal
        import tty

        self.close_slave()
        saved = None
        try:
            saved = termios.tcgetattr(0)
            tty.setraw(0)
        except termios.error:
            pass
        old = signal.signal(signal.SIGWINCH, lambda *_: self._copy_winsize())
        fds = [0, self.master]
        try:
            while True:
                try:
                    ready, _, _ = select.select(fds, [], [])
                except InterruptedError:
                    continue
                if self.master in ready:
                    try:
                        data = os.read(self.master, 65536)
                    except OSError:
                        data = b""
                    if not data:
                        return
                    os.write(1, data)
                if 0 in ready:
                    data = os.read(0, 65536)
                    if not data:
                        fds.remove(0)
                    else:
                        os.write(self.master, data)
        finally:
            signal.signal(signal.SIGWINCH, old)
            if saved is not None:
                termios.tcsetattr(0, termios.TCSADRAIN, saved)
            os.close(self.master)
