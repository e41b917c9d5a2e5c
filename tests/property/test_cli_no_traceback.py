"""No input ever gets a traceback out of the ``ocitool`` command line (DESIGN.md rule 5).

The real dispatcher (``ocitool.cli.main.main``) runs in-process on garbage of
every kind: missing, empty, truncated and non-UTF-8 files, directories, random
bytes, JSON of the wrong shape, deeply nested JSON, huge and negative numbers,
damaged real configs and profiles, and random flag values. Whatever happens,
the exit status must be 0, 1 or 2 -- never 70 (``internal error``: an
exception that escaped a command) -- and "Traceback" must not appear.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocitool.cli.common import EXIT_INTERNAL
from ocitool.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "seccomp"
CONFIG = json.loads((ROOT / "examples" / "full" / "config.json").read_text())
MOBY = json.loads((DATA / "moby-default.json").read_text())
POLICY = (ROOT / "profiles" / "seccomp" / "default.policy").read_text()

# Text a command line can carry: argv strings are C strings, so never hold NUL.
ARG_CHARS = st.characters(exclude_characters="\x00")

FEW = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@contextlib.contextmanager
def _redirected(stdin: bytes) -> Iterator[tuple[io.TextIOWrapper, io.StringIO]]:
    """Real-looking standard streams (with ``.buffer``), so commands see what a shell gives."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout, sys.stderr = out, err
    try:
        yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr = old


def run(*argv: str, stdin: bytes = b"") -> tuple[int, str]:
    """Run ``ocitool ARGV``; fail the test on an internal error or a traceback."""
    with _redirected(stdin) as (out, err):
        code = main(list(argv))
    text = out.buffer.getvalue().decode("utf-8", "replace") + err.getvalue()  # type: ignore[attr-defined]
    assert code != EXIT_INTERNAL, f"internal error for ocitool {list(argv)!r}:\n{text[-2000:]}"
    assert code in (0, 1, 2), f"exit {code} for ocitool {list(argv)!r}:\n{text[-2000:]}"
    assert "Traceback" not in text, f"traceback for ocitool {list(argv)!r}:\n{text[-2000:]}"
    return code, text


# --- fixed garbage -------------------------------------------------------------------------

_SECCOMP = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}],
}

GARBAGE: dict[str, bytes] = {
    "empty.json": b"",
    "space.json": b"  \n\t ",
    "truncated.json": b'{"ociVersion": "1.0.2", "process": {"args": ["sh"',
    "random.bin": bytes(range(256)) * 3,
    "nonutf8.json": b'{"ociVersion": "1.0.2", "hostname": "\xff\xfe"}',
    "bom.json": b"\xef\xbb\xbf{}",
    "list.json": b"[1, 2, 3]",
    "number.json": b"1e999999",
    "string.json": b'"config"',
    "null.json": b"null",
    "nan.json": b'{"defaultAction": NaN}',
    "deep-list.json": b"[" * 5000 + b"]" * 5000,
    "deep-object.json": b'{"a":' * 3000 + b"1" + b"}" * 3000,
    "duplicate.json": b'{"defaultAction": "SCMP_ACT_ALLOW", "defaultAction": "SCMP_ACT_KILL"}',
    "huge.json": json.dumps(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 10**30,
            "syscalls": [
                {
                    "names": ["read"],
                    "action": "SCMP_ACT_ERRNO",
                    "errnoRet": 2**64,
                    "args": [{"index": 2**70, "value": -(2**70), "op": "SCMP_CMP_EQ"}],
                }
            ],
        }
    ).encode(),
    "negative.json": json.dumps(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": -1,
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [
                {
                    "names": ["read"],
                    "action": "SCMP_ACT_ERRNO",
                    "errnoRet": -3,
                    "args": [{"index": -1, "value": -1, "valueTwo": -2, "op": "SCMP_CMP_LT"}],
                }
            ],
        }
    ).encode(),
    "wrong-types.json": b'{"defaultAction": 5, "syscalls": {"a": 1}, "architectures": "x"}',
    "wrong-rules.json": json.dumps(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {"names": "read", "action": ["x"]},
                3,
                None,
                {"names": [1, None], "action": "SCMP_ACT_ERRNO", "args": [{"index": "a"}, 7]},
            ],
        }
    ).encode(),
    "docker-types.json": json.dumps(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "archMap": 5,
            "syscalls": [
                {
                    "names": ["read"],
                    "action": "SCMP_ACT_ALLOW",
                    "includes": {"caps": "x", "arches": 5, "minKernel": "abc"},
                    "excludes": [],
                }
            ],
        }
    ).encode(),
    "docker-arch.json": json.dumps(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "archMap": [{"architecture": 5, "subArchitectures": "a"}, 3],
            "syscalls": [
                {"name": "read", "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5.x"}},
                {"names": "write", "action": "SCMP_ACT_ALLOW", "comment": 5, "args": [3]},
                {"names": ["close"], "action": "SCMP_ACT_ERRNO", "errno": ["EPERM"]},
            ],
        }
    ).encode(),
    "docker-kernel.json": json.dumps(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "archMap": None,
            "syscalls": [
                {
                    "name": "read",
                    "action": "SCMP_ACT_ALLOW",
                    "excludes": {"minKernel": "99999999999999999999.1", "caps": [5]},
                }
            ],
        }
    ).encode(),
    "config-seccomp-int.json": b'{"ociVersion": "1.0.2", "linux": {"seccomp": 5}}',
    "config-float-errno.json": json.dumps(
        {
            "ociVersion": "1.0.2",
            "linux": {
                "seccomp": {
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1.5}],
                }
            },
        }
    ).encode(),
    "config-shapes.json": b'{"ociVersion": "1.0.2", "linux": 5, "process": [], "mounts": {}, '
    b'"root": "x", "hostname": 5}',
    "config-values.json": json.dumps(
        {
            "ociVersion": "1.0.2",
            "process": {
                "args": ["sh"],
                "cwd": "/",
                "user": {"uid": -1, "gid": 10**20},
                "capabilities": {"bounding": ["CAP_FOO", 5]},
                "rlimits": [{"type": "RLIMIT_NOFILE", "soft": -1, "hard": 1e30}],
            },
            "root": {"path": "rootfs"},
            "linux": {
                "namespaces": [{"type": "pid"}, 5],
                "resources": {
                    "memory": {"limit": -5, "swap": "x"},
                    "cpu": {"quota": 1e300, "shares": -1},
                },
            },
        }
    ).encode(),
    "config-version.json": b'{"ociVersion": "9.0.0"}',
    "bare.policy": b"default allow\nallow read if arg0 == ",
    "binary.policy": b"\xff\xfe garbage",
    "numbers.policy": b"default errno(99999999999999999999)\narch x86_64\n"
    b"allow read if arg0 == 999999999999999999999999999\n",
    "include-passwd.policy": b'include "/etc/passwd"\n',
    "include-self.policy": b'include "include-self.policy"\n',
    "include-dir.policy": b'include "."\n',
    "empty.policy": b"",
    "expect.txt": b"read ALLOW\nwrite(1,2 ERRNO\n(\n  x\nread(zz) ALLOW\n\xff\n",
    "short.bpf": b"\x06\x00\x00",
    "jeq.bpf": b"\x15\x00\xff\xff\x00\x00\x00\x00" * 3,
    "ret.bpf": b"\x06\x00\x00\x00\x00\x00\xff\x7f",
    "ja.bpf": b"\x05\x00\x00\x00\xff\xff\xff\xff",
    "ld.bpf": b"\x20\x00\x00\x00\xff\xff\x00\x00\x06\x00\x00\x00\x00\x00\xff\x7f",
    "div.bpf": b"\x34\x00\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00\x00\x00\xff\x7f",
    "bad-pyproject.toml": b"[tool.ocitool.lint\n",
    "binary-pyproject.toml": b"\xff\xfe\x00",
    "tool-int.toml": b"tool = 5\n",
    "ocitool-str.toml": b'[tool]\nocitool = "x"\n',
    "severity-list.toml": b'[tool.ocitool.lint.severity]\nOCS101 = ["x"]\n',
    "select-typo.toml": b'[tool.ocitool.lint]\nselect = ["nope"]\n',
}


@pytest.fixture(scope="module")
def garbage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("garbage")
    for name, blob in GARBAGE.items():
        (root / name).write_bytes(blob)
    (root / "a-dir").mkdir()
    (root / "bundle-without-config").mkdir()
    (root / "bundle").mkdir()
    (root / "bundle" / "config.json").write_bytes(GARBAGE["truncated.json"])
    return root


def _inputs(root: Path) -> list[str]:
    names = [n for n in GARBAGE if not n.endswith(".toml")]
    extra = ["a-dir", "bundle-without-config", "bundle", "missing.json", "missing.policy"]
    return [str(root / n) for n in names + extra] + ["/dev/null"]


def _commands(path: str, root: Path) -> list[list[str]]:
    expect = str(root / "expect.txt")
    cmds = [
        ["validate", path],
        ["validate", "--format", "json", path],
        ["validate", "--kind", "state", path],
        ["validate", "--kind", "features", "--format", "json", path],
        ["seccomp", "compile", path, "--arch", "x86_64"],
        ["seccomp", "compile", path, "--format", "json", "--arch", "aarch64", "--strict"],
        ["seccomp", "disasm", path],
        ["seccomp", "disasm", path, "--arch", "x86_64"],
        ["seccomp", "emulate", path, "--syscall", "read", "--arch", "x86_64", "--args", "1,2"],
        ["seccomp", "emulate", path, "--syscall", "9999999999", "--arch", "x86", "--format=json"],
        ["seccomp", "explain", path, "--syscall", "read", "--arch", "x86_64", "--args", "-1"],
        ["seccomp", "explain", path, "--syscall", "0x99999999999999999", "--format", "json"],
        ["seccomp", "convert", path],
        ["seccomp", "convert", path, "--caps", "bogus", "--arch", "amd64", "--kernel", "5.4"],
        ["seccomp", "test", path, "--expect", expect],
        ["seccomp", "test", str(root / "negative.json"), "--expect", path],
        ["spec", "-o", "-", "--seccomp", path],
    ]
    cmds += [
        ["lint", "--no-config", f"--format={f}", path] for f in ("text", "json", "sarif", "github")
    ]
    cmds += [["plan", "--format", f, path] for f in ("tree", "strace", "json")]
    return cmds


def test_garbage_files(garbage: Path) -> None:
    """Every command on every kind of broken input ends in a message, never a crash."""
    for path in _inputs(garbage):
        for argv in _commands(path, garbage):
            run(*argv)


def test_garbage_on_stdin(garbage: Path) -> None:
    for name in ("truncated.json", "random.bin", "nonutf8.json", "deep-list.json", "huge.json"):
        blob = GARBAGE[name]
        for argv in (
            ["validate", "-"],
            ["lint", "--no-config", "--format", "sarif", "-"],
            ["plan", "--format", "json", "-"],
            ["seccomp", "compile", "-", "--arch", "x86_64"],
            ["seccomp", "disasm", "-"],
        ):
            run(*argv, stdin=blob)


def test_bad_lint_settings(garbage: Path) -> None:
    broken = ["bad-pyproject.toml", "binary-pyproject.toml", "severity-list.toml",
              "select-typo.toml", "missing.toml", "a-dir"]  # fmt: skip
    for name in broken:
        code, _ = run("lint", "--config", str(garbage / name), str(ROOT / "examples" / "full"))
        assert code == 2, name
    for name in ("tool-int.toml", "ocitool-str.toml"):  # no [tool.ocitool.lint] table: defaults
        run("lint", "--config", str(garbage / name), str(ROOT / "examples" / "full"))


BAD_FLAGS: list[list[str]] = [
    ["caps", "decode", "zz"],
    ["caps", "decode", "-1"],
    ["caps", "decode", "0x" + "f" * 40],
    ["caps", "decode", "\u0661\u0662"],
    ["caps", "decode", "--pid", "-5"],
    ["caps", "decode", "--pid", "99999999999999999999"],
    ["caps", "parse", "cap_foo=ep"],
    ["caps", "parse", "=ep cap_chown-e+"],
    ["caps", "parse", "\x00"],
    ["caps", "parse", "all=eip cap_64+p"],
    ["caps", "parse", "cap_chown=ep,"],
    ["spec", "-o", "-", "--memory", "-5"],
    ["spec", "-o", "-", "--memory", "99999999999999999999999T"],
    ["spec", "-o", "-", "--cpus", "nan"],
    ["spec", "-o", "-", "--cpus", "1e308"],
    ["spec", "-o", "-", "--cpus", "-1"],
    ["spec", "-o", "-", "--pids-limit", "1e5"],
    ["spec", "-o", "-", "--pids-limit", "99999999999999999999999"],
    ["spec", "-o", "-", "--user", "-1:-1"],
    ["spec", "-o", "-", "--user", "\u00b2"],
    ["spec", "-o", "-", "--user", "a:b"],
    ["spec", "-o", "-", "--bind", ":"],
    ["spec", "-o", "-", "--bind", "/a:/b:rw:ro:x"],
    ["spec", "-o", "-", "--tmpfs", ""],
    ["spec", "-o", "-", "--tmpfs", "/x:size=abc"],
    ["spec", "-o", "-", "--env", "=x"],
    ["spec", "-o", "-", "--env", "A\x00=b"],
    ["spec", "-o", "-", "--cwd", "rel"],
    ["spec", "-o", "-", "--hostname", "a" * 300],
    ["spec", "-o", "-", "--args", "'unterminated"],
    ["spec", "-o", "-", "--cap-add", "foo"],
    ["spec", "-o", "-", "--caps", "cap_chown=e"],
    ["spec", "-o", "-", "--seccomp", "missing.policy"],
    ["spec", "--bundle", "/nonexistent/dir"],
    ["spec", "-o", "/nonexistent/dir/config.json"],
    ["spec", "-o", "-", "--"],
    ["seccomp", "emulate", "PROFILE", "--syscall", "read", "--args", "1,2,3,4,5,6,7"],
    ["seccomp", "emulate", "PROFILE", "--syscall", "read", "--args", "0x-5"],
    ["seccomp", "emulate", "PROFILE", "--syscall", "-1"],
    ["seccomp", "emulate", "PROFILE", "--syscall", "\u00b2"],
    ["seccomp", "emulate", "PROFILE", "--syscall", "read", "--arch", "bogus"],
    ["seccomp", "compile", "PROFILE", "--arch", ""],
    ["seccomp", "explain", "PROFILE", "--syscall", ""],
    ["seccomp", "convert", "DOCKER", "--kernel", "x.y"],
    ["seccomp", "convert", "DOCKER", "--arch", "vax"],
    ["seccomp", "compile", "DOCKER", "--caps", "CAP_NOPE"],
    ["lint", "--explain", "nope"],
    ["lint", "--select", "nope", "PROFILE"],
    ["lint", "-o", "/nonexistent/dir/out", "PROFILE"],
    ["plan", "--host", "garbage", "PROFILE"],
    ["plan", "--host", "cgroup=v9,arch=zz,kernel=x", "PROFILE"],
]


# Odd but meaningful: these must work (or be refused) without a crash.
ODD_FLAGS: list[list[str]] = [
    ["caps", "parse", ""],  # libcap: the empty text is the empty set
    ["seccomp", "explain", "PROFILE", "--syscall", "\u0661"],  # a name no arch knows
    ["seccomp", "emulate", "PROFILE", "--syscall", "4294967295", "--arch", "x32"],
    ["seccomp", "compile", "DOCKER", "--caps", "+cap_sys_admin", "--kernel", "3.10"],
]


def _named(argv: list[str], tmp_path: Path) -> list[str]:
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps(_SECCOMP))
    named = {"PROFILE": str(profile), "DOCKER": str(MOBY_PATH)}
    return [named.get(a, a) for a in argv]


@pytest.mark.parametrize("argv", BAD_FLAGS, ids=lambda a: " ".join(a)[:60])
def test_bad_flag_values(argv: list[str], tmp_path: Path) -> None:
    code, text = run(*_named(argv, tmp_path))
    assert code in (1, 2) and text.strip(), "a bad value must be refused with a message"


@pytest.mark.parametrize("argv", ODD_FLAGS, ids=lambda a: " ".join(a)[:60])
def test_odd_flag_values(argv: list[str], tmp_path: Path) -> None:
    run(*_named(argv, tmp_path))


# --- hypothesis ----------------------------------------------------------------------------

_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "read", "amd64", "CAP_SYS_ADMIN", "/"])
)
_json = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


def _pointers(value: Any, base: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [base]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _pointers(child, (*base, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _pointers(child, (*base, index))
    return out


def _mutate(base: Any, data: st.DataObject, n: int = 3) -> Any:
    doc = copy.deepcopy(base)
    for _ in range(n):
        paths = [p for p in _pointers(doc) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for token in path[:-1]:
            parent = parent[token]
        if data.draw(st.booleans()):
            parent[path[-1]] = data.draw(_json)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    return doc


@FEW
@given(data=st.data())
def test_damaged_configs(tmp_path: Path, data: st.DataObject) -> None:
    """A real config with random members swapped for random JSON or deleted."""
    doc = _mutate(CONFIG, data)
    target = tmp_path / "config.json"
    target.write_text(json.dumps(doc))
    fmt = data.draw(st.sampled_from(["text", "json", "sarif", "github"]))
    run("lint", "--no-config", "--format", fmt, str(target))
    run("plan", "--format", data.draw(st.sampled_from(["tree", "strace", "json"])), str(target))
    run("plan", "--no-validate", "--format", "json", str(target))
    run("validate", "--format", "json", str(target))
    run("seccomp", "explain", str(target), "--syscall", "mount", "--arch", "x86_64")


@FEW
@given(data=st.data())
def test_damaged_docker_profiles(tmp_path: Path, data: st.DataObject) -> None:
    """Docker's default profile with random damage; its rules are the deep part."""
    small = dict(MOBY, syscalls=MOBY["syscalls"][:6] + MOBY["syscalls"][-6:])
    doc = _mutate(small, data, n=2)
    target = tmp_path / "docker.json"
    target.write_text(json.dumps(doc))
    arch = data.draw(st.sampled_from(["x86_64", "aarch64", "s390x"]))
    run("seccomp", "convert", str(target), "--arch", arch, "--caps", "+CAP_SYS_ADMIN")
    run("seccomp", "compile", str(target), "--arch", arch, "--format", "json")
    run("seccomp", "explain", str(target), "--syscall", "read", "--arch", arch)
    run("spec", "-o", "-", "--seccomp", str(target), "--arch", arch)


@FEW
@given(value=_json, kind=st.sampled_from(["json", "bin"]))
def test_random_json(tmp_path: Path, value: Any, kind: str) -> None:
    target = tmp_path / f"input.{kind}"
    target.write_text(json.dumps(value))
    run("seccomp", "compile", str(target), "--arch", "x86_64")
    run("seccomp", "emulate", str(target), "--arch", "x86_64", "--syscall", "1")
    run("spec", "-o", "-", "--seccomp", str(target))
    run("lint", "--no-config", "--format", "sarif", str(target))
    run("validate", "--kind", "state", str(target))


@FEW
@given(blob=st.binary(max_size=200), suffix=st.sampled_from([".bpf", ".json", ".policy", ""]))
def test_random_bytes(tmp_path: Path, blob: bytes, suffix: str) -> None:
    target = tmp_path / f"input{suffix}"
    target.write_bytes(blob)
    run("seccomp", "disasm", str(target))
    run("seccomp", "emulate", str(target), "--arch", "x86_64", "--syscall", "read")
    run("seccomp", "compile", str(target), "--arch", "x86_64")
    run("validate", str(target))
    run("spec", "-o", "-", "--seccomp", str(target))


_POLICY_WORDS = [
    "default", "allow", "deny", "kill", "kill_process", "trap", "log", "notify", "errno", "trace",
    "arch", "include", "if", "arg0", "arg5", "arg6", "==", "!=", "<", "<=", ">", ">=", "&", "&&",
    "||", "(", ")", ",", "EPERM", "ENOSYS", "CLONE_NEWUSER", "AF_INET", "x86_64", "read", "write",
    "clone", "0", "-1", "0xffffffffffffffff", "99999999999999999999999", '"x"', "#", "\n", "=",
    "errno(EPERM)", "errno(-1)", "errno(4096)", "*", "flag", "tsync", "{", "}", "aarch64",
]  # fmt: skip


@FEW
@given(words=st.lists(st.sampled_from(_POLICY_WORDS), max_size=20))
def test_random_policies(tmp_path: Path, words: list[str]) -> None:
    target = tmp_path / "p.policy"
    target.write_text("default errno(EPERM)\n" + " ".join(words) + "\n")
    run("seccomp", "compile", str(target), "--arch", "x86_64", "--format", "json")
    run("seccomp", "explain", str(target), "--syscall", "clone", "--args", "0x10000000")


SPEC_FLAGS = ["--memory", "--cpus", "--pids-limit", "--user", "--bind", "--tmpfs", "--env",
              "--cwd", "--hostname", "--args", "--cap-add", "--cap-drop", "--caps", "--seccomp",
              "--arch"]  # fmt: skip


@FEW
@given(
    text=st.text(ARG_CHARS, max_size=30),
    flag=st.sampled_from(SPEC_FLAGS),
    profile=st.sampled_from(["default", "hardened", "rootless"]),
)
def test_spec_flag_text(text: str, flag: str, profile: str) -> None:
    run("spec", "-o", "-", "--profile", profile, "--userns", "no", f"{flag}={text}")


@FEW
@given(text=st.text(ARG_CHARS, max_size=40))
def test_caps_text(text: str) -> None:
    run("caps", "parse", "--", text)
    run("caps", "parse", "--json", "--", text)
    run("caps", "decode", "--", text)


@FEW
@given(
    syscall=st.text(ARG_CHARS, max_size=12) | st.integers(-(2**70), 2**70).map(str),
    args=st.text(ARG_CHARS, max_size=20),
    arch=st.text(ARG_CHARS, max_size=10)
    | st.sampled_from(["x86_64", "x32", "arm", "SCMP_ARCH_X86", "amd64"]),
)
def test_seccomp_flag_text(tmp_path: Path, syscall: str, args: str, arch: str) -> None:
    target = tmp_path / "p.json"
    target.write_text(json.dumps(_SECCOMP))
    for cmd in ("emulate", "explain"):
        run("seccomp", cmd, str(target), f"--syscall={syscall}", f"--args={args}", f"--arch={arch}")
    run("seccomp", "convert", str(MOBY_PATH), f"--caps={args}", f"--kernel={syscall}")


MOBY_PATH = DATA / "moby-default.json"
