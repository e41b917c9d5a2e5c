"""The container's terminal (process.terminal): a pty as controlling tty and stdio.

The pty always comes from the container's own devpts (``/dev/ptmx`` opened
inside the container's mount namespace, after ``/dev/pts`` is mounted), as
runc does, so ``tty``/ttyname() in the container finds ``/dev/pts/N``. Who
gets the master:

* a console socket (``ocitool-runc --console-socket``): the init sends the
  master fd over it with SCM_RIGHTS (message ``/dev/ptmx``);
* foreground ``ocitool exec`` / ``ocitool-runc run``/``exec -t`` with a tty
  on stdin: the runtime made a socketpair (:class:`HostPty`); the init (or
  the joined process) sends the master back over it and the runtime relays
  between it and the user's terminal.

Without either, the container keeps the runtime's stdio.
"""

from __future__ import annotations

import fcntl
import os
import stat
import struct
import termios

from ocitool.exec.context import ExecContext
from ocitool.exec.syscalls import Syscalls

TIOCGPTN = 0x80045430
TIOCSPTLCK = 0x40045431


def open_pty() -> tuple[int, int]:
    """(master, slave) from the devpts behind /dev/ptmx of the current mount namespace."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
        n = struct.unpack("I", fcntl.ioctl(master, TIOCGPTN, struct.pack("I", 0)))[0]
        slave = os.open(f"/dev/pts/{n}", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except BaseException:
        os.close(master)
        raise
    return master, slave


def become_controlling(slave: int, width: int | None, height: int | None) -> None:
    """Make the pty ``slave`` our controlling terminal and stdio (sized when known)."""
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
        master, slave = open_pty()
        become_controlling(slave, width, height)
        # connected by the runtime before the clone: the socket's path is a host
        # path, out of reach after pivot_root
        sock = ctx.listeners.get("console")
        if sock is None:
            sock = ctx.sys.unix_connect(ctx.console_socket)
        try:
            ctx.sys.send_fds(sock, b"/dev/ptmx", [master])
        finally:
            sock.close()
            os.close(master)
        return
    fd = ctx.fds.pop("pty_slave", -1)
    if fd >= 0:
        take_terminal(ctx.sys, fd, width, height)


def take_terminal(
    sys: Syscalls, fd: int, width: int | None = None, height: int | None = None
) -> None:
    """Foreground terminal, in the container: ``fd`` is the runtime's :class:`HostPty`
    socket -- make a pty here, keep the slave, send the master back -- or (older
    callers) a pty slave to use as it is."""
    if not stat.S_ISSOCK(sys.fstat(fd).st_mode):
        become_controlling(fd, width, height)
        return
    import socket

    master, slave = open_pty()
    try:
        become_controlling(slave, width, height)
        with socket.socket(fileno=fd) as sock:
            sys.send_fds(sock, b"/dev/ptmx", [master])
    finally:
        os.close(master)


class HostPty:
    """Foreground terminal: the runtime's end of a pty made inside the container.

    ``slave`` is the container side's end of a socketpair (kept under that name
    for callers, which hand it to the init as ``ctx.fds["pty_slave"]``): the
    container opens a pty in its own devpts and sends the master back on it.
    The runtime then relays bytes between its own terminal (put in raw mode)
    and that master until the container side closes, and copies window size
    changes.
    """

    def __init__(self) -> None:
        import socket

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock = ours
        self.slave = theirs.detach()  # inherited by the clone / join helper (no exec)
        self.master = -1

    def _copy_winsize(self) -> None:
        """The user's terminal size, when it has one (0x0 keeps process.consoleSize)."""
        try:
            size = fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8)
            if size[:4] != b"\0\0\0\0":
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, size)
        except OSError:
            pass

    def close_slave(self) -> None:
        if self.slave >= 0:
            os.close(self.slave)
            self.slave = -1

    def receive(self) -> bool:
        """Take the master the container sent (False if it never came)."""
        if self.master >= 0:
            return True
        import socket

        self.close_slave()
        try:
            _, fds, _, _ = socket.recv_fds(self._sock, 64, 1)
        except OSError:
            fds = []
        finally:
            self._sock.close()
        if not fds:
            return False
        self.master = fds[0]
        os.set_inheritable(self.master, False)
        self._copy_winsize()
        return True

    def pump(self) -> None:
        """Relay until the container's side of the pty is gone."""
        import select
        import signal
        import tty

        if not self.receive():
            return
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
