"""Fixtures of the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers_exec.bundle import open_dir


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A fresh 0755 directory in /tmp: pytest's own tmp_path lies below a 0700 directory,
    which a user namespace's root could not enter."""
    with open_dir("ocitool-check-unit-") as path:
        yield path
