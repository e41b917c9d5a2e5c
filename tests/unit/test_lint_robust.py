"""No rule crashes on an oddly shaped config: every accessor tolerates wrong types."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool.lint.engine import LintOptions, run_rules
from ocitool.lint.host import HostFacts
from ocitool.lint.selection import Selection
from ocitool.spec.load import parse_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint_cases import HARDENED  # noqa: E402

_odd: st.SearchStrategy[Any] = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3) | st.just([]) | st.just({}) | st.lists(st.integers(-2, 2) | st.text(max_size=2) | st.none(), max_size=3) | st.dictionaries(st.sampled_from(["type", "path", "allow", "soft", "hard", "names", "action"]), st.none() | st.integers() | st.text(max_size=2), max_size=3)  # fmt: skip


def _pointers(value: Any, base: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [base]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _pointers(v, (*base, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _pointers(v, (*base, i))
    return out


PATHS = [p for p in _pointers(HARDENED) if p]
HOST = HostFacts(
    cgroup_mode="v2",
    controllers=frozenset(),
    apparmor=False,
    selinux=False,
    resctrl=False,
    max_user_namespaces=0,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), _odd), min_size=1, max_size=4))
def test_rules_survive_odd_values(edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    cfg = copy.deepcopy(HARDENED)
    for path, value in edits:
        node: Any = cfg
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError):
            continue
    doc = parse_text(json.dumps(cfg, indent=1), "config.json")
    options = LintOptions(selection=Selection(host_specific=True), host=HOST)
    findings = run_rules(doc, options)
    assert not [d for d in findings if "internal error" in d.message]
    assert all(d.line is not None for d in findings)
