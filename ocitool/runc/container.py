"""From a bundle (or a created container's saved config) to a Plan, and what we keep about it.

``create`` saves a copy of config.json in the container's state directory:
``exec``, ``update`` and the hook-running parts of ``start``/``delete``
re-lower from that copy (runc keeps its config in state.json for the same
reason: the bundle may change or go away). What the other commands need
without lowering -- the cgroup directories, the freezer, whether there
are poststart/poststop hooks -- goes in ``State.extra``.
"""

from __future__ import annotations

import os
from typing import Any

from ocitool.exec.state import State, StateStore

CONFIG_COPY = "config.json"


def rootfs_of(spec: Any, bundle: str) -> str:
    root = getattr(spec, "root", None)
    path = getattr(root, "path", None) or "rootfs"
    return os.path.normpath(os.path.join(bundle, path))


def load_bundle_spec(bundle: str) -> tuple[Any, Any]:
    """(Document, Spec) of ``bundle/config.json`` without the schema (hot path)."""
    from ocitool.spec.pipeline import load_spec

    return load_spec(bundle, validate=False)


def spec_from_data(data: dict[str, Any], path: str) -> tuple[Any, Any]:
    """(Document, Spec) of an in-memory config (a saved copy with changes applied)."""
    import json

    from ocitool.spec.build import build_spec
    from ocitool.spec.load import parse_text

    doc = parse_text(json.dumps(data), path)
    return doc, build_spec(doc)


def lower_spec(spec: Any, cid: str, bundle: str) -> Any:
    from ocitool.lower import lower
    from ocitool.lower.host import HostInfo

    return lower(spec, HostInfo.detect(), container_id=cid, bundle=bundle)


def saved_config_path(store: StateStore, cid: str) -> str:
    return os.path.join(store.dir(cid), CONFIG_COPY)


def saved_config(store: StateStore, st: State) -> dict[str, Any]:
    """The config the container was created from (the bundle's if no copy was saved)."""
    import json

    for path in (saved_config_path(store, st.id), os.path.join(st.bundle, "config.json")):
        try:
            with open(path, "rb") as f:
                data = json.loads(f.read())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            return data
    from ocitool.errors import RuntimeStateError

    raise RuntimeStateError(
        message=f"the configuration of container {st.id} is gone", code="OCI608",
        hint="its state directory and bundle have no config.json",
    )


def plan_extras(plan: Any) -> dict[str, Any]:
    """What later commands need from the plan without lowering again."""
    dirs = [op.path for op in plan.ops if op.name == "cgroup_mkdir"]
    hooks = sorted({op.kind for op in plan.ops if op.name == "hook"})
    return {"cgroup_dirs": dirs, "hooks": hooks}


def cgroup_dirs(st: State) -> list[str]:
    return [str(d) for d in st.extra.get("cgroup_dirs") or []]


def has_hooks(st: State, *kinds: str) -> bool:
    have = st.extra.get("hooks")
    if have is None:
        return True  # unknown (created by someone else): lower to be sure
    return any(k in have for k in kinds)


def annotations_of(spec: Any) -> dict[str, str]:
    return dict(getattr(spec, "annotations", None) or {})
