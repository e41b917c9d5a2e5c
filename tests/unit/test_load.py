"""The loader: positions for every pointer, duplicate keys, malformed JSON, UTF-8, stdin, bundles."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from ocitool.errors import LoadError, UsageError
from ocitool.spec.load import (
    Document,
    join_pointer,
    load,
    parse_text,
    resolve_pointer,
    split_pointer,
)

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "examples" / "full" / "config.json"


def all_pointers(value: object, base: str = "") -> list[str]:
    out = [base]
    if isinstance(value, dict):
        for key, child in value.items():
            out += all_pointers(child, join_pointer(base, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += all_pointers(child, join_pointer(base, index))
    return out


SAMPLE = """{
  "ociVersion": "1.3.0",
  "process": {
    "args": ["sh", "-c"],
    "cwd": "/"
  },
  "we/ird~key": {"a b": [1, 2.5, true, null, "x\\"y"]}
}
"""


def test_value_positions_point_at_the_first_character_of_the_value() -> None:
    doc = parse_text(SAMPLE, "sample.json")
    assert doc.position("") == (1, 1)
    assert doc.position("/ociVersion") == (2, 17)
    assert doc.position("/process") == (3, 14)
    assert doc.position("/process/args/1") == (4, 20)
    assert doc.position("/process/cwd") == (5, 12)
    assert doc.position("/we~1ird~0key/a b/4") == (7, 46)


def test_key_positions_point_at_the_member_name() -> None:
    doc = parse_text(SAMPLE)
    assert doc.key_position("/process/cwd") == (5, 5)
    assert doc.key_position("/we~1ird~0key") == (7, 3)


def test_missing_member_falls_back_to_the_nearest_parent() -> None:
    doc = parse_text(SAMPLE)
    assert doc.position("/process/user/uid") == doc.position("/process")


def test_every_pointer_of_the_full_example_maps_to_its_value_text() -> None:
    text = FULL.read_text()
    doc = parse_text(text, str(FULL))
    lines = text.splitlines()
    for pointer in all_pointers(doc.data):
        line, column = doc.position(pointer) or (0, 0)
        value = resolve_pointer(doc.data, pointer)
        rest = lines[line - 1][column - 1 :]
        if isinstance(value, dict | list):
            expected_start = "{" if isinstance(value, dict) else "["
        else:
            expected_start = json.dumps(value)[:1]
        assert rest.startswith(expected_start), (pointer, line, column, rest)
        if isinstance(value, str | int | bool) or value is None:
            assert rest.startswith(json.dumps(value)), (pointer, rest)


def test_positions_are_lazy() -> None:
    doc = parse_text(SAMPLE)
    assert doc._index is None  # parsing alone does not scan
    doc.position("/process")
    assert doc._index is not None


def test_positions_and_duplicates_in_deeply_nested_documents() -> None:
    depth = 900  # json accepts it; a recursive scanner would need ~3 frames a level
    text = "[" * depth + '{"a": 1, "a": 2}' + "]" * depth
    with pytest.raises(LoadError) as info:
        parse_text(text, "deep.json")
    assert info.value.code == "OCI103"
    assert info.value.pointer == "/0" * depth + "/a"
    assert (info.value.line, info.value.column) == (1, depth + 10)
    doc = parse_text("[" * depth + "[1], 7" + "]" * depth)
    assert doc.position("/0" * (depth - 1) + "/1") == (1, depth + 6)
    assert doc.key_position("/0" * (depth - 1) + "/9") == (1, depth)  # nearest parent


def test_pointer_helpers_round_trip_escapes() -> None:
    pointer = join_pointer(join_pointer("", "a/b"), "c~d")
    assert pointer == "/a~1b/c~0d"
    assert split_pointer(pointer) == ["a/b", "c~d"]
    assert resolve_pointer({"a/b": {"c~d": 7}}, pointer) == 7
    with pytest.raises(KeyError):
        resolve_pointer({"a": [1]}, "/a/5")


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{"a": 1,}', 1, 9),
        ('{\n  "a": [1, 2\n}', 3, 1),
        ('{"a": tru}', 1, 7),
        ("", 1, 1),
        ('{"a": 1} x', 1, 10),
        ("{'a': 1}", 1, 2),
    ],
)
def test_malformed_json_reports_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(LoadError) as info:
        parse_text(text, "bad.json")
    err = info.value
    assert err.code == "OCI101"
    assert (err.line, err.column) == (line, column)
    assert err.path == "bad.json"
    assert "malformed JSON" in err.message


def test_nan_is_refused() -> None:
    with pytest.raises(LoadError) as info:
        parse_text('{"a": NaN}')
    assert info.value.code == "OCI101"


def test_duplicate_keys_are_reported_with_both_positions() -> None:
    text = '{\n  "root": {"path": "a",\n           "path": "b"}\n}'
    with pytest.raises(LoadError) as info:
        parse_text(text, "dup.json")
    err = info.value
    assert err.code == "OCI103"
    assert err.pointer == "/root/path"
    assert (err.line, err.column) == (3, 12)
    assert "first defined at 2:12" in err.message
    assert len(err.diagnostics) == 1


def test_duplicate_keys_in_nested_arrays_are_all_found() -> None:
    text = '{"a": [{"x": 1, "x": 2}, {"y": 1, "y": 2, "y": 3}]}'
    with pytest.raises(LoadError) as info:
        parse_text(text)
    pointers = [d.pointer for d in info.value.diagnostics]
    assert pointers == ["/a/0/x", "/a/1/y", "/a/1/y"]


def test_same_key_in_different_objects_is_not_a_duplicate() -> None:
    doc = parse_text('{"a": {"x": 1}, "b": {"x": 2}}')
    assert doc.duplicate_keys() == []


def test_invalid_utf8_reports_the_byte_and_its_position(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'{\n  "hostname": "caf\xe9"\n}')
    with pytest.raises(LoadError) as info:
        load(str(path))
    err = info.value
    assert err.code == "OCI102"
    assert "0xe9" in err.message
    assert (err.line, err.column) == (2, 19)


def test_utf8_text_and_bom_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes('\ufeff{"hostname": "café ☕"}'.encode())
    doc = load(str(path))
    assert doc.data == {"hostname": "café ☕"}
    assert doc.position("/hostname") == (1, 14)


def test_bundle_directory_loads_config_json(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"ociVersion": "1.0.0"}')
    doc = load(str(tmp_path))
    assert doc.path == str(tmp_path / "config.json")
    assert doc.data["ociVersion"] == "1.0.0"


def test_missing_file_and_bundle_without_config_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        load(str(tmp_path / "nope.json"))
    assert info.value.code == "OCI001"
    with pytest.raises(UsageError) as info:
        load(str(tmp_path))
    assert info.value.hint and "config.json" in info.value.hint


def test_stdin_is_read_when_target_is_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = io.TextIOWrapper(io.BytesIO(b'{"ociVersion": "1.1.0"}'))
    monkeypatch.setattr(sys, "stdin", fake)
    doc = load("-")
    assert doc.path == "<stdin>"
    assert doc.data == {"ociVersion": "1.1.0"}


def test_snippet_returns_numbered_lines() -> None:
    doc = Document(data=None, text='{\n"a",\n"b",\n"c"\n')
    assert doc.snippet(2, context=1) == [(1, "{"), (2, '"a",'), (3, '"b",')]


def test_snippet_shows_nothing_of_a_text_that_is_not_json() -> None:
    """A config.json symlinked to a key file must not be echoed into CI logs."""
    doc = Document(data=None, text="-----BEGIN KEY-----\nsecret\n")
    assert doc.snippet(1, context=2) == []
