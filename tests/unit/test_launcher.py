"""The ``bin/`` launchers: Python without ``site``, and still the right ``ocitool``.

Each case builds a throwaway virtual environment (a symlink to this
interpreter plus ``pyvenv.cfg``) whose site-packages holds one install layout,
copies the launchers and their bootstrap module ``_ocitool_boot.py`` next to
its ``python3`` (as pip does) and runs them. No root, no pip, no network: the
layouts are written by hand, as pip/setuptools write them.
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
BOOT = "_ocitool_boot.py"
BOOT_MARKER = '\n: <<"BOOT"\n'
PYC = f"__pycache__/_ocitool_boot.{sys.implementation.cache_tag}.pyc"
VER = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def make_env(tmp: Path, *, system_site: bool = False, boot: bool = True) -> tuple[Path, Path]:
    """A minimal venv: (bin dir, site-packages dir). Both launchers (and, with ``boot``, their
    bootstrap module) are copied into bin."""
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
    if boot:
        (bindir / BOOT).write_bytes((REPO / "bin" / BOOT).read_bytes())
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
        "              'before': ocitool.BEFORE, 'argv': sys.argv, 'modules': sorted(sys.modules),\n"
        "              'main_globals': sorted(vars(sys.modules['__main__']))}\n"
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
    """Make the bootstrap in ``bindir`` (module and the launchers' copies) fail if it ever
    reaches its slow path."""
    marker = '    """The rare cases: '
    for name in (*LAUNCHERS, BOOT):
        text = (bindir / name).read_text()
        assert text.count(marker) == 1
        (bindir / name).write_text(
            text.replace(marker, "    raise SystemExit('the slow path ran')\n" + marker)
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
    # the bootstrap module goes to the same scripts directory as the launchers
    assert project["tool"]["setuptools"]["script-files"] == [
        "bin/ocitool",
        "bin/ocitool-runc",
        f"bin/{BOOT}",
    ]
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
    (tmp_path / BOOT).write_text("raise SystemExit('cwd shadowing the bootstrap')\n")
    for name, banner in (("ocitool", "ocitool 0.1"), ("ocitool-runc", "ocitool-runc version")):
        proc = launch(bindir, name, "--version")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(banner)
        info = debug_fields(proc.stderr)
        assert info["no_site"] == "1" and info["site_imported"] == "0"
        assert info["mode"] == "fast-editable"
        assert info["python"] == str(bindir / "python3")
        assert info["ocitool"] == str(REPO / "ocitool" / "__init__.py")
        assert info["boot"] == "module"


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
    assert "no interpreter can import ocitool; tried:" in proc.stderr
    assert "OCITOOL_PYTHON" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_interpreter_without_ocitool_hands_over_to_the_next(tmp_path: Path) -> None:
    """The python3 next to the script has no ocitool: the bootstrap execs the next candidate
    on PATH (passing over one that is not executable) instead of failing, or running the
    wrong one."""
    bindir, _ = make_env(tmp_path / "bare")
    good, good_site = make_env(tmp_path / "good")
    fake_ocitool(good_site, "good")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "python3").write_text("not an interpreter\n")  # no x bit
    path = f"{broken}:{good}:/usr/bin:/bin"
    for name in LAUNCHERS:
        proc = launch(bindir, name, "--version", "a b", PATH=path, PYTHONNOUSERSITE="1")
        assert proc.returncode == 0, proc.stderr
        assert debug_fields(proc.stderr)["python"] == str(good / "python3")
        report = json.loads(proc.stdout)
        assert report["tag"] == "good"
        assert report["argv"] == [str(bindir / name), "--version", "a b"]


def test_no_interpreter_with_ocitool_names_every_one_tried(tmp_path: Path) -> None:
    bindir, _ = make_env(tmp_path / "bare")
    other, _ = make_env(tmp_path / "other")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "python3").write_text("not an interpreter\n")
    path = f"{other}:{broken}:{bindir}"  # bindir again: named once
    proc = launch(bindir, "ocitool-runc", "--version", PATH=path, PYTHONNOUSERSITE="1")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("ocitool-runc: no interpreter can import ocitool; tried: ")
    tried = proc.stderr.partition("tried: ")[2].partition(". Set OCITOOL_PYTHON")[0].split("; ")
    assert tried == [
        f"{bindir}/python3 (cannot import ocitool: No module named 'ocitool')",
        f"{other}/python3 (cannot import ocitool: No module named 'ocitool')",
        f"{broken}/python3 (not executable by this user)",
    ]
    # OCITOOL_PYTHON is the one choice: nothing else is tried
    good, good_site = make_env(tmp_path / "good")
    fake_ocitool(good_site, "good")
    proc = launch(
        bindir, "ocitool", "--version", PATH=f"{good}:/usr/bin:/bin",
        OCITOOL_PYTHON=str(other / "python3"), PYTHONNOUSERSITE="1",
    )  # fmt: skip
    assert proc.returncode == 1
    assert f"tried: {other}/python3 (cannot import ocitool" in proc.stderr
    assert str(good) not in proc.stderr


def test_no_python3_at_all_is_named(tmp_path: Path) -> None:
    lone = tmp_path / "lone"
    lone.mkdir()
    for name in (*LAUNCHERS, BOOT):
        (lone / name).write_bytes((REPO / "bin" / name).read_bytes())
        (lone / name).chmod(0o755)
    proc = launch(lone, "ocitool", "--version", PATH=str(tmp_path / "nowhere"))
    assert proc.returncode == 127
    assert proc.stderr == (
        f"ocitool: no python3 to run ocitool: {lone}/python3 is not executable and none is on "
        "PATH; set OCITOOL_PYTHON\n"
    )


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
    # copied without _ocitool_boot.py: the launcher's own copy of it runs
    assert debug_fields(proc.stderr)["boot"] == "inline"
    # OCITOOL_PYTHON wins over both
    proc = launch(other, "ocitool", "--version", OCITOOL_PYTHON=str(bindir / "python3"))
    assert proc.returncode == 0, proc.stderr
    assert debug_fields(proc.stderr)["mode"] == "path"


def test_arguments_pass_through_unchanged(tmp_path: Path) -> None:
    bindir, site_dir = make_env(tmp_path)
    (site_dir / "__editable__.ocitool-9.pth").write_text(f"{REPO}\n")
    proc = launch(bindir, "ocitool-runc", "--log-format", "json", "state", "no such 'id' $x")
    assert proc.returncode != 0
    # the id arrives whole (spaces, quotes, $) and is refused as runc refuses it
    assert "invalid container ID format: \\\"no such 'id' $x\\\"" in proc.stderr, proc.stderr
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
    # the bootstrap module next to the real script, not the inline copy
    assert info["boot"] == "module"
    assert (bindir / PYC).is_file() and not (links / "__pycache__").exists()
    # a python3 next to the link is still preferred (as before); the module is the real one's
    other = tmp_path / "other-python"
    other.mkdir()
    (other / "python3").symlink_to(os.path.realpath(sys.executable))
    (links / "python3").symlink_to(other / "python3")
    proc = launch(links, "ocitool-runc", "--version")
    assert proc.returncode == 0, proc.stderr
    info = debug_fields(proc.stderr)
    assert info["python"] == str(links / "python3") and info["boot"] == "module"


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
        # the bootstrap module and its directory are gone before main() runs
        assert str(bindir) not in report["path"] and "_ocitool_boot" not in report["modules"]
        assert {g for g in report["main_globals"] if g[:2] != "__"} == {"sys"}
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


def test_launchers_end_with_an_exact_copy_of_the_boot_module() -> None:
    """The fallback for a launcher copied alone is the module's own text (kept in sync by hand:
    copy bin/_ocitool_boot.py after the `: <<"BOOT"` line of both launchers)."""
    module = (REPO / "bin" / BOOT).read_text()
    module.encode("ascii")  # the inline copy is read with the locale's encoding
    for name in LAUNCHERS:
        text = (REPO / "bin" / name).read_text()
        assert text.count(BOOT_MARKER) == 1
        head, _, tail = text.partition(BOOT_MARKER)
        assert tail == module + "BOOT\n", f"bin/{name}: its copy of bin/{BOOT} is stale"
        assert "exec " in head and BOOT_MARKER.strip() not in module


@pytest.mark.parametrize("layout", ["editable-hint", "venv-wheel"])
def test_launcher_copied_alone_runs_its_inline_copy(tmp_path: Path, layout: str) -> None:
    """No _ocitool_boot.py next to the launcher: the same bootstrap, from the launcher's end."""
    reports = {}
    for boot in (True, False):
        bindir, site_dir = make_env(tmp_path / str(boot), boot=boot)
        parent = site_dir if layout == "venv-wheel" else tmp_path / "src"
        if not (parent / "ocitool").exists():
            fake_ocitool(parent, layout)
        if layout == "editable-hint":
            setuptools_editable(site_dir, parent / "ocitool", project_version())
        proc = launch(bindir, "ocitool-runc", "--version", "x y")
        assert proc.returncode == 0, proc.stderr
        assert debug_fields(proc.stderr)["boot"] == ("module" if boot else "inline")
        report = json.loads(proc.stdout)
        assert str(bindir) not in report["path"] and "_ocitool_boot" not in report["modules"]
        assert report["argv"] == [str(bindir / "ocitool-runc"), "--version", "x y"]
        assert (bindir / PYC).exists() == boot
        report["path"] = [p.replace(str(tmp_path / str(boot)), "VENV") for p in report["path"]]
        reports[boot] = {k: report[k] for k in ("tag", "path", "before", "modules")}
    assert reports[True] == reports[False]


def test_bootstrap_bytecode_is_cached_and_used(tmp_path: Path) -> None:
    """The point of the module: its bytecode is written once, then loaded, never recompiled."""
    bindir, site_dir = make_env(tmp_path)
    (site_dir / "__editable__.ocitool-9.pth").write_text(f"{REPO}\n")
    assert launch(bindir, "ocitool", "--version").returncode == 0
    assert (bindir / PYC).is_file()
    proc = launch(bindir, "ocitool-runc", "--version", PYTHONVERBOSE="1")
    assert proc.returncode == 0, proc.stderr
    assert f"code object from '{bindir / PYC}'" in proc.stderr
    assert f"code object from {bindir / BOOT}" not in proc.stderr  # i.e. not compiled


def test_no_bytecode_cache_still_works(tmp_path: Path) -> None:
    """PYTHONDONTWRITEBYTECODE (or a read-only scripts directory): compiled on every run."""
    bindir, site_dir = make_env(tmp_path)
    (site_dir / "__editable__.ocitool-9.pth").write_text(f"{REPO}\n")
    for name in LAUNCHERS:
        proc = launch(bindir, name, "--version", PYTHONDONTWRITEBYTECODE="1")
        assert proc.returncode == 0, proc.stderr
        info = debug_fields(proc.stderr)
        assert info["boot"] == "module" and info["mode"] == "path"
    assert not (bindir / "__pycache__").exists()


def test_a_stale_bytecode_cache_is_not_used(tmp_path: Path) -> None:
    """An upgraded _ocitool_boot.py is recompiled (Python checks the source's mtime and size)."""
    bindir, site_dir = make_env(tmp_path)
    (site_dir / "__editable__.ocitool-9.pth").write_text(f"{REPO}\n")
    assert launch(bindir, "ocitool", "--version").returncode == 0
    boot = bindir / BOOT
    boot.write_text(boot.read_text().replace("boot={boot}", "boot={boot}-upgraded"))
    proc = launch(bindir, "ocitool", "--version")
    assert proc.returncode == 0, proc.stderr
    assert debug_fields(proc.stderr)["boot"] == "module-upgraded"


def test_boot_module_is_not_a_command(tmp_path: Path) -> None:
    """setuptools installs script-files executable: running the module must not run Python
    source as shell commands."""
    boot = tmp_path / BOOT
    boot.write_bytes((REPO / "bin" / BOOT).read_bytes())
    boot.chmod(0o755)
    # run by name from a shell (execve fails with ENOEXEC: no #!, so the shell runs it), or by sh
    for argv in (["sh", "-c", '"$1"', "sh", str(boot)], ["sh", str(boot)]):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 2
        assert (
            proc.stderr
            == f"{boot}: not a command; the ocitool and ocitool-runc launchers import it\n"
        )


def test_relative_bare_and_safe_path_invocations(tmp_path: Path) -> None:
    """`bin/ocitool` (a relative directory), `sh ocitool` (no directory: the inline copy, and
    python3 from PATH unless OCITOOL_PYTHON, as before) and PYTHONSAFEPATH (no '' on sys.path)
    all leave the same sys.path, without the launcher's directory."""
    bindir, site_dir = make_env(tmp_path)
    fake_ocitool(site_dir, "wheel")
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OCITOOL_LAUNCH_DEBUG": "1"}
    paths = []
    for argv, cwd, extra, boot in (
        (["bin/ocitool"], tmp_path, {}, "module"),
        (["sh", "ocitool"], bindir, {"OCITOOL_PYTHON": str(bindir / "python3")}, "inline"),
        ([str(bindir / "ocitool")], tmp_path, {"PYTHONSAFEPATH": "1"}, "module"),
    ):
        proc = subprocess.run(
            [*argv, "--version"],
            capture_output=True,
            text=True,
            env=environ | extra,
            cwd=cwd,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert debug_fields(proc.stderr)["boot"] == boot
        report = json.loads(proc.stdout)
        assert report["argv"] == [argv[-1], "--version"]
        assert "_ocitool_boot" not in report["modules"]
        paths.append(report["path"])
    assert paths[0] == paths[1] == paths[2]
    assert "" not in paths[0] and not {"bin", ".", str(bindir)} & set(paths[0])
