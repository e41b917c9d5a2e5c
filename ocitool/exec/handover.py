"""The messages the runtime and the container init exchange (see :mod:`ocitool.exec.process`).

One message per line on a close-on-exec pipe, each shorter than PIPE_BUF so
its write is atomic; a read may carry several messages or part of one, and
:class:`Channel` splits them. On the wire a message is a one-letter tag and
its fields; here each kind is a class, so the engine matches on types, not
on ``msg[:1]``; the exec joiner (exec/join.py) reports with ``Forked``/``Failed`` too. Plain classes with ``__slots__``: no dataclasses or enum on
the container-start path.

runtime -> init: :class:`Go`, :class:`Start`, :class:`Detach`.
init -> runtime: :class:`Done`, :class:`Ready`, :class:`Cleared`,
:class:`Forked`, :class:`Failed`; :class:`Closed` is end-of-file (after
``execve`` succeeded, the report pipe is closed by close-on-exec).
"""

from __future__ import annotations

import os


class Message:
    __slots__ = ()
    tag = b""

    def encode(self) -> bytes:
        return self.tag


class _Indexed(Message):
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def encode(self) -> bytes:
        return self.tag + b"%d" % self.index


class Go(_Indexed):
    """runtime -> init: go on from op ``index``."""

    __slots__ = ()
    tag = b"G"


class Start(Message):
    """runtime -> init: start (go on to the exec phase)."""

    __slots__ = ()
    tag = b"S"


class Detach(Message):
    """runtime -> init: the state is saved (detached create); stop depending on me."""

    __slots__ = ()
    tag = b"K"


class Done(_Indexed):
    """init -> runtime: done up to op ``index``; the runtime's turn."""

    __slots__ = ()
    tag = b"D"


class Ready(_Indexed):
    """init -> runtime: created (``wait_start`` reached); ``index`` is the next op."""

    __slots__ = ()
    tag = b"R"


class Cleared(Message):
    """init -> runtime, after :class:`Detach`: the parent death signal is cleared."""

    __slots__ = ()
    tag = b"C"


class Forked(Message):
    """init -> runtime: the init forked for a pid namespace; ``pid`` is the container."""

    __slots__ = ("pid",)
    tag = b"P"

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def encode(self) -> bytes:
        return self.tag + b"%d" % self.pid


class Failed(Message):
    """init -> runtime: op ``index`` failed with ``errno`` (0: none) and ``text``."""

    __slots__ = ("index", "errno", "text")
    tag = b"E"

    def __init__(self, index: int, errno: int, text: str) -> None:
        self.index, self.errno, self.text = index, errno, " ".join(text.split())

    def encode(self) -> bytes:
        return self.tag + f"{self.index} {self.errno} {self.text}".encode()[:3999]


class Closed(Message):
    """End-of-file: the peer closed its end (exec'd, or died)."""

    __slots__ = ()


class Garbled(Message):
    """A line that is no message of this protocol (shown in the error that follows)."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw


_SIMPLE: dict[bytes, Message] = {m.tag: m for m in (Start(), Detach(), Cleared())}
_INDEXED: dict[bytes, type[_Indexed]] = {c.tag: c for c in (Go, Done, Ready)}


def decode(line: bytes) -> Message:
    """The message of one line (without its newline)."""
    if not line:
        return Closed()
    tag, rest = line[:1], line[1:]
    simple = _SIMPLE.get(line)
    if simple is not None:
        return simple
    if tag in _INDEXED and rest.isdigit():
        return _INDEXED[tag](int(rest))
    if tag == Forked.tag and rest.isdigit():
        return Forked(int(rest))
    if tag == Failed.tag:
        head, _, text = rest.decode("utf-8", "replace").partition(" ")
        code, _, text = text.partition(" ")
        if head.lstrip("-").isdigit() and code.isdigit():
            return Failed(int(head), int(code), text)
    return Garbled(line)


class Channel:
    """One end of a pipe: send messages, or receive them one at a time."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = b""

    def send(self, msg: Message) -> None:
        os.write(self.fd, msg.encode() + b"\n")

    def recv(self) -> Message:
        """The next message; :class:`Closed` at end-of-file (a torn last line too: the
        writer died mid-way)."""
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line, self._buf = self._buf[:end], self._buf[end + 1 :]
                return decode(line)
            chunk = os.read(self.fd, 4096)
            if not chunk:
                self._buf = b""
                return Closed()
            self._buf += chunk
