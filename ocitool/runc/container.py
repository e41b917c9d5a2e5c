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

from ocitool.exec.state import State, StateStore
from ocitool.inputs import read_input
from ocitool.runc.errs import error_code, state_error
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

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


def config_ops(
    data: dict[str, Any],
    path: str,
    cid: str,
    bundle: str,
    root: str,
    systemd_cgroup: bool,
    no_new_keyring: bool = False,
) -> list[Any]:
    """The plan's ops for an in-memory config (``exec``'s: the saved config with its process
    replaced) as container ``cid``, through the plan cache (:mod:`ocitool.plan.cache`).

    The entry is the container's own (its name and key hold the id), so it serves a
    repeated request: an engine's health check, or any ``exec`` of the same process
    again. ``path`` names the config in messages. Cached under the same condition as
    create's entries (root)."""
    from ocitool.jsonlite import dumps
    from ocitool.plan import cache

    text = dumps(data)
    options = cache.lowering_options(systemd_cgroup, no_new_keyring=no_new_keyring)
    key = None
    if os.geteuid() == 0:
        from ocitool.host import HostInfo

        key = cache.make_key((text, cid), bundle, HostInfo.detect(), options, (), f"exec-{cid}")
        hit = cache.load(root, key)
        if hit is not None:
            return hit[0]
    from ocitool.spec.build import build_spec
    from ocitool.spec.load import parse_text

    spec = build_spec(parse_text(text, path))
    ops = list(lower_spec(spec, cid, bundle, systemd_cgroup, no_new_keyring=no_new_keyring).ops)
    if key is not None:
        try:  # noqa: SIM105 - contextlib is an import on the start path
            cache.store(root, key, ops, {})
        except (OSError, ValueError):
            pass  # an unwritable root only costs speed
    return ops


def lower_spec(
    spec: Any,
    cid: str,
    bundle: str,
    systemd_cgroup: bool = False,
    no_pivot: bool = False,
    no_new_keyring: bool = False,
) -> Any:
    from ocitool.host import HostInfo
    from ocitool.lower import lower

    return lower(
        spec,
        HostInfo.detect(),
        container_id=cid,
        bundle=bundle,
        systemd_cgroup=systemd_cgroup,
        no_pivot=no_pivot,
        no_new_keyring=no_new_keyring,
    )


def saved_config_path(store: StateStore, cid: str) -> str:
    return os.path.join(store.dir(cid), CONFIG_COPY)


def saved_config(store: StateStore, st: State) -> dict[str, Any]:
    """The config the container was created from (the bundle's if no copy was saved)."""
    from ocitool.jsonlite import loads

    for path in (saved_config_path(store, st.id), os.path.join(st.bundle, "config.json")):
        try:
            data = loads(read_input(path, "config").decode())
        except ValueError:
            continue
        except Exception as err:
            if error_code(err) in ("OCI001", "OCI003"):
                continue  # gone or unreadable: try the next copy
            raise
        if isinstance(data, dict):
            return data
    raise state_error(
        message=f"the configuration of container {st.id} is gone",
        code="OCI608",
        hint="its state directory and bundle have no config.json",
    )


def plan_extras(ops: Any) -> dict[str, Any]:
    """What later commands need from the plan without lowering again."""
    dirs = [op.path for op in ops if op.name == "cgroup_mkdir"]
    hooks = sorted({op.kind for op in ops if op.name == "hook"})
    extras: dict[str, Any] = {"cgroup_dirs": dirs, "hooks": hooks}
    units = [op.unit for op in ops if op.name == "systemd_start_unit"]
    if units:  # created by the systemd driver: later commands lower with it too
        extras["systemd_unit"] = units[0]
    return extras


def bundle_ops(
    bundle: str,
    cid: str,
    root: str,
    systemd_cgroup: bool = False,
    no_pivot: bool = False,
    no_new_keyring: bool = False,
) -> tuple[list[Any], dict[str, Any]]:
    """The plan's ops for ``bundle`` as ``cid``, and what create needs to know about it.

    Uses the plan cache (:mod:`ocitool.plan.cache`) under the same conditions as
    ``ocitool exec``: a config that does not mention the id is lowered once per
    host and ocitool version, later runs rebuild the stored ops. An engine's
    per-container config (podman's, which holds the id) uses a plan template
    (:mod:`ocitool.plan.template`) instead.
    ``no_pivot`` and ``no_new_keyring`` are lowering options (``--no-pivot``,
    ``--no-new-keyring``), part of every cache key.
    Returns (ops, info) with info keys rootfs, terminal, annotations, extras.
    """
    from ocitool.plan import cache

    config = read_input(os.path.join(bundle, "config.json"), "config")
    options = cache.lowering_options(systemd_cgroup, no_pivot, no_new_keyring)
    key = cache.request_key(config, bundle, cid, options)
    hit = cache.load(root, key) if key is not None else None
    template = None
    # no templates for the systemd driver: their key leaves out the annotations it reads
    if key is None and config and os.geteuid() == 0 and not systemd_cgroup:
        from ocitool.plan import template as templates

        template = templates.prepare(config, bundle, cid, options)
        got = templates.load(root, template) if template is not None else None
        if got is not None and template is not None:
            hit = (got[0], {**got[1], "annotations": template.annotations})
    if hit is not None and "annotations" in hit[1]:
        ops, meta = hit
        info = {
            "rootfs": str(meta["rootfs"]),
            "terminal": bool(meta.get("terminal")),
            "annotations": dict(meta["annotations"]),
        }
    else:
        _, spec = load_bundle_spec(bundle)
        plan = lower_spec(spec, cid, bundle, systemd_cgroup, no_pivot, no_new_keyring)
        ops = list(plan.ops)
        info = {
            "rootfs": rootfs_of(spec, bundle),
            "terminal": bool(getattr(spec.process, "terminal", False)),
            "annotations": annotations_of(spec),
        }
        try:
            if key is not None:
                cache.store(root, key, ops, dict(info))
            elif template is not None:
                from ocitool.plan import template as templates

                def relower(text: str, bundle: str, cid: str) -> tuple[list[Any], dict[str, Any]]:
                    return relower_text(text, bundle, cid, no_pivot, no_new_keyring)

                templates.store(root, template, ops, info, relower)
        except (OSError, ValueError):
            pass  # an unwritable root only costs speed
    info["extras"] = plan_extras(ops)
    return list(ops), info


def relower_text(
    text: str, bundle: str, cid: str, no_pivot: bool = False, no_new_keyring: bool = False
) -> tuple[list[Any], dict[str, Any]]:
    """Lower a config given as text (the plan template's check, :mod:`ocitool.plan.template`)."""
    from ocitool.spec.build import build_spec
    from ocitool.spec.load import parse_text

    spec = build_spec(parse_text(text, os.path.join(bundle, "config.json")))
    ops = list(lower_spec(spec, cid, bundle, False, no_pivot, no_new_keyring).ops)
    meta = {
        "rootfs": rootfs_of(spec, bundle),
        "terminal": bool(getattr(spec.process, "terminal", False)),
    }
    return ops, meta


def cgroup_remove_ops(dirs: list[str]) -> list[Any]:
    """The plan's ``cgroup_remove`` ops for ``dirs`` (without poststop hooks, delete needs
    nothing else from the plan, so it does not lower again)."""
    from ocitool.plan.ops.base import Phase
    from ocitool.plan.ops.cgroup import CgroupRemove

    return [CgroupRemove(phase=Phase.DELETE, source=None, path=d) for d in dirs]


def systemd_driver(st: State) -> bool:
    """The container was created with --systemd-cgroup (its unit is in the state)."""
    return bool(st.extra.get("systemd_unit"))


def cgroup_dirs(st: State) -> list[str]:
    return [str(d) for d in st.extra.get("cgroup_dirs") or []]


def has_hooks(st: State, *kinds: str) -> bool:
    have = st.extra.get("hooks")
    if have is None:
        return True  # unknown (created by someone else): lower to be sure
    return any(k in have for k in kinds)


def annotations_of(spec: Any) -> dict[str, str]:
    return dict(getattr(spec, "annotations", None) or {})
