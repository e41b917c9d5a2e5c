"""The ``bin/`` launchers: Python without ``site``, and still the right ``ocitool``.

Each case builds a throwaway virtual environment (a symlink to this
interpreter plus ``pyvenv.cfg``) whose site-packages holds one install layout,
copies the launcher next to its ``python3`` and runs it. No root, no pip, no
network: the layouts are written by hand, as pip/setuptools write them.
"""

from __future__ import annotations

import json
import os
import re
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


def project_version() -> str:
    return str(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"])


def fake_ocitool(root: Path, tag: str) -> Path:
    """A stand-in ``ocitool`` package in ``root``: both entry points print, as JSON, what the
    launcher set up (sys.prefix, sys.path, the modules imported before ocitool's own)."""
    pkg = root / "ocitool"
    (pkg / "cli").mkdir(parents=True)
    (pkg / "__init__.py").write_text("import sys\nBEFORE = sorted(sys.modules)\n")
    (pkg / "cli" / "__init__.py").write_text("")
    main = (
        "import sys\n"
        "import ocitool\n"
        "def main():\n"
        "    import json\n"
        f"    report = {{'tag': {tag!r}, 'prefix': sys.prefix, 'path': sys.path,\n"
        "              'before': ocitool.BEFORE, 'argv': sys.argv}\n"
        "    json.dump(report, sys.stdout)\n"
        "    return 0\n"
    )
    (pkg / "cli" / "main.py").write_text(main)
    (pkg / "cli" / "runc.py").write_text(main)
    return pkg


def setuptools_editable(site_dir: Path, package: Path, version: str = "9") -> None:
    """What ``pip install -e`` writes with setuptools' strict/finder mode: a .pth that imports a
    finder module whose MAPPING names the package directory. Importing it would be an error."""
    mod = f"__editable___ocitool_{version.replace('.', '_')}_finder"
    (site_dir / f"{mod}.py").write_text(
        "from __future__ import annotations\nimport sys\n"
        f"MAPPING: dict[str, str] = {{'ocitool': {str(package)!r}}}\n"
        "raise SystemExit('the editable finder module was imported')\n"
    )
    (site_dir / f"__editable__.ocitool-{version}.pth").write_text(
        f"import {mod}; {mod}.install()\n"
    )


def fast_only(bindir: Path) -> None:
    """Make the launchers in ``bindir`` fail if they ever reach their slow path."""
    for name in LAUNCHERS:
        text = (bindir / name).read_text()
        marker = ': <<"SLOW_PATH"\n'
        assert text.count(marker) == 1
        (bindir / name).write_text(
            text.replace(marker, marker + "raise SystemExit('the slow path ran')\n")
        )


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
    fake_ocitool(site_dir, "venv copy")
    proc = launch(bindir, "ocitool", "--version")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["tag"] == "venv copy" and report["prefix"] == str(tmp_path)
    dirs = [p for p in report["path"] if p.endswith(("site-packages", "dist-packages"))]
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


def test_editable_pth_hint_is_this_version() -> None:
    """The launcher probes for this name before listing site-packages (bench/README.md)."""
    for name in LAUNCHERS:
        text = (REPO / "bin" / name).read_text()
        hint = re.search(r"^EDITABLE_PTH=(\S+)$", text, re.M)
        assert hint, name
        assert hint.group(1) == f"__editable__.ocitool-{project_version()}.pth"


@pytest.mark.parametrize(
    "layout", ["venv-wheel", "editable-hint", "editable-other-version", "system-site-wheel"]
)
def test_usual_layouts_need_no_slow_path(tmp_path: Path, layout: str) -> None:
    """The bootstrap alone handles these layouts: no `site`, no `os`, and the slow path (the
    Python code read back from the launcher file) never runs."""
    bindir, site_dir = make_env(tmp_path, system_site=layout == "system-site-wheel")
    fast_only(bindir)
    if layout.endswith("wheel"):
        fake_ocitool(site_dir, layout)
        parent = site_dir
    else:
        parent = tmp_path / "src"
        fake_ocitool(parent, layout)
        (parent / "stray.py").write_text("raise SystemExit('a sibling of the package')\n")
        version = project_version() if layout == "editable-hint" else "9"
        setuptools_editable(site_dir, parent / "ocitool", version)
    for name in LAUNCHERS:
        proc = launch(bindir, name, "--version", "a b", OCITOOL_LAUNCH_DEBUG="")
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["tag"] == layout
        assert report["argv"] == [str(bindir / name), "--version", "a b"]
        assert not {"site", "os", "posixpath", "_collections_abc"} & set(report["before"])
        assert "" not in report["path"] and str(REPO) not in report["path"]
        assert str(site_dir) in report["path"]
        # the editable package's parent is not left on sys.path (only `ocitool` maps there)
        assert (str(parent) in report["path"]) == layout.endswith("wheel")


def test_a_copy_on_sys_path_wins_over_an_editable_finder(tmp_path: Path) -> None:
    """As with site: setuptools' finder comes after PathFinder, so an ocitool found on sys.path
    (a later site directory, PYTHONPATH) is imported, not the editable one."""
    bindir, site_dir = make_env(tmp_path / "venv", system_site=True)
    home = tmp_path / "home"
    user_site = home / ".local" / "lib" / VER / "site-packages"
    user_site.mkdir(parents=True)
    fake_ocitool(tmp_path / "src", "editable")
    setuptools_editable(user_site, tmp_path / "src" / "ocitool", project_version())
    # no other copy: the editable one (user site comes first, as with site)
    proc = launch(bindir, "ocitool", "--version", HOME=str(home))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tag"] == "editable"
    assert debug_fields(proc.stderr)["mode"] == "fast-editable"
    report = json.loads(proc.stdout)
    assert report["path"].index(str(user_site)) < report["path"].index(str(site_dir))
    # a wheel in the venv's site-packages, after the user site on sys.path: still it wins
    fake_ocitool(site_dir, "venv copy")
    proc = launch(bindir, "ocitool", "--version", HOME=str(home))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tag"] == "venv copy"
    # PYTHONPATH comes before every site directory
    fake_ocitool(tmp_path / "pp", "pythonpath copy")
    proc = launch(bindir, "ocitool", "--version", HOME=str(home), PYTHONPATH=str(tmp_path / "pp"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tag"] == "pythonpath copy"
    assert debug_fields(proc.stderr)["site_imported"] == "0"


def test_relative_pth_entry_is_relative_to_its_directory(tmp_path: Path) -> None:
    bindir, site_dir = make_env(tmp_path)
    fake_ocitool(tmp_path / "src", "relative")
    (site_dir / f"__editable__.ocitool-{project_version()}.pth").write_text(
        "# a path entry, as setuptools writes for a src layout\n../../../src\n"
    )
    proc = launch(bindir, "ocitool-runc", "--version")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["tag"] == "relative"
    entry = report["path"].index(str(site_dir)) + 1
    assert os.path.realpath(report["path"][entry]) == str(tmp_path / "src")
    assert debug_fields(proc.stderr)["mode"] == "path"
