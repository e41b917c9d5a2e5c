""":"
echo "$0: not a command; the ocitool and ocitool-runc launchers import it" >&2
exit 2
":"""

# The bootstrap of the `ocitool` / `ocitool-runc` launchers (installed next to
# them by `[tool.setuptools] script-files`). The string above is a no-op here
# and a guard in sh: setuptools makes every script executable, so typing this
# file's name must not run Python source as shell commands.
#
# WHY a module and not `python3 -c SOURCE`: Python compiles `-c` source on
# every run (~0.5 ms per KiB), but caches an imported module's bytecode in
# `__pycache__/` next to it (pip compiles it at install time). The launcher
# runs `python3 -S -c 'import sys;sys.path[:0]=[DIR];sys.exit(__import__(
# "_ocitool_boot").run())'`; run() first takes DIR back off sys.path and this
# module out of sys.modules. With no usable cache (a read-only scripts
# directory pip did not compile into, or PYTHONDONTWRITEBYTECODE and no .pyc
# yet) it is compiled on every run: it works, ~3 ms slower. If this file is
# missing (a launcher copied alone, or run as `sh ocitool`), the launcher execs
# the copy of this source kept at its own end: same behaviour, ~2 ms slower.
#
# What run() does, without `site` (it runs `site` only as a last resort):
# - drops '' (the working directory) from sys.path;
# - does what site.venv() would: a pyvenv.cfg next to the interpreter (or one
#   directory up) makes that directory sys.prefix; include-system-site-packages
#   adds the base interpreter's directories, after the venv's;
# - appends the site directories computed from the prefixes and the version
#   (user site, lib/pythonX.Y/site-packages, Debian's dist-packages), as site
#   would, but runs no .pth file except ocitool's own editable-install one;
# - per site directory probes for ocitool itself, then for EDITABLE_PTH (the
#   launcher's hint; the directory is listed only when it misses), and stops at
#   the first hit. For setuptools' editable finder it reads MAPPING and imports
#   ocitool from that directory instead of importing the finder (which pulls in
#   pathlib & co); that is what site would get only when no other ocitool is on
#   sys.path, so it is done only when no site directory holds one and
#   PYTHONPATH is unset;
# - imports nothing but `posix` on the way (`os` costs ~1.3 ms).
# Everything rarer is in slow_path(), run only when needed.
# bench/README.md ("The launchers", "Launcher overhead") has the figures.

import posix
import sys

PREFIX = "__editable__.ocitool-"
SYSTEM_SITE = b"include-system-site-packages=true"


def run() -> object:
    """Set up sys.path for ocitool, then run the entry point's main()."""
    path = sys.path
    argv = sys.argv
    # argv: -c DIR SCRIPT ENTRY EDITABLE_PTH USERBASE TRIED ARGS... -> SCRIPT ARGS...
    entry, hint, user_base, tried = argv[3:7]
    del argv[:2], argv[1:5], path[0]  # path[0]: DIR, put there to import this module
    sys.modules.pop("_ocitool_boot", None)
    if path[:1] == [""]:
        del path[0]
    python_path = path[:]  # as Python set it, for the site fallback
    base = sys.base_prefix
    ver = f"/python{sys.version_info[0]}.{sys.version_info[1]}/"
    exe_dir = sys.executable.rpartition("/")[0]
    venv = exe_dir.rpartition("/")[0]
    prefixes = [base]
    cfg = SYSTEM_SITE  # no venv: the user site is used, as site does
    for d in (exe_dir, venv):
        try:
            with open(d + "/pyvenv.cfg", "rb") as f:
                cfg = f.read().replace(b" ", b"").lower()
        except OSError:
            continue
        sys.prefix = sys.exec_prefix = venv
        prefixes = [venv] + [base] * (SYSTEM_SITE in cfg)
        break
    user = SYSTEM_SITE in cfg and not sys.flags.no_user_site and posix.getuid() == posix.geteuid()
    dirs = [user_base + "/lib" + ver + "site-packages"] * user
    for r in prefixes:
        dirs += [r + "/" + lib + ver + "site-packages" for lib in {sys.platlibdir: 0, "lib": 0}]
        if r == base:
            dirs += [
                r + "/local/lib" + ver + "dist-packages",
                r + "/lib/python3/dist-packages",
                r + "/lib" + ver + "dist-packages",
            ]
    pths: list[tuple[str, str]] = []  # (directory, .pth) pairs left to slow_path
    mapped = ""  # parent directory of ocitool, from setuptools' MAPPING
    has_copy = done = False
    for d in dirs:
        if d in path or not posix.access(d, 0):
            continue
        path.append(d)
        if posix.access(d + "/ocitool/__init__.py", 0):
            has_copy = done = True
        if done:
            continue
        try:
            if posix.access(d + "/" + hint, 0):
                names = [hint]
            else:
                names = [n for n in posix.listdir(d) if n.startswith(PREFIX) and n[-4:] == ".pth"]
        except OSError:
            names = []
        for name in names:
            done = True
            target = editable_mapping(d, name)
            if target.endswith("/ocitool"):
                mapped = target[:-8]
            else:
                pths.append((d, name))
    debug = posix.environ.get(b"OCITOOL_LAUNCH_DEBUG")
    ocitool = None
    if not pths and not (mapped and (has_copy or posix.environ.get(b"PYTHONPATH"))):
        try:
            if mapped:
                path.insert(0, mapped)
                import ocitool

                del path[0]
            import ocitool
        except ImportError:
            ocitool = None
    if ocitool is None or debug:
        slow_path(argv[0], ocitool, python_path, pths, mapped, debug, tried)
    return __import__(entry, None, None, ["main"]).main()


def editable_mapping(d: str, name: str) -> str:
    """The ocitool directory in MAPPING if the .pth is setuptools' one-line finder hook, else ""."""
    try:
        with open(d + "/" + name, "rb") as f:
            text = f.read().strip()
        if not text.startswith(b"import ") or b"\n" in text:
            return ""
        module = text[7 : text.index(b";")].decode()
        with open(d + "/" + module + ".py", "rb") as f:
            text = f.read()
        start = text.index(b"\nMAPPING")
        value = text[start : text.index(b"\n", start + 1)].partition(b"=")[2]
        mapping = eval(value, {"__builtins__": {}})  # a dict literal; no ast (~2 ms)
        return str(mapping["ocitool"]).rstrip("/")
    except Exception:
        return ""


def slow_path(
    script: str,
    ocitool: object,
    python_path: list[str],
    pths: list[tuple[str, str]],
    mapped: str,
    debug: object,
    tried: str,
) -> None:
    """The rare cases: other .pth shapes, a finder after PathFinder, `site`, the debug line."""
    path = sys.path
    mode = "fast-editable" if mapped else "installed"
    if ocitool is None:
        if path[:1] == [mapped]:
            del path[0]  # the quick import from MAPPING's directory failed
        after: dict[str, int] = {}  # site puts a .pth's path entries right after its directory
        for d, name in pths:
            try:
                with open(d + "/" + name, encoding="utf-8", errors="surrogateescape") as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            for line in lines:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if line.startswith(("import ", "import\t")):
                    exec(line)  # e.g. setuptools' finder for a renamed package
                    mode = "editable-finder"
                    continue
                line = line if line.startswith("/") else d + "/" + line
                if line not in path and posix.access(line, 0):
                    after[d] = after.get(d, path.index(d) + 1)
                    path.insert(after[d], line)
                    after[d] += 1
                    mode = "path"
        finders: list[object] = []
        if mapped:

            class OcitoolEditableFinder:
                """ocitool from MAPPING's directory, after PathFinder (as setuptools' finder is)."""

                pathfinder = next(
                    f for f in sys.meta_path if getattr(f, "__name__", "") == "PathFinder"
                )

                @classmethod
                def find_spec(cls, name: str, p: object = None, target: object = None) -> object:
                    return cls.pathfinder.find_spec(name, [mapped]) if name == "ocitool" else None

            finders.append(OcitoolEditableFinder)
            sys.meta_path.append(OcitoolEditableFinder)
        try:
            import ocitool
        except ImportError:
            # Only full `site` (another .pth, sitecustomize, ...) knows where ocitool is.
            path[:] = python_path
            sys.meta_path[:] = [f for f in sys.meta_path if f not in finders]
            import site

            site.main()
            mode = "site"
            try:
                import ocitool
            except ImportError as exc:
                next_interpreter(script, tried, exc)
    if debug:
        boot = "module" if __name__ == "_ocitool_boot" else "inline"
        sys.stderr.write(
            f"ocitool-launch: python={sys.executable} no_site={sys.flags.no_site} "
            f"site_imported={int('site' in sys.modules)} mode={mode} "
            f"ocitool={getattr(ocitool, '__file__', None)} boot={boot}\n"
        )


def next_interpreter(script: str, tried: str, exc: ImportError) -> None:
    """This interpreter cannot import ocitool: exec the next candidate, or fail naming them all.

    The candidates, in the launcher's order: $OCITOOL_PYTHON alone if set; else the python3
    next to the script, the one next to the symlink's target, then each python3 on PATH.
    TRIED (the launcher's argument, empty at first) carries the ones that failed to the next
    interpreter as `path<TAB>reason` lines, so every hop skips them and the last one can
    name them all. A python3 that exists but cannot be run (under a directory this user
    cannot search, say pyenv's under /root) is named too, never skipped silently.
    """
    import os

    def real(p: str) -> str:
        """One name per interpreter: /bin/python3 is /usr/bin/python3 where /bin links to
        usr/bin, while a venv's bin/python3 (a symlink to the base) stays its own."""
        return os.path.realpath(os.path.dirname(p) or ".") + "/" + os.path.basename(p)

    failed = dict(line.split("\t", 1) for line in tried.split("\n") if "\t" in line)
    failed[real(sys.executable)] = f"cannot import ocitool: {exc}".replace("\n", " ")
    explicit = os.environ.get("OCITOOL_PYTHON")
    if explicit:
        candidates = [explicit]
    else:
        candidates = [os.path.dirname(script) + "/python3"] if "/" in script else []
        if os.path.islink(script):
            candidates.append(os.path.dirname(os.path.realpath(script)) + "/python3")
        for d in os.environ.get("PATH", os.defpath).split(":"):
            candidates.append((d or ".") + "/python3")
    orig = getattr(sys, "orig_argv", [])
    for candidate in dict.fromkeys(real(c) for c in candidates):
        if candidate in failed:
            continue
        try:
            st = os.stat(candidate)
        except FileNotFoundError:
            continue
        except OSError as err:
            failed[candidate] = f"cannot reach it: {err.strerror}"
            continue
        if not os.access(candidate, os.X_OK) or not st.st_mode & 0o111:
            failed[candidate] = "not executable by this user"
            continue
        if "-c" not in orig:
            break  # no command line to hand over (an interpreter older than 3.10)
        at = orig.index("-c") + 7  # -c C DIR SCRIPT ENTRY EDITABLE_PTH USERBASE TRIED
        carried = "\n".join(f"{p}\t{why}" for p, why in failed.items())
        try:
            os.execv(candidate, [candidate, *orig[1:at], carried, *orig[at + 1 :]])
        except OSError as err:
            failed[candidate] = f"cannot run it: {err.strerror}"
    name = script.rpartition("/")[2]
    listed = "; ".join(f"{p} ({why})" for p, why in failed.items())
    sys.stderr.write(
        f"{name}: no interpreter can import ocitool; tried: {listed}. "
        "Set OCITOOL_PYTHON to the interpreter ocitool is installed for\n"
    )
    sys.exit(1)
