"""Fixtures of the unit tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A fresh 0755 directory in /tmp: pytest's own tmp_path lies below a 0700 directory,
    which a user namespace's root could not enter."""
    path = Path(tempfile.mkdtemp(prefix="ocitool-check-unit-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
