"""The C modules a sealed runtime maps ahead (ocitool/exec/_sealed_extensions.py) are
derived from the code by tools/gen_sealed_extensions.py: the list cannot go stale."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

from ocitool.exec import sealed
from tests.helpers.tools import load_tool


def _generator() -> ModuleType:
    return load_tool("gen_sealed_extensions")


def test_every_c_module_the_code_may_import_is_mapped_ahead() -> None:
    """Derived again now, from the code as it is: nothing may be missing from the
    committed list (run tools/gen_sealed_extensions.py after adding an import)."""
    derived = set(_generator().derive())
    assert derived, "the derivation found nothing: it is broken"
    missing = derived - set(sealed.STDLIB_EXTENSIONS)
    assert not missing, f"run tools/gen_sealed_extensions.py: {sorted(missing)} are missing"


def test_the_derivation_follows_imports_inside_functions(tmp_path: Path) -> None:
    """``termios`` is imported only inside functions (the terminal code): it is found.
    Relative imports resolve to the right ocitool module."""
    gen = _generator()
    seen, others = gen.reachable()
    assert "termios" in others and "select" in others
    assert "ocitool.exec.sealed" in seen and "ocitool.exec.process" in seen
    src = tmp_path / "m.py"
    src.write_text("from . import x\nfrom ..y import z\ndef f():\n    import termios\n")
    found = gen.imports_of(src, "ocitool.a.b.m")
    assert {"ocitool.a.b", "ocitool.a.b.x", "ocitool.a.y", "ocitool.a.y.z", "termios"} <= found


def test_the_list_names_only_standard_library_modules() -> None:
    assert all(n.split(".")[0] in sys.stdlib_module_names for n in sealed.STDLIB_EXTENSIONS)
    assert "zlib" in sealed.STDLIB_EXTENSIONS  # the one that went missing under podman
