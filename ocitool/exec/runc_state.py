"""The executor's StateStore, reading state.json without importing ``json``.

Every ``start``, ``kill``, ``state`` and ``delete`` loads one state file;
:mod:`ocitool.runc.jsonlite` parses the files our own ``dumps`` wrote at a
fraction of json's import cost, with ``json`` as the fallback for anything
it does not accept. Writes, locking and layout are StateStore's.
"""

from __future__ import annotations

import os

from ocitool.exec.state import State, StateStore, state_error


class RuncStateStore(StateStore):
    def load(self, cid: str) -> State:
        path = os.path.join(self.dir(cid), "state.json")
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise self.missing(cid) from None
        try:
            from ocitool.runc.jsonlite import loads

            data = loads(raw.decode())
        except ValueError:
            return super().load(cid)  # json decides (and words the error)
        try:
            return State.from_disk(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise state_error(
                message=f"state of container {cid!r} is unreadable: {exc}",
                code="OCI604",
                path=path,
            ) from None
