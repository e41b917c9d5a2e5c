"""``ocitool-runc exec`` takes its ops from the plan cache when the same process is exec'd
again in the same container (an engine's health check): the rebuilt ops equal a fresh
lowering, and any change to the process lowers again."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ocitool.runc import container as C
from tests.helpers_exec.bundle import make_bundle

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 and not os.environ.get("CI"), reason="the plan cache is used as root"
)


def _config(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    bundle = make_bundle(tmp_path / "b", ["true"])
    data = json.loads((bundle / "config.json").read_text())
    data["process"]["args"] = ["echo", "health"]
    return bundle, data


def _no_lowering(*_: object, **__: object) -> None:
    raise AssertionError("lowered again")


@needs_root
def test_a_repeated_exec_is_rebuilt_from_its_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle, data = _config(tmp_path)
    root = str(tmp_path / "state")
    first = C.config_ops(data, "p.json", "ctr1", str(bundle), root, False)
    assert any(op.name == "execve" for op in first)
    monkeypatch.setattr(C, "lower_spec", _no_lowering)
    again = C.config_ops(json.loads(json.dumps(data)), "p.json", "ctr1", str(bundle), root, False)
    assert again == first


@needs_root
def test_another_process_or_container_lowers_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle, data = _config(tmp_path)
    root = str(tmp_path / "state")
    C.config_ops(data, "p.json", "ctr1", str(bundle), root, False)
    monkeypatch.setattr(C, "lower_spec", _no_lowering)
    changed = {**data, "process": {**data["process"], "args": ["echo", "other"]}}
    with pytest.raises(AssertionError, match="lowered again"):
        C.config_ops(changed, "p.json", "ctr1", str(bundle), root, False)
    with pytest.raises(AssertionError, match="lowered again"):
        C.config_ops(data, "p.json", "ctr2", str(bundle), root, False)
    with pytest.raises(AssertionError, match="lowered again"):
        C.config_ops(data, "p.json", "ctr1", str(bundle), root, True)  # systemd driver
