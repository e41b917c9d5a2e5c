"""Locate files shipped with ocitool (schemas, grammars, profiles).

They live at the top of the source tree (as DESIGN.md lays out) and are
reached from the package through the ``ocitool/data`` symlinks, which
setuptools resolves into real files when it builds a wheel.
"""

from __future__ import annotations

from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"
_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def resource_path(kind: str, name: str) -> Path:
    """Path of a shipped file, e.g. ``resource_path("schemas", "config.schema.json")``."""
    for base in (_DATA / kind, _SOURCE_ROOT / kind):
        candidate = base / name
        if candidate.exists():
            return candidate
    return _DATA / kind / name
