"""Paths as reporters show them: relative to the working directory when inside it."""

from __future__ import annotations

import os


def display_path(path: str, base: str | None = None) -> str:
    """``path`` relative to ``base`` (default: cwd) with forward slashes, when it lies inside."""
    if path in ("-", "<stdin>"):
        return path
    base = base or os.getcwd()
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, base)
    if rel.startswith(".."):
        return absolute.replace(os.sep, "/")
    return rel.replace(os.sep, "/")
