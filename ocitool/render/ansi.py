"""Styled terminal text with plain ANSI escapes, for the diagnostic reports.

Why not rich here: the reports of ``check``, ``lint`` and ``validate`` need only
bold, dim and a few colours on whole spans, and importing rich is a large share of a
short command's start-up (bench/README.md, section "check"). rich stays where its
layout does real work: the plan tree, lint's progress bar, demo's table.

Colour follows the same rules as rich's: an explicit ``--color``/``--no-color`` wins;
else ``NO_COLOR`` (https://no-color.org, any non-empty value) turns colour off,
``FORCE_COLOR`` turns it on, a ``dumb`` or ``unknown`` ``TERM`` turns it off, and
otherwise colour is on only when the stream is a terminal. As with rich,
``NO_COLOR`` drops the colours and keeps bold and dim.
"""

from __future__ import annotations

import os
from typing import IO

# SGR parameters; a style is space-separated words, e.g. "bold red"
_SGR = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "cyan": "36",
}
_ATTRIBUTES = frozenset(("bold", "dim"))

# control characters (but tab and newline) in text from a config or a path are shown
# escaped, so a value cannot move the cursor or start an escape sequence of its own
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (9, 10)}


def printable(text: str) -> str:
    """``text`` with its control characters (tab and newline excepted) written as ``\\xNN``."""
    return text.translate(_CONTROLS)


class Painter:
    """Wraps text in the escapes of a style, or returns it as it is when styling is off."""

    def __init__(self, *, styles: bool, colours: bool) -> None:
        self.styles = styles
        self.colours = colours and styles

    def __call__(self, text: str, style: str) -> str:
        if not self.styles or not text:
            return text
        words = [w for w in style.split() if self.colours or w in _ATTRIBUTES]
        if not words:
            return text
        return f"\x1b[{';'.join(_SGR[w] for w in words)}m{text}\x1b[0m"


def painter(stream: IO[str], color: bool | None = None) -> Painter:
    """The painter for ``stream``: ``color`` True/False forces it, None decides as rich does."""
    if color is not None:
        return Painter(styles=color, colours=color)
    env = os.environ
    if env.get("FORCE_COLOR"):
        return Painter(styles=True, colours=not env.get("NO_COLOR"))
    if env.get("TERM", "") in ("dumb", "unknown"):
        return Painter(styles=False, colours=False)
    isatty = getattr(stream, "isatty", None)
    try:
        tty = bool(isatty and isatty())
    except (OSError, ValueError):
        tty = False
    return Painter(styles=tty, colours=not env.get("NO_COLOR"))
