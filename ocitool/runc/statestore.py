"""The executor's StateStore, reading state.json without importing ``json``.

Every ``start``, ``kill``, ``state`` and ``delete`` loads one state file;
:mod:`ocitool.runc.jsonlite` parses the files our own ``dumps`` wrote at a
fraction of json's import cost, with ``json`` as the fallback for anything
it does not accept. Writes, locking and layout are StateStore's.
"""

from __future__ import annotations

from ocitool.exec.state import StateStore
from ocitool.exec.syscalls import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


class RuncStateStore(StateStore):
    def parse(self, raw: bytes) -> Any:
        from ocitool.runc.jsonlite import loads

        try:
            return loads(raw.decode())
        except ValueError:
            return super().parse(raw)  # json decides (and words the error)
