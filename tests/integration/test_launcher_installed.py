"""The installed ``ocitool`` / ``ocitool-runc`` launchers start real containers without ``site``.

Covers the three install layouts the launcher must handle: this interpreter's
install (``pip install -e`` in CI), a normal ``pip install`` of the wheel into
a venv, and Debian's system Python (``/usr/local/lib/python3.X/dist-packages``,
inside a private mount namespace so the host's /usr/local is untouched). In
each, pip must put the bootstrap module ``_ocitool_boot.py`` next to the
launchers and byte-compile it, so no run compiles it again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(sysconfig.get_path("scripts"))
VER = f"python{sys.version_info[0]}.{sys.version_info[1]}"
EDITABLE = "__editable__.ocitool-*.pth"
BOOT = "_ocitool_boot.py"
PYC = f"__pycache__/_ocitool_boot.{sys.implementation.cache_tag}.pyc"


def debug_fields(stderr: str) -> dict[str, str]:
    line = next(ln for ln in stderr.splitlines() if ln.startswith("ocitool-launch:"))
    return dict(part.split("=", 1) for part in line.split()[1:])


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, OCITOOL_LAUNCH_DEBUG="1")
    environ.update(env)
    return subprocess.run(argv, capture_output=True, text=True, env=environ, timeout=120)


def installed(name: str) -> Path:
    """The real script (not a pyenv shim found on PATH)."""
    path = SCRIPTS / name
    assert path.exists(), f"{path} is not installed (bash tools/install-test-deps.sh)"
    assert path.read_text().startswith("#!/bin/sh"), f"{path} is not ocitool's launcher"
    assert (SCRIPTS / BOOT).read_bytes() == (REPO / "bin" / BOOT).read_bytes(), (
        f"{SCRIPTS / BOOT} is missing or stale (pip install -e .)"
    )
    return path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    base = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)]
    proc = subprocess.run(base, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:  # no index reachable: build with this environment's setuptools
        proc = subprocess.run(
            [*base, "--no-build-isolation"], capture_output=True, text=True, timeout=600
        )
    assert proc.returncode == 0, proc.stderr
    (whl,) = out.glob("ocitool-*.whl")
    return whl


def test_installed_versions_skip_site(root_required: None) -> None:
    for name, banner in (("ocitool", "ocitool 0."), ("ocitool-runc", "ocitool-runc version")):
        proc = run([str(installed(name)), "--version"])
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(banner)
        info = debug_fields(proc.stderr)
        assert info["no_site"] == "1" and info["site_imported"] == "0", info
        assert info["mode"] != "site"
        assert info["boot"] == "module"
        # setuptools' own editable finder (pip install -e): read, not imported
        purelib = Path(sysconfig.get_path("purelib"))
        if any(p.read_text().startswith("import ") for p in purelib.glob(EDITABLE)):
            assert info["mode"] == "fast-editable", info


def imported(stderr: str) -> list[str]:
    """Module names from -X importtime output, in import order."""
    return [
        ln.split("|")[-1].strip() for ln in stderr.splitlines() if ln.startswith("import time:")
    ][1:]


def test_installed_bootstrap_imports_nothing_of_its_own() -> None:
    """-X importtime: before ocitool's first module, only what `python3 -S -c pass` imports
    itself (no os, no site, no editable finder) and the bootstrap module, from its cached
    bytecode: the bootstrap works with `posix` alone."""
    floor = imported(run([sys.executable, "-S", "-c", "pass"], PYTHONPROFILEIMPORTTIME="1").stderr)
    assert "encodings" in floor
    for name in ("ocitool", "ocitool-runc"):
        argv = [str(installed(name)), "--version"]
        proc = run(argv, PYTHONPROFILEIMPORTTIME="1", OCITOOL_LAUNCH_DEBUG="")
        assert proc.returncode == 0, proc.stderr
        mods = imported(proc.stderr)
        assert "ocitool" in mods, mods
        assert mods.index("_ocitool_boot") < mods.index("ocitool"), mods
        assert set(mods[: mods.index("ocitool")]) <= {*floor, "_ocitool_boot"}, mods
        verbose = run(argv, PYTHONVERBOSE="1", OCITOOL_LAUNCH_DEBUG="").stderr
        assert f"code object from '{SCRIPTS / PYC}'" in verbose


def test_installed_exec_runs_a_container_without_site(
    bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    bundle = bundle_factory(["/bin/sh", "-c", "echo inside; exit 7"])
    argv = [str(installed("ocitool")), "exec", "--root", str(tmp_path / "state"), str(bundle)]
    assert run(argv).returncode == 7  # the first run lowers and fills the plan cache
    proc = run(argv, PYTHONPROFILEIMPORTTIME="1")
    assert proc.returncode == 7, proc.stderr
    assert proc.stdout == "inside\n"
    imported = {
        ln.split("|")[-1].strip()
        for ln in proc.stderr.splitlines()
        if ln.startswith("import time:")
    }
    assert "ocitool.cli.exec" in imported
    # -X importtime proof (plan-cache hit): no site, no .pth hooks, no setuptools finder,
    # none of the heavy modules a console script would pull in
    assert not imported & {"site", "pathlib", "re", "jsonschema", "rich", "lark"}, imported
    assert not any(m.startswith("__editable__") for m in imported)


def test_installed_runc_run_and_lifecycle(
    bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    bundle = bundle_factory(["/bin/sh", "-c", "exit 5"])
    runc = str(installed("ocitool-runc"))
    root = str(tmp_path / "state")
    cid = f"launch{os.getpid()}"
    proc = run([runc, "--root", root, "run", "--bundle", str(bundle), cid])
    assert proc.returncode == 5, proc.stderr
    assert debug_fields(proc.stderr)["no_site"] == "1"
    proc = run([runc, "--root", root, "state", cid])
    assert proc.returncode != 0 and "does not exist" in proc.stderr


def test_pip_install_into_venv(
    wheel: Path, bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    """A normal (non-editable) install into a venv: the venv's copy is the one imported."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
        timeout=120,
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python3"), "install",
         "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    site_dir = venv / "lib" / VER / "site-packages"
    # the bootstrap module lands next to the launchers, byte-compiled by pip, in RECORD
    assert (venv / "bin" / BOOT).read_bytes() == (REPO / "bin" / BOOT).read_bytes()
    assert (venv / "bin" / PYC).is_file()
    record = (site_dir / "ocitool-0.1.0.dist-info" / "RECORD").read_text()
    assert f"../../../bin/{BOOT}," in record and f"../../../bin/{PYC}," in record
    proc = run([str(venv / "bin" / "ocitool-runc"), "--version"])
    assert proc.returncode == 0, proc.stderr
    info = debug_fields(proc.stderr)
    assert info["python"] == str(venv / "bin" / "python3")
    assert info["ocitool"] == str(site_dir / "ocitool" / "__init__.py")
    assert info["site_imported"] == "0" and info["boot"] == "module"
    bundle = bundle_factory(["/bin/true"])
    argv = [str(venv / "bin" / "ocitool"), "exec", "--root", str(tmp_path / "st"), str(bundle)]
    proc = run(argv)
    assert proc.returncode == 0, proc.stderr
    assert debug_fields(proc.stderr)["ocitool"].startswith(str(site_dir))
    # pip uninstall takes the module and its bytecode away too
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python3"), "uninstall",
         "-y", "-q", "ocitool"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert not (venv / "bin" / BOOT).exists() and not (venv / "bin" / PYC).exists()


def test_debian_system_python_dist_packages(wheel: Path, root_required: None) -> None:
    """Debian's python3 + `pip install` as root: scripts in /usr/local/bin, code in dist-packages.

    Done in a private mount namespace with tmpfs over both directories, so nothing
    on the host changes. Only --version: Debian's python has no cffi here.
    """
    deb = Path("/usr/bin/python3")
    if not deb.exists() or subprocess.run([str(deb), "-m", "pip", "--version"]).returncode:
        if os.environ.get("CI"):
            pytest.fail("Debian's python3 with pip is needed (apt-get install python3-pip)")
        pytest.skip("no Debian python3 with pip")
    ver = subprocess.run(
        [str(deb), "-c", "import sys; print('python%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    dist = f"/usr/local/lib/{ver}/dist-packages"
    script = f"""
set -e
mkdir -p {dist}
mount -t tmpfs tmpfs /usr/local/bin
mount -t tmpfs tmpfs {dist}
{deb} -m pip install -q --disable-pip-version-check --no-deps --no-index \
    --break-system-packages {wheel} >/dev/null 2>&1 || \
  {deb} -m pip install -q --disable-pip-version-check --no-deps --no-index {wheel} >/dev/null
head -1 /usr/local/bin/ocitool-runc
ls /usr/local/bin/__pycache__/_ocitool_boot.*.pyc >/dev/null  # compiled by pip
/usr/local/bin/ocitool-runc --version
/usr/local/bin/ocitool --version
"""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "OCITOOL_LAUNCH_DEBUG": "1", "HOME": "/root"}
    assert shutil.which("unshare")
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "#!/bin/sh"
    assert "ocitool-runc version" in proc.stdout and "ocitool 0." in proc.stdout
    infos = [debug_fields(ln) for ln in proc.stderr.splitlines() if ln.startswith("ocitool-launch")]
    assert len(infos) == 2
    for info in infos:
        assert info["python"] == "/usr/bin/python3"  # python3 on PATH, none next to the script
        assert info["ocitool"] == f"{dist}/ocitool/__init__.py"
        assert info["no_site"] == "1" and info["site_imported"] == "0"
        assert info["boot"] == "module"
