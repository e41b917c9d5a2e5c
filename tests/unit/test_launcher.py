"""The ``bin/`` launchers: Python without ``site``, and still the right ``ocitool``.

Each case builds a throwaway virtual environment (a symlink to this
interpreter plus ``pyvenv.cfg``) whose site-packages holds one install layout,
copies the launcher next to its ``python3`` and runs it. No root, no pip, no
network: the layouts are written by hand, as pip/setuptools write them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAUNCHERS = ("ocitool", "ocitool-runc")
VER = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def make_env(tmp: Path, *, system_site: bool = False) -> tuple[Path, Path]:
    """A minimal venv: (bin dir, site-packages dir). Both launchers are copied into bin."""
    real = Path(os.path.realpath(sys.executable))
    bindir = tmp / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python3").symlink_to(real)
    flag = "true" if system_site else "false"
    (tmp / "pyvenv.cfg").write_text(
        f"home = {real.parent}\ninclude-system-site-packages = {flag}\n"
    )
    site_dir = tmp / "lib" / VER / "site-packages"
    site_dir.mkdir(parents=True)
    for name in LAUNCHERS:
        dst = bindir / name
        dst.write_bytes((REPO / "bin" / name).read_bytes())
        dst.chmod(0o755)
    return bindir, site_dir


def launch(bindir: Path, name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(bindir.parent), "OCITOOL_LAUNCH_DEBUG": "1"}
    environ.update(env)
    return subprocess.run(
        [str(bindir / name), *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=bindir.parent,
        timeout=60,
    )


def debug_fields(stderr: str) -> dict[str, str]:
    line = next(ln for ln in stderr.splitlines() if ln.startswith("ocitool-launch:"))
    return dict(part.split("=", 1) for part in line.split()[1:])


def test_launchers_differ_only_in_entry() -> None:
    a = (REPO / "bin" / "ocitool").read_text().splitlines()
    b = (REPO / "bin" / "ocitool-runc").read_text().splitlines()
    diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    assert diff == [("ENTRY=ocitool.cli.main", "ENTRY=ocitool.cli.runc")]
    assert a[0] == "#!/bin/sh"
    for name in LAUNCHERS:
        assert os.access(REPO / "bin" / name, os.X_OK)


def test_pyproject_ships_launchers_not_console_scripts() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["script-files"] == ["bin/ocitool", "bin/ocitool-runc"]
    scripts = project["project"].get("scripts", {})
    # a console script of the same name would overwrite the launcher at install time
    assert not set(scripts) & set(LAUNCHERS)


def test_editable_install_uses_own_finder_without_importing_it(tmp_path: Path) -> None:
    bindir, site_dir = make_env(tmp_path)
    # setuptools' finder imports pathlib & co (~15 ms); the launcher reads its MAPPING instead
    (site_dir / "__editable___ocitool_9_finder.py").write_text(
        f"import sys\nMAPPING: dict[str, str] = {{'ocitool': {str(REPO / 'ocitool')!r}}}\n"
        "raise SystemExit('the editable finder module was imported')\n"
    )
    (site_dir / "__editable__.ocitool-9.pth").write_text(
        "import __editable___ocitool_9_finder; __editable___ocitool_9_finder.install()\n"
    )
    # someone else's .pth must not run (site would run it)
    (site_dir / "zz-other.pth").write_text("import sys; sys.exit('foreign .pth ran')\n")
    # a stray 'ocitool' package in the working directory must not shadow ours
    (tmp_path / "ocitool").mkdir()
    (tmp_path / "ocitool" / "__init__.py").write_text("raise SystemExit('cwd shadowing')\n")
    for name, banner in (("ocitool", "ocitool 0.1"), ("ocitool-runc", "ocitool-runc version")):
        proc = launch(bindir, name, "--version")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(banner)
        info = debug_fields(proc.stderr)
        assert info["no_site"] == "1" and info["site_imported"] == "0"
        assert info["mode"] == "fast-editable"
        assert info["python"] == str(bindir / "python3")
        assert info["ocitool"] == str(REPO / "ocitool" / "__init__.py")


def test_editable_with_remapped_package_runs_the_real_finder(tmp_path: Path) -> None:
    bindir, site_dir = make_env(tmp_path)
    link = tmp_path / "src" / "renamed"
    link.parent.mkdir()
    link.symlink_to(REPO / "ocitool")
    # MAPPING's directory name differs from the package name: only the finder knows
    (site_dir / "__editable___ocitool_9_finder.py").write_text(
        f"import sys\nMAPPING = {{'ocitool': {str(link)!r}}}\n"
        "def install():\n"
        f"    sys.path.append({str(REPO)!r})\n"
    )
    (site_dir / "__editable__.ocitool-9.pth").write_text(
        "import __editable___ocitool_9_finder; __editable___ocitool_9_finder.install()\n"
    )
    proc = launch(bindir, "ocitool-runc", "--version")
    assert proc.returncode == 0, proc.stderr
    info = debug_fields(proc.stderr)
    assert info["mode"] == "editable-finder" and info["site_imported"] == "0"


def test_path_style_editable_pth(tmp_path: Path) -> None:
    bindir, site_dir = make_env(tmp_path)
    (site_dir / "__editable__.ocitool-9.pth").write_text(f"# comment\n{REPO}\n")
    proc = launch(bindir, "ocitool", "--version")
    assert proc.returncode == 0, proc.stderr
    info = debug_fields(proc.stderr)
    assert info["mode"] == "path" and info["no_site"] == "1"
    assert info["ocitool"] == str(REPO / "ocitool" / "__init__.py")


def test_falls_back_to_site_when_ocitool_is_not_found(tmp_path: Path) -> None:
    bindir, site_dir = make_env(tmp_path)
    # only a foreign .pth knows where ocitool is: the launcher must run site after all
    (site_dir / "other-tool.pth").write_text(f"{REPO}\n")
    proc = launch(bindir, "ocitool-runc", "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ocitool-runc version")
    info = debug_fields(proc.stderr)
    assert info["mode"] == "site" and info["site_imported"] == "1"


def test_not_installed_at_all_fails_cleanly(tmp_path: Path) -> None:
    bindir, _ = make_env(tmp_path)
    proc = launch(bindir, "ocitool", "--version", PYTHONNOUSERSITE="1")
    if proc.returncode == 0:  # this interpreter's own site-packages has ocitool
        pytest.skip("ocitool is installed for this interpreter; nothing to miss")
    assert proc.returncode == 1
    assert "cannot import ocitool with" in proc.stderr and "OCITOOL_PYTHON" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_interpreter_override_and_path_fallback(tmp_path: Path) -> None:
    bindir, site_dir = make_env(tmp_path)
    (site_dir / "__editable__.ocitool-9.pth").write_text(f"{REPO}\n")
    other = tmp_path / "elsewhere"
    other.mkdir()
    for name in LAUNCHERS:
        (other / name).write_bytes((bindir / name).read_bytes())
        (other / name).chmod(0o755)
    # no python3 next to the script: python3 on PATH is used
    proc = launch(other, "ocitool", "--version", PATH=f"{bindir}:/usr/bin:/bin")
    assert proc.returncode == 0, proc.stderr
    assert debug_fields(proc.stderr)["python"] == str(bindir / "python3")
    # OCITOOL_PYTHON wins over both
    proc = launch(other, "ocitool", "--version", OCITOOL_PYTHON=str(bindir / "python3"))
    assert proc.returncode == 0, proc.stderr
    assert debug_fields(proc.stderr)["mode"] == "path"


def test_arguments_pass_through_unchanged(tmp_path: Path) -> None:
    bindir, site_dir = make_env(tmp_path)
    (site_dir / "__editable__.ocitool-9.pth").write_text(f"{REPO}\n")
    proc = launch(bindir, "ocitool-runc", "--log-format", "json", "state", "no such 'id' $x")
    assert proc.returncode != 0
    assert '"level":"error","msg":"container does not exist"' in proc.stderr
    proc = launch(bindir, "ocitool", "exec", "--dry-run", str(tmp_path / "missing 'b' $x"))
    assert proc.returncode != 0
    assert "missing 'b' $x" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_system_site_packages_venv_sees_base_packages(tmp_path: Path) -> None:
    """include-system-site-packages = true: the base interpreter's dirs come after the venv's."""
    bindir, site_dir = make_env(tmp_path, system_site=True)
    (site_dir / "__editable__.ocitool-9.pth").write_text(f"{REPO}\n")
    code = (
        "import sys, os; sys.stdout.write(repr([sys.prefix, [p for p in sys.path "
        "if p.endswith(('site-packages', 'dist-packages'))]]))"
    )
    # the bootstrap itself, run with -c the same way (copied out of the launcher)
    text = (REPO / "bin" / "ocitool").read_text()
    boot = text.split("-S -c '", 1)[1].rsplit('\' "$0"', 1)[0].replace("'\"'\"'", "'")
    boot = boot.split("try:\n    import ocitool", 1)[0] + code
    proc = subprocess.run(
        [str(bindir / "python3"), "-S", "-c", boot, "x", "ocitool.cli.main"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    prefix, dirs = eval(proc.stdout)  # noqa: S307 - our own repr
    assert prefix == str(tmp_path)
    assert dirs[0] == str(site_dir)
    assert any(d.startswith(sys.base_prefix) for d in dirs[1:])


def test_symlinked_launcher_finds_the_real_install(tmp_path: Path) -> None:
    """pipx-style: the command on PATH is a symlink to the script inside the venv."""
    bindir, site_dir = make_env(tmp_path / "venv")
    (site_dir / "__editable__.ocitool-9.pth").write_text(f"{REPO}\n")
    links = tmp_path / "links"
    links.mkdir()
    (links / "ocitool-runc").symlink_to(bindir / "ocitool-runc")
    proc = launch(links, "ocitool-runc", "--version")
    assert proc.returncode == 0, proc.stderr
    info = debug_fields(proc.stderr)
    assert info["python"] == str(bindir / "python3") and info["mode"] == "path"
