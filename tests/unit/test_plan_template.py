"""Plan templates (ocitool/plan/template.py): a hit gives exactly the plan lowering gives.

The configs imitate what podman writes per container: the container id in
mount sources, the cgroup path and the bundle path, its short form as the
hostname, the overlay layer's own id in root.path, a creation timestamp
annotation. Lowering is pure, so these tests need no root.
"""

from __future__ import annotations

import copy
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from ocitool.plan import template as T
from ocitool.plan.ops.base import Phase
from ocitool.plan.ops.cgroup import CgroupMkdir
from ocitool.runc.container import relower_text
from tests.helpers_exec.bundle import BASE_CONFIG

SECCOMP = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 38,
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["read", "write", "exit_group", "execve"], "action": "SCMP_ACT_ALLOW"}],
}


def podman_like(cid: str, layer: str, created: str, **extra: Any) -> tuple[bytes, str]:
    """(config.json bytes, bundle path) the way podman lays them out."""
    run = f"/run/containers/storage/overlay-containers/{cid}/userdata"
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg["root"] = {"path": f"/var/lib/containers/storage/overlay/{layer}/merged"}
    cfg["hostname"] = cid[:12]
    cfg["process"]["env"] = [*cfg["process"]["env"], f"HOSTNAME={cid[:12]}"]
    cfg["mounts"] = [
        *cfg.get("mounts", []),
        {"destination": "/etc/hosts", "type": "bind", "source": f"{run}/hosts",
         "options": ["bind", "rprivate"]},
        {"destination": "/etc/hostname", "type": "bind", "source": f"{run}/hostname",
         "options": ["bind", "rprivate"]},
    ]  # fmt: skip
    linux = cfg.setdefault("linux", {})
    linux["cgroupsPath"] = f"/libpod_parent/libpod-{cid}"
    linux["seccomp"] = SECCOMP
    cfg["annotations"] = {"io.container.manager": "libpod", "io.kubernetes.cri-o.Created": created}
    cfg.update(extra)
    return json.dumps(cfg, indent=4).encode(), run


def new_ids() -> tuple[str, str]:
    return secrets.token_hex(32), secrets.token_hex(32)


def stored(root: Path, cid: str, layer: str, created: str = "2026-01-01T00:00:00Z") -> T.Template:
    config, bundle = podman_like(cid, layer, created)
    tpl = T.prepare(config, bundle, cid)
    assert tpl is not None
    ops, meta = relower_text(config.decode(), bundle, cid)
    assert T.store(str(root), tpl, ops, meta, relower_text)
    return tpl


def test_hit_equals_fresh_lowering_for_new_ids(tmp_path: Path) -> None:
    first = stored(tmp_path, *new_ids())
    assert len(first.tokens) == 3  # id, layer id, short id
    for _ in range(3):
        cid, layer = new_ids()
        config, bundle = podman_like(cid, layer, f"2026-11-29T09:{secrets.randbelow(60):02d}Z")
        tpl = T.prepare(config, bundle, cid)
        assert tpl is not None and tpl.key.name == first.key.name
        got = T.load(str(tmp_path), tpl)
        assert got is not None
        ops, meta = got
        want_ops, want_meta = relower_text(config.decode(), bundle, cid)
        assert ops == want_ops
        assert meta == {"rootfs": want_meta["rootfs"], "terminal": want_meta["terminal"]}
        assert layer in meta["rootfs"]
        texts = "\n".join(op.text() for op in ops)
        assert cid in texts and "\x00" not in texts


def test_any_other_change_misses(tmp_path: Path) -> None:
    stored(tmp_path, *new_ids())
    cid, layer = new_ids()
    config, bundle = podman_like(cid, layer, "x", domainname="other")
    tpl = T.prepare(config, bundle, cid)
    assert tpl is not None and T.load(str(tmp_path), tpl) is None
    # the same config under another bundle directory misses too
    config, bundle = podman_like(cid, layer, "x")
    tpl = T.prepare(config, "/elsewhere/" + cid, cid)
    assert tpl is not None and T.load(str(tmp_path), tpl) is None


def mkdir(path: str) -> CgroupMkdir:
    return CgroupMkdir(phase=Phase.CREATE_RUNTIME, source=None, path=path)


def test_template_refused_when_lowering_does_not_treat_ids_as_opaque(tmp_path: Path) -> None:
    cid, layer = new_ids()
    config, bundle = podman_like(cid, layer, "t")
    tpl = T.prepare(config, bundle, cid)
    assert tpl is not None

    def truncating(text: str, bundle: str, cid: str) -> tuple[list[Any], dict[str, Any]]:
        # a lowering that uses an 8-character prefix: not a modelled token
        return [mkdir(f"/sys/fs/cgroup/x-{cid[:8]}")], {
            "rootfs": "/r", "terminal": False}  # fmt: skip

    ops, meta = truncating("", bundle, cid)
    assert not T.store(str(tmp_path), tpl, ops, meta, truncating)
    assert T.load(str(tmp_path), tpl) is None

    def opaque(text: str, bundle: str, cid: str) -> tuple[list[Any], dict[str, Any]]:
        return [mkdir(f"/sys/fs/cgroup/x-{cid}")], {
            "rootfs": "/r", "terminal": False}  # fmt: skip

    ops, meta = opaque("", bundle, cid)
    assert T.store(str(tmp_path), tpl, ops, meta, opaque)
    got = T.load(str(tmp_path), tpl)
    assert got is not None and got[0] == [mkdir(f"/sys/fs/cgroup/x-{cid}")]


@pytest.mark.parametrize(
    "cid, config",
    [
        ("short-id", b'{"ociVersion": "1.0.2"}'),  # not a 64-hex id
        ("a" * 64, b'{"ociVersion": "1.0.2", "ociVersion": "1.0.2"}'),  # duplicate key
        ("a" * 64, b'{"ociVersion": NaN}'),
        ("a" * 64, b'{"annotations": {"k": 1}}'),  # annotations must be strings
        ("a" * 64, b"[1]"),
        ("a" * 64, b"{not json"),
    ],
)
def test_not_templated(cid: str, config: bytes) -> None:
    assert T.prepare(config, "/b", cid) is None
