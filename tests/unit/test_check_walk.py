"""The permission model and the path walk behind the path checks, and the ELF reader."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from ocitool.check.creds import R_OK, W_OK, X_OK, Creds, to_container, to_host
from ocitool.check.elf import interpreter
from ocitool.check.walk import ancestors_walk, walk
from tests.unit.check_helpers import elf_with_interp

MAP = ((0, 100000, 65536),)
MAPPED_ROOT = Creds(
    uid=100000, gids=(100000,), caps=frozenset({"CAP_DAC_OVERRIDE"}), uid_map=MAP, gid_map=MAP
)
HOST_ROOT = Creds(uid=0, gids=(0,), caps=frozenset({"CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"}))
USER = Creds(uid=1000, gids=(1000, 50), caps=frozenset())


def test_id_maps() -> None:
    assert to_host(0, MAP) == 100000 and to_host(65535, MAP) == 165535
    assert to_host(65536, MAP) is None and to_host(7, None) == 7
    assert to_container(100001, MAP) == 1 and to_container(0, MAP) is None


@pytest.mark.parametrize(
    ("creds", "mode", "owner", "group", "want", "is_dir", "allowed"),
    [
        (USER, 0o750, 0, 50, X_OK, True, True),  # group member
        (USER, 0o700, 0, 50, X_OK, True, False),
        (USER, 0o705, 0, 0, R_OK | X_OK, True, True),  # other bits
        (HOST_ROOT, 0o000, 0, 0, R_OK | W_OK | X_OK, True, True),  # caps everywhere on the host
        (HOST_ROOT, 0o644, 0, 0, X_OK, False, False),  # exec needs one x bit, even for root
        (MAPPED_ROOT, 0o700, 0, 0, X_OK, True, False),  # owner unmapped: caps do not apply
        (MAPPED_ROOT, 0o700, 100005, 100005, X_OK, True, True),  # owner mapped: they do
        (MAPPED_ROOT, 0o755, 0, 0, W_OK, True, False),
    ],
)
def test_permission(
    creds: Creds, mode: int, owner: int, group: int, want: int, is_dir: bool, allowed: bool
) -> None:
    assert creds.may(mode, owner, group, want, is_dir=is_dir) is allowed


def test_walk_names_the_component_that_blocks(open_tmp: Path) -> None:
    (open_tmp / "a" / "b").mkdir(parents=True)
    (open_tmp / "a").chmod(0o700)
    st = os.stat(open_tmp / "a")
    other = Creds(uid=st.st_uid + 1, gids=(st.st_gid + 1,))
    done = walk(str(open_tmp / "a" / "b"), other)
    assert done.blocked is not None and done.blocked.errno == errno.EACCES
    assert done.blocked.path == str(open_tmp / "a")
    assert "cannot search" in done.blocked.describe(other)
    assert walk(str(open_tmp / "a" / "b"), None).blocked is None
    missing = walk(str(open_tmp / "a" / "x" / "y"), None)
    assert missing.blocked and missing.blocked.errno == errno.ENOENT
    assert missing.blocked.path == str(open_tmp / "a" / "x")
    (open_tmp / "f").write_text("")
    assert walk(str(open_tmp / "f" / "g"), None).blocked.errno == errno.ENOTDIR  # type: ignore[union-attr]
    assert ancestors_walk(str(open_tmp / "a"), other).blocked is not None  # the last one too


def test_symlinks_stay_in_the_root(open_tmp: Path) -> None:
    root = open_tmp / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "busybox").write_text("x")
    os.symlink("busybox", root / "bin" / "sh")
    os.symlink("/bin/sh", root / "bin" / "abs")
    os.symlink("../../../../../etc", root / "up")
    os.symlink("loop", root / "loop")
    assert walk("/bin/sh", None, str(root)).path == str(root / "bin" / "busybox")
    assert walk("/bin/abs", None, str(root)).path == str(root / "bin" / "busybox")
    up = walk("/up/passwd", None, str(root))  # ".." stops at the root: /etc of the rootfs
    assert up.blocked is not None and up.blocked.shown == "/etc"
    assert walk("/loop", None, str(root)).blocked.errno == errno.ELOOP  # type: ignore[union-attr]


def test_interpreter(open_tmp: Path) -> None:
    script = open_tmp / "s"
    script.write_text("#!  /bin/sh -e\n")
    assert interpreter(str(script)) == ("#!", "/bin/sh")
    elf = open_tmp / "e"
    elf_with_interp(elf, "/lib/ld.so")
    assert interpreter(str(elf)) == ("PT_INTERP", "/lib/ld.so")
    (open_tmp / "static").write_bytes(b"\x7fELF" + bytes(60))
    assert interpreter(str(open_tmp / "static")) is None
    assert interpreter(str(open_tmp / "missing")) is None


def test_a_path_ocitool_itself_may_not_see_is_not_called_missing(
    open_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (open_tmp / "a").mkdir()
    real = os.lstat

    def lstat(path: str) -> os.stat_result:
        if str(path).endswith("/a"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path)

    monkeypatch.setattr("ocitool.check.walk.os.lstat", lstat)
    done = walk(str(open_tmp / "a" / "b"), None)
    assert done.blocked is not None
    assert "cannot be examined by ocitool itself" in done.blocked.describe(None)
