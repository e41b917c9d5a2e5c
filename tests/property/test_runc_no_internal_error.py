"""No input gets an internal error or a traceback out of ``ocitool-runc`` (issue 17).

The sibling of test_cli_no_traceback.py for the runtime: odd container ids
(spaces, newlines, non-ASCII, undecodable argv bytes, 1,000 characters),
odd paths for --root, --log, --pid-file, --console-socket, --process and
--resources (missing, a file, a directory, a device, a FIFO, huge names),
and JSON with lone surrogates, huge numbers and deep nesting. The property:
every run ends with exit status 0, 1 or 2 and a message, never "internal
error" (ocitool-runc's exit-70 equivalent) and never a traceback.

Nothing here starts a container: configs never reach the executor (they fail
to build), and the one "running" container is a state record pointing at this
test process, with no cgroup, which ``update`` and ``kill 0`` may touch safely.
A fixed budget (max_examples) keeps the module well under a minute.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ocitool.cli.runc import main as runc_main
from ocitool.errors import OciToolError
from ocitool.exec.state import State, StateStore, proc_start_time
from tests.property.test_cli_no_traceback import _redirected, run

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / "examples" / "full" / "config.json").read_text())

BUDGET = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# argv strings: no NUL; undecodable bytes arrive as lone surrogates U+DC80..U+DCFF
ARG = st.text(st.characters(exclude_characters="\x00"), max_size=24) | st.sampled_from(
    ["", "-", "--", "\udcff", "a\udc80b", "x" * 1000, "a\nb", "é", ".", "..", ".plans", "a,b"]
)
SURROGATE_TEXT = st.text(
    st.characters(exclude_characters="\x00") | st.sampled_from(["\ud800", "\udfff", "\udc80"]),
    max_size=8,
)
SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False)
    | SURROGATE_TEXT
)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(SURROGATE_TEXT, inner, max_size=4),
    max_leaves=16,
)
DEEP = st.integers(1, 3000).map(lambda n: '{"memory":' + '{"a":' * n + "1" + "}" * n + "}")


@pytest.fixture(autouse=True)
def _already_sealed(monkeypatch: pytest.MonkeyPatch) -> None:
    """``create`` and ``exec`` first re-execute the interpreter from a sealed copy
    (ocitool/exec/sealed.py), which would replace this test process: run them as the
    re-executed stage does. Nothing here reaches a process start, which checks more."""
    from ocitool.exec import sealed

    monkeypatch.setitem(sealed._state, "sealed", True)


def runc(*argv: str, stdin: bytes = b"") -> tuple[int, str]:
    """Run ``ocitool-runc ARGV`` in-process; fail on an internal error or a traceback."""
    with _redirected(stdin) as (out, err):
        code = runc_main(list(argv))
    text = out.buffer.getvalue().decode("utf-8", "replace") + err.getvalue()  # type: ignore[attr-defined]
    assert "internal error" not in text, f"ocitool-runc {list(argv)!r}:\n{text[-2000:]}"
    assert "Traceback" not in text, f"ocitool-runc {list(argv)!r}:\n{text[-2000:]}"
    assert code in (0, 1, 2), f"exit {code} for ocitool-runc {list(argv)!r}:\n{text[-2000:]}"
    return code, text


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    """Paths of every kind a flag can be given."""
    (tmp_path / "a-file").write_text("{}")
    (tmp_path / "a-dir").mkdir()
    os.mkfifo(tmp_path / "a-fifo")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    return {
        "missing": str(tmp_path / "missing" / "x"),
        "file": str(tmp_path / "a-file"),
        "dir": str(tmp_path / "a-dir"),
        "fifo": str(tmp_path / "a-fifo"),
        "zero": str(tmp_path / "zero.json"),
        "long": str(tmp_path / ("n" * 300)),
        "undecodable": str(tmp_path / "\udcff"),
        "under-a-file": str(tmp_path / "a-file" / "x"),
        "root": str(tmp_path / "root"),
    }


PLACE = st.sampled_from(
    ["missing", "file", "dir", "fifo", "zero", "long", "undecodable", "under-a-file", "root"]
)
COMMANDS = ["state", "start", "delete", "pause", "resume", "ps", "exec", "update", "kill"]


@BUDGET
@given(command=st.sampled_from(COMMANDS), cid=ARG, extra=st.lists(ARG, max_size=2))
def test_lifecycle_commands_on_odd_ids(
    places: dict[str, str], command: str, cid: str, extra: list[str]
) -> None:
    runc("--root", places["root"], command, cid, *extra)
    runc("--root", places["root"], "delete", "--force", "--", cid)


@BUDGET
@given(root=PLACE, log=PLACE | st.none(), fmt=st.sampled_from(["text", "json", "xml"]))
def test_global_flags_name_odd_places(
    places: dict[str, str], root: str, log: str | None, fmt: str
) -> None:
    logging = ["--log", places[log]] if log else []
    runc("--root", places[root], *logging, "--log-format", fmt, "list")
    runc("--root", places[root], *logging, "state", "c1")


@BUDGET
@given(
    blob=JSON | DEEP,
    pid_file=PLACE,
    socket=PLACE | st.none(),
    cid=ARG,
    command=st.sampled_from(["create", "run"]),
)
def test_create_from_odd_bundles(
    places: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    blob: Any,
    pid_file: str,
    socket: str | None,
    cid: str,
    command: str,
) -> None:
    """Configs that can never run (no ociVersion): every failure is a coded error."""
    assume(not (isinstance(blob, dict) and "ociVersion" in blob))
    bundle = tmp_path_factory.mktemp("bundle")
    text = blob if isinstance(blob, str) and blob.startswith('{"memory"') else json.dumps(blob)
    (bundle / "config.json").write_text(text)
    flags = ["--pid-file", places[pid_file]]
    if socket:
        flags += ["--console-socket", places[socket]]
    runc("--root", places["root"], command, "--bundle", str(bundle), *flags, "--", cid)
    runc("--root", places["root"], "delete", "--force", "--", cid)


@pytest.fixture
def running(places: dict[str, str], tmp_path: Path) -> str:
    """A container record that reads as running (this process) and has no cgroup."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(CONFIG))
    store = StateStore(places["root"])
    store.reserve("fake")
    (Path(store.dir("fake")) / "config.json").write_text(json.dumps(CONFIG))
    pid = os.getpid()
    state = State(
        id="fake", bundle=str(bundle), status="running", pid=pid, pid_start=proc_start_time(pid)
    )
    store.save(state)
    return "fake"


@BUDGET
@given(blob=JSON | DEEP, source=st.sampled_from(["stdin", "file", "place"]), place=PLACE)
def test_update_resources(
    places: dict[str, str], running: str, tmp_path: Path, blob: Any, source: str, place: str
) -> None:
    text = blob if isinstance(blob, str) and blob.startswith('{"memory"') else json.dumps(blob)
    if source == "stdin":
        runc("--root", places["root"], "update", "--resources", "-", running, stdin=text.encode())
    elif source == "file":
        path = tmp_path / "resources.json"
        path.write_text(text)
        runc("--root", places["root"], "update", "--resources", str(path), running)
    else:
        runc("--root", places["root"], "update", "--resources", places[place], running)
    runc("--root", places["root"], "kill", running, "0")


@BUDGET
@given(process=JSON | DEEP)
def test_process_json_lowers_or_fails_with_a_code(tmp_path: Path, process: Any) -> None:
    """``exec --process FILE`` without starting anything: read, build and lower it."""
    from ocitool.runc import container as C
    from ocitool.runc.cmd_exec import exec_ops
    from ocitool.runc.common import read_json_object

    path = tmp_path / "process.json"
    text = process if isinstance(process, str) else json.dumps(process)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))  # a lone surrogate: bad UTF-8
    try:
        data = read_json_object(str(path), "a process")
        _, spec = C.spec_from_data({**CONFIG, "process": data}, str(path))
        exec_ops(list(C.lower_spec(spec, "fuzz", str(tmp_path)).ops))
    except OciToolError:
        pass


@BUDGET
@given(doc=JSON, where=st.sampled_from(["hostname", "process", "annotations", "mounts", "x"]))
def test_toolkit_on_surrogates_and_huge_values(tmp_path: Path, doc: Any, where: str) -> None:
    """The toolkit commands on a real config with a member swapped for odd JSON."""
    config = dict(CONFIG, **{where: doc})
    target = tmp_path / "config.json"
    target.write_text(json.dumps(config))
    for argv in (
        ["validate", str(target)],
        ["lint", "--no-config", str(target)],
        ["plan", "--format", "json", str(target)],
        ["exec", "--dry-run", "--id", "fuzz", str(tmp_path)],
    ):
        run(*argv)
