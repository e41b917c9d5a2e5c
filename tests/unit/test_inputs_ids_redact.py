"""Bounded input, the one id check and env redaction (issue 17), on their own and through
the command line: each of the defects the probe found, as a test that failed before."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from ocitool.cli.main import main
from ocitool.errors import LoadError, RuntimeStateError, UsageError
from ocitool.exec.state import StateStore
from ocitool.ids import MAX_ID_LENGTH, check_id, id_problem
from ocitool.inputs import read_input
from ocitool.redact import env_entry, hide_env_literals, is_env_pointer, op_text
from ocitool.spec.load import Document, parse_text

SECRET = "s3cr3t-sentinel-value"


# --------------------------------------------------------------------- bounded reader
def test_regular_file_is_read_whole(tmp_path: Path) -> None:
    f = tmp_path / "c.json"
    f.write_bytes(b"{}" * 100)
    assert read_input(str(f)) == b"{}" * 100


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "c.json"
    f.write_bytes(b" " * 101)
    assert read_input(str(f), limit=101) == b" " * 101
    with pytest.raises(UsageError) as info:
        read_input(str(f), "config", limit=100)
    assert info.value.code == "OCI004"


def test_a_symlink_to_dev_zero_fails_at_once(tmp_path: Path) -> None:
    link = tmp_path / "config.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(UsageError) as info:
        read_input(str(link), "config")
    assert info.value.code == "OCI005"
    assert "character device" in info.value.message


def test_a_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    with pytest.raises(UsageError) as info:
        read_input(str(fifo))
    assert info.value.code == "OCI005"


@pytest.mark.parametrize(
    ("name", "code"), [("missing", "OCI001"), ("dir", "OCI002"), ("bad\x00name", "OCI003")]
)
def test_missing_directory_and_bad_names(tmp_path: Path, name: str, code: str) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(UsageError) as info:
        read_input(str(tmp_path) + "/" + name)
    assert info.value.code == code


def test_stdin_is_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x" * 11)))
    with pytest.raises(UsageError) as info:
        read_input("-", stdin=True, limit=10)
    assert info.value.code == "OCI004"


def _run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(list(argv))
    finally:
        sys.stdout, sys.stderr = old
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("command", [["validate"], ["lint", "--no-config"], ["plan"]])
def test_commands_refuse_a_device_config(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "config.json").symlink_to("/dev/zero")
    code, text = _run(*command, str(tmp_path))
    assert code == 2 and "OCI005" in text, text


@pytest.mark.parametrize("command", [["validate"], ["validate", "--format", "json"], ["lint", "--no-config"], ["plan"]])  # fmt: skip
def test_a_symlinked_secret_is_not_echoed(tmp_path: Path, command: list[str]) -> None:
    """validate used to print the first lines of whatever config.json pointed to."""
    secret = tmp_path / "id_rsa"
    secret.write_text(f"-----BEGIN KEY-----\n{SECRET}\n{SECRET}\n-----END KEY-----\n")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "config.json").symlink_to(secret)
    code, text = _run(*command, str(bundle))
    assert code != 0 and "OCI101" in text
    assert SECRET not in text and "BEGIN" not in text, text


def test_a_real_json_file_keeps_its_snippet(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{\n  "ociVersion": "1.0.2",\n  "hostname": 5\n}\n')
    code, text = _run("validate", str(tmp_path))
    assert code == 1 and '"hostname": 5' in text, text


# --------------------------------------------------------------------- container ids
@pytest.mark.parametrize("cid", ["a", "web-1", "a,b", "a+b", "a..b", "_x.", "A" * MAX_ID_LENGTH])
def test_ids_runc_accepts(cid: str) -> None:
    assert id_problem(cid) is None


@pytest.mark.parametrize(
    "cid", ["", ".", "..", "a b", "é", "a\nb", "a/b", "a:b", "a\x00", "\ud800", "x" * 1000]
)
def test_ids_runc_refuses_and_overlong(cid: str) -> None:
    assert id_problem(cid) is not None
    with pytest.raises(RuntimeStateError) as info:
        check_id(cid)
    assert info.value.code == "OCI601"
    assert "invalid container ID format" in info.value.message
    assert len(info.value.message) < 200  # a 1,000-character id is not echoed whole


def test_every_store_path_checks_the_id(tmp_path: Path) -> None:
    """The state store is what every command goes through, plan cache hit or not."""
    store = StateStore(str(tmp_path))
    for call in (store.dir, store.reserve, store.load, store.lock):
        with pytest.raises(RuntimeStateError) as info:
            call("a b")
        assert info.value.code == "OCI601"
    assert not any(tmp_path.iterdir())


def test_ocitool_exec_checks_the_id_before_the_plan_cache(tmp_path: Path) -> None:
    code, text = _run("exec", "--root", str(tmp_path), "--id", "x" * 1000, str(tmp_path))
    assert code == 1 and "OCI601" in text and "ENAMETOOLONG" not in text, text


# --------------------------------------------------------------------- env redaction
@pytest.mark.parametrize(
    ("pointer", "hidden"),
    [
        ("/process/env", True),
        ("/process/env/3", True),
        ("/hooks/prestart/0/env/1", True),
        ("/process/args/0", False),
        ("/hooks/prestart/0/args", False),
        ("/annotations/env", False),
    ],
)
def test_env_pointers(pointer: str, hidden: bool) -> None:
    assert is_env_pointer(pointer) is hidden


def test_env_entries_keep_only_their_name() -> None:
    assert env_entry(f"TOKEN={SECRET}") == "TOKEN=***"
    assert env_entry(SECRET) == "***"
    assert env_entry(f"={SECRET}") == "***"


def test_op_text_hides_env_values() -> None:
    from ocitool.plan.ops.base import Phase
    from ocitool.plan.ops.process import Execve

    env = ("PATH=/bin", f"TOKEN={SECRET}", 'Q="\\')
    op = Execve(phase=Phase.EXEC, path="/x", argv=("/x",), env=env)
    assert SECRET in op.text()  # the plan shows what it will set
    shown = op_text(op)
    assert SECRET not in shown and '"TOKEN=***"' in shown and shown.startswith('execve("/x"')


def test_snippets_hide_env_literals() -> None:
    text = json.dumps(
        {"process": {"env": ["A=1", f"TOKEN={SECRET}"], "args": [5]}, "hostname": "h=1"},
        indent=1,
    )
    doc = parse_text(text)
    lines = [line for _, line in doc.snippet(4, context=10)]
    assert not any(SECRET in line for line in lines)
    assert any('"TOKEN=' + "*" * len(SECRET) + '"' in line for line in lines)
    assert any('"h=1"' in line for line in lines)  # not an env value: shown


def test_snippets_of_unparsed_json_hide_every_assignment() -> None:
    doc = Document(data=None, text='{"env": ["TOKEN=' + SECRET + '",\n')
    assert SECRET not in doc.snippet(1)[0][1]
    assert hide_env_literals('"a=bc", "c"', None) == '"a=**", "c"'


def test_lone_surrogates_are_a_load_error() -> None:
    with pytest.raises(LoadError) as info:
        parse_text('{"hostname": "\\ud800"}')
    assert info.value.code == "OCI104" and info.value.pointer == "/hostname"
    assert parse_text('{"h": "\\ud83d\\ude00"}').data == {"h": "\U0001f600"}


def test_lint_of_a_directory_without_config_is_a_usage_error(tmp_path: Path) -> None:
    code, text = _run("lint", str(tmp_path))
    assert code == 2 and "no config.json found" in text, text
