"""LowerContext: rootfs and cgroup path resolution, diagnostics sink."""

from __future__ import annotations

import pytest

from ocitool.errors import LoweringError
from tests.unit.plan_helpers import config, ctx_for, spec_of


@pytest.mark.parametrize(
    ("cgroups_path", "expected"),
    [
        (None, "/ocitool/c1"),
        ("", "/ocitool/c1"),
        ("/machine/web", "/machine/web"),
        ("/machine/../web/", "/web"),
        ("pods/web", "/ocitool/pods/web"),
    ],
)
def test_cgroup_path(cgroups_path: str | None, expected: str) -> None:
    linux = {"cgroupsPath": cgroups_path} if cgroups_path is not None else {}
    assert ctx_for(spec_of(config(linux=linux))).cgroup_path == expected


def test_systemd_cgroup_path_refused() -> None:
    ctx = ctx_for(spec_of(config(linux={"cgroupsPath": "system.slice:docker:abc"})))
    with pytest.raises(LoweringError) as info:
        _ = ctx.cgroup_path
    assert info.value.pointer == "/linux/cgroupsPath" and info.value.code == "OCI311"


def test_rootfs_relative_and_absolute() -> None:
    assert ctx_for(spec_of(config())).rootfs == "/bundle/rootfs"
    assert ctx_for(spec_of(config(root={"path": "/srv/root/"}))).rootfs == "/srv/root"
    assert ctx_for(spec_of(config(root={"path": "../r"}))).rootfs == "/r"


def test_warn_and_info_collect() -> None:
    ctx = ctx_for(spec_of(config()))
    ctx.warn("/process", "careful", hint="h")
    ctx.info("/root", "fyi")
    assert [(d.severity, d.pointer) for d in ctx.diagnostics] == [
        ("warning", "/process"),
        ("info", "/root"),
    ]
    err = ctx.error("/x", "bad", code="OCI399")
    assert isinstance(err, LoweringError) and err.pointer == "/x"
