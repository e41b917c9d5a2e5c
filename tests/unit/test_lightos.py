"""ocitool.lightos stands in for ``os`` on the hot path: same answers as os/posixpath."""

from __future__ import annotations

import os
import posixpath
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool import lightos

REPO = Path(__file__).resolve().parents[2]

segments = st.sampled_from(["", ".", "..", "a", "bb", "c.d", "...", " "])
paths = st.lists(segments, max_size=7).map("/".join) | st.lists(segments, max_size=7).map(
    lambda parts: "/" + "/".join(parts)
)


@settings(max_examples=400, deadline=None)
@given(paths)
def test_pure_path_functions_match_posixpath(p: str) -> None:
    assert lightos.path.normpath(p) == posixpath.normpath(p)
    assert lightos.path.dirname(p) == posixpath.dirname(p)
    assert lightos.path.basename(p) == posixpath.basename(p)
    assert lightos.path.split(p) == posixpath.split(p)


@settings(max_examples=200, deadline=None)
@given(paths, st.lists(paths, max_size=3))
def test_join_matches_posixpath(a: str, rest: list[str]) -> None:
    assert lightos.path.join(a, *rest) == posixpath.join(a, *rest)


def test_leading_double_slash_is_kept_as_posix_allows() -> None:
    assert lightos.path.normpath("//a/../b") == "//b"
    assert lightos.path.normpath("///a") == "/a"


def test_abspath_and_file_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    (tmp_path / "l").symlink_to(tmp_path / "missing")
    monkeypatch.chdir(tmp_path)
    assert lightos.path.abspath("d/../f") == os.path.abspath("d/../f")
    assert lightos.path.isfile(str(tmp_path / "f")) and not lightos.path.isfile(str(tmp_path))
    assert lightos.path.isdir(str(tmp_path / "d")) and not lightos.path.isdir(str(tmp_path / "f"))
    assert lightos.path.exists(str(tmp_path / "f"))
    assert not lightos.path.exists(str(tmp_path / "l"))  # dangling: stat follows links
    assert not lightos.path.exists("a\0b")  # ValueError is "does not exist", as in os.path


def test_makedirs_creates_parents_and_honours_exist_ok(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c"
    lightos.makedirs(str(target), 0o700)
    assert target.is_dir() and (target.stat().st_mode & 0o777) == 0o700
    umask = os.umask(0)
    os.umask(umask)
    assert (target.parent.stat().st_mode & 0o777) == 0o777 & ~umask  # parents: as os does
    lightos.makedirs(str(target) + "/", exist_ok=True)
    try:
        lightos.makedirs(str(target))
    except FileExistsError:
        pass
    else:
        raise AssertionError("makedirs without exist_ok must refuse an existing directory")
    (tmp_path / "file").write_text("")
    try:
        lightos.makedirs(str(tmp_path / "file"), exist_ok=True)
    except FileExistsError:
        pass
    else:
        raise AssertionError("exist_ok does not cover a non-directory in the way")


def test_getenv_decodes_posix_environ() -> None:
    os.environ["OCITOOL_LIGHTOS_T"] = "vä"
    try:
        assert lightos.getenv("OCITOOL_LIGHTOS_T") == "vä"
        assert lightos.getenv("OCITOOL_LIGHTOS_MISSING", "d") == "d"
    finally:
        del os.environ["OCITOOL_LIGHTOS_T"]


def test_importing_it_does_not_import_os() -> None:
    code = (
        "import sys, ocitool.lightos; print('os' in sys.modules, '_collections_abc' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO)},
        check=True,
    )
    assert out.stdout.split() == ["False", "False"]
