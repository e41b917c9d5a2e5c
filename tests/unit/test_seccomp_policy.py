"""The seccomp policy language: policy text -> OCI seccomp object -> verdicts, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocitool.errors import SeccompError
from ocitool.seccomp.explain import evaluate
from ocitool.seccomp.policy import parse_policy, parse_policy_with_sources

HEAD = "default errno(EPERM)\narch x86_64\n"


def verdict(policy: dict, syscall: str, *args: int) -> str:
    return evaluate(policy, syscall, args, "x86_64").verdict.text()


def test_minimal_policy_maps_to_oci_fields() -> None:
    pol = parse_policy(
        "# comment\n"
        "default errno(ENOSYS)   # trailing comment\n"
        "arch x86_64 x86 SCMP_ARCH_X32 amd64\n"
        "flags tsync SECCOMP_FILTER_FLAG_LOG\n"
        'listener "/run/notify.sock" "meta"\n'
        "allow read write\n"
    )
    assert pol == {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"],
        "listenerPath": "/run/notify.sock",
        "listenerMetadata": "meta",
        "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}],
    }


@pytest.mark.parametrize(
    ("text", "action", "errno"),
    [
        ("allow", "SCMP_ACT_ALLOW", None),
        ("deny", "SCMP_ACT_ERRNO", 1),
        ("errno", "SCMP_ACT_ERRNO", None),
        ("errno(EACCES)", "SCMP_ACT_ERRNO", 13),
        ("errno(0x26)", "SCMP_ACT_ERRNO", 38),
        ("trace(7)", "SCMP_ACT_TRACE", 7),
        ("kill", "SCMP_ACT_KILL", None),
        ("kill_thread", "SCMP_ACT_KILL_THREAD", None),
        ("kill_process", "SCMP_ACT_KILL_PROCESS", None),
        ("trap", "SCMP_ACT_TRAP", None),
        ("log", "SCMP_ACT_LOG", None),
        ("notify", "SCMP_ACT_NOTIFY", None),
    ],
)
def test_every_action(text: str, action: str, errno: int | None) -> None:
    rule = parse_policy(f"default allow\n{text} ptrace\n")["syscalls"][0]
    assert rule["action"] == action
    assert rule.get("errnoRet") == errno


def test_keywords_are_syscall_names_after_an_action() -> None:
    # kill(2) is a syscall and `kill` an action; `log`/`trap` likewise only mean actions first.
    pol = parse_policy("default allow\nkill kill\nerrno(EPERM) log trap\n")
    assert pol["syscalls"][0] == {"names": ["kill"], "action": "SCMP_ACT_KILL"}
    assert pol["syscalls"][1]["names"] == ["log", "trap"]


def test_indented_lines_continue_the_statement() -> None:
    pol = parse_policy(
        "default allow\n"
        "errno(EPERM)\n"
        "    mount umount2   # comment inside the list\n"
        "\tpivot_root\n"
        "# a comment line ends nothing by itself\n"
        "kill reboot \\\n"
        "swapon\n"
    )
    assert [r["names"] for r in pol["syscalls"]] == [
        ["mount", "umount2", "pivot_root"],
        ["reboot", "swapon"],
    ]


def test_conditions_alternatives_become_rules_and_conjunctions_args() -> None:
    pol = parse_policy(
        "default errno\n"
        "allow personality if arg0 == PER_LINUX || arg0 == 0x8 || arg0 == UNAME26|PER_LINUX32\n"
        "allow socket if arg0 == AF_NETLINK && arg2 != NETLINK_AUDIT\n"
        "allow clone if arg0 & CLONE_NEWNS|CLONE_NEWUSER == 0\n"
        "allow mmap if arg2 & PROT_WRITE|PROT_EXEC == PROT_WRITE|PROT_EXEC && arg1 <= 4096\n"
        "allow lseek if arg2 < 3 || arg2 > 0o10 || arg2 >= 0b1 || arg1 <= 1_000\n"
    )
    rules = pol["syscalls"]
    assert [r["args"] for r in rules[:3]] == [
        [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}],
        [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}],
        [{"index": 0, "value": 0x20008, "op": "SCMP_CMP_EQ"}],
    ]
    assert rules[3]["args"] == [
        {"index": 0, "value": 16, "op": "SCMP_CMP_EQ"},
        {"index": 2, "value": 9, "op": "SCMP_CMP_NE"},
    ]
    assert rules[4]["args"] == [
        {"index": 0, "value": 0x10020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}
    ]
    assert rules[5]["args"] == [
        {"index": 2, "value": 6, "valueTwo": 6, "op": "SCMP_CMP_MASKED_EQ"},
        {"index": 1, "value": 4096, "op": "SCMP_CMP_LE"},
    ]
    assert [r["args"][0]["op"] for r in rules[6:]] == [
        "SCMP_CMP_LT",
        "SCMP_CMP_GT",
        "SCMP_CMP_GE",
        "SCMP_CMP_LE",
    ]
    assert [r["args"][0]["value"] for r in rules[6:]] == [3, 8, 1, 1000]


def test_round_trip_verdicts() -> None:
    pol = parse_policy(
        HEAD + "allow read write\n"
        "errno(ENOSYS) clone3\n"
        "allow personality if arg0 == 0 || arg0 == PER_QUERY\n"
        "allow clone if arg0 & CLONE_NEWUSER|CLONE_NEWNS == 0\n"
        "allow socket if arg0 == AF_UNIX && arg1 != SOCK_RAW\n"
        "kill_process ptrace\n"
    )
    assert verdict(pol, "read") == "ALLOW"
    assert verdict(pol, "mount") == "ERRNO(EPERM)"
    assert verdict(pol, "clone3") == "ERRNO(ENOSYS)"
    assert verdict(pol, "personality", 0) == "ALLOW"
    assert verdict(pol, "personality", 0xFFFFFFFF) == "ALLOW"
    assert verdict(pol, "personality", 8) == "ERRNO(EPERM)"
    assert verdict(pol, "clone", 0x11) == "ALLOW"
    assert verdict(pol, "clone", 0x10000011) == "ERRNO(EPERM)"
    assert verdict(pol, "clone", 0x20000) == "ERRNO(EPERM)"
    assert verdict(pol, "socket", 1, 1) == "ALLOW"
    assert verdict(pol, "socket", 1, 3) == "ERRNO(EPERM)"
    assert verdict(pol, "socket", 2, 1) == "ERRNO(EPERM)"
    assert verdict(pol, "ptrace") == "KILL_PROCESS"


def test_sources_point_at_policy_lines() -> None:
    pol, sources = parse_policy_with_sources(
        "default allow\n\nkill ptrace\nallow personality if arg0 == 0 ||\n  arg0 == 8\n",
        "p.policy",
    )
    assert len(sources) == len(pol["syscalls"]) == 3
    assert sources[0].location() == "p.policy:3"
    assert sources[0].text == "kill ptrace"
    assert sources[2].line == 4
    assert sources[2].text == "allow personality if arg0 == 0 || arg0 == 8"


def test_include_is_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.policy").write_text('arch x86_64\ninclude "more.policy"\n')
    (tmp_path / "sub" / "more.policy").write_text("allow read\n")
    main = tmp_path / "main.policy"
    main.write_text('default errno(EPERM)\ninclude "sub/base.policy"\nallow write\n')
    pol, sources = parse_policy_with_sources(main.read_text(), main)
    assert pol["architectures"] == ["SCMP_ARCH_X86_64"]
    assert [r["names"] for r in pol["syscalls"]] == [["read"], ["write"]]
    assert sources[0].path is not None and sources[0].path.endswith("more.policy")
    assert sources[0].line == 1


def test_shipped_policies_are_included_by_name(tmp_path: Path) -> None:
    mine = tmp_path / "web.policy"
    mine.write_text('include "default.policy"\nallow mount\n')
    pol = parse_policy(mine.read_text(), mine)
    assert pol["defaultAction"] == "SCMP_ACT_ERRNO"
    assert pol["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert pol["syscalls"][-1] == {"names": ["mount"], "action": "SCMP_ACT_ALLOW"}
    # a file next to the including one wins over the shipped one
    (tmp_path / "default.policy").write_text("default allow\n")
    assert parse_policy(mine.read_text(), mine)["defaultAction"] == "SCMP_ACT_ALLOW"


def test_include_errors(tmp_path: Path) -> None:
    a = tmp_path / "a.policy"
    b = tmp_path / "b.policy"
    a.write_text('default allow\ninclude "b.policy"\n')
    b.write_text('include "a.policy"\n')
    with pytest.raises(SeccompError) as err:
        parse_policy(a.read_text(), a)
    assert err.value.code == "OCI453"
    assert "cycle" in err.value.message
    with pytest.raises(SeccompError) as err:
        parse_policy('default allow\ninclude "missing.policy"\n', a)
    assert err.value.code == "OCI453"
    assert (err.value.line, err.value.column) == (2, 9)
    assert "not found" in err.value.message


def test_bad_included_file_reports_its_own_path(tmp_path: Path) -> None:
    (tmp_path / "bad.policy").write_text("allow read if\n")
    main = tmp_path / "main.policy"
    with pytest.raises(SeccompError) as err:
        parse_policy('default allow\ninclude "bad.policy"\n', main)
    assert err.value.path is not None and err.value.path.endswith("bad.policy")
    assert err.value.line == 1


# One case per class of syntax error: (text, line, column, words the message must contain).
SYNTAX_ERRORS = [
    # a statement that starts with something that is not a keyword
    ("default allow\nread write\n", 2, 1, ["expected a statement", "got 'read'"]),
    # an action with no syscall
    ("default allow\nallow\n", 2, 6, ["expected a syscall name", "got end of line"]),
    # default with no action
    ("default\n", 1, 8, ["expected an action", "got end of line"]),
    # a bad operator after an argument
    ("default allow\nallow read if arg0 = 3\n", 2, 20, ["expected a comparison", "got '='"]),
    # something other than a syscall, 'if' or end of line after the names
    ("default allow\nallow read, write\n", 2, 11, ["expected a syscall name", "'if'", "','"]),
    # 'if' with no condition
    ("default allow\nallow read if\n", 2, 14, ["expected an argument (arg0 ... arg5)"]),
    # a comparison with no value
    ("default allow\nallow read if arg0 ==\n", 2, 22, ["expected a number or a constant"]),
    # masked test with another operator than ==
    ("default allow\nallow read if arg0 & 3 != 1\n", 2, 24, ["expected '==' or '|'", "'!='"]),
    # a dangling ||
    ("default allow\nallow read if arg0 == 1 ||\n", 2, 27, ["expected an argument"]),
    # two values with no operator
    ("default allow\nallow read if arg0 == 1 2\n", 2, 25, ["'||'", "'&&'", "got '2'"]),
    # an unclosed errno(
    ("default errno(EPERM\n", 1, 20, ["expected ')'"]),
    # an unknown character
    ("default allow\nallow read $\n", 2, 12, ["got '$'"]),
    # include without a quoted file name
    ("default allow\ninclude base.policy\n", 2, 9, ['a quoted string ("...")']),
]


@pytest.mark.parametrize(("text", "line", "column", "words"), SYNTAX_ERRORS)
def test_syntax_errors_name_what_was_expected(
    text: str, line: int, column: int, words: list[str]
) -> None:
    with pytest.raises(SeccompError) as err:
        parse_policy(text, "t.policy")
    e = err.value
    assert e.code == "OCI450"
    assert (e.line, e.column) == (line, column)
    assert e.message.startswith("expected ")  # the location is in line/column, not repeated
    for word in words:
        assert word in e.message
    rendered = e.render()
    assert rendered.startswith(f"t.policy:{line}:{column}: error OCI450")
    # the hint shows the line with a caret under the column
    src_line = text.splitlines()[line - 1]
    assert src_line in rendered
    caret_line = next(x for x in rendered.splitlines() if x.strip() == "^")
    assert caret_line.index("^") == len("  hint: ") + column - 1


SEMANTIC_ERRORS = [
    ("default errno(EFOO)\n", "OCI451", (1, 15), "not a known errno"),
    ("default errno(AF_INET)\n", "OCI451", (1, 15), "address family constant, not an errno"),
    ("default errno(70000)\n", "OCI452", (1, 15), "out of range"),
    ("default allow\narch x86_65\n", "OCI451", (2, 6), "unknown architecture"),
    ("default allow\nflags turbo\n", "OCI451", (2, 7), "unknown filter flag"),
    ("default allow\nallow read if arg6 == 1\n", "OCI452", (2, 15), "arg6 does not exist"),
    ("default allow\nallow read if arg0 == CLONE_NEWFOO\n", "OCI451", (2, 23), "unknown constant"),
    (
        "default allow\nallow read if arg0 == 0x1_0000_0000_0000_0000\n",
        "OCI452",
        (2, 23),
        "64 bits",
    ),
    ("default allow\nallow s if arg0 > 1 && arg0 < 9\n", "OCI452", (2, 24), "tested twice"),
    ("default allow\ndefault errno\n", "OCI454", (2, 1), "second 'default'"),
    ("default allow\nallow s if arg0 & 0xff == 0x100\n", "OCI452", (2, 27), "outside the mask"),
    ('default allow\nlistener ""\n', "OCI452", (2, 10), "listener path is empty"),
]


@pytest.mark.parametrize(("text", "code", "where", "words"), SEMANTIC_ERRORS)
def test_semantic_errors(text: str, code: str, where: tuple[int, int], words: str) -> None:
    with pytest.raises(SeccompError) as err:
        parse_policy(text)
    assert err.value.code == code
    assert (err.value.line, err.value.column) == where
    assert words in err.value.message


def test_missing_default() -> None:
    with pytest.raises(SeccompError) as err:
        parse_policy("allow read\n", "x.policy")
    assert err.value.code == "OCI454"
    assert err.value.path == "x.policy"


def test_unknown_constant_suggests_a_near_name() -> None:
    with pytest.raises(SeccompError) as err:
        parse_policy("default allow\nallow clone if arg0 & CLONE_NEWUSR == 0\n")
    assert err.value.hint == "did you mean CLONE_NEWUSER?"


def test_policy_module_is_the_only_lark_user() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import ocitool.seccomp.explain, ocitool.seccomp.docker, ocitool.seccomp.constants\n"
        "try:\n"
        "    import ocitool.seccomp.compiler\n"
        "except ImportError:\n"
        "    pass\n"
        "assert 'lark' not in sys.modules, 'lark imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("secret", ["hunter2 SECRETLINE\n", "# just a comment\napi_key = s3cr3t\n"])
def test_a_file_that_is_not_a_policy_is_not_echoed(tmp_path: Path, secret: str) -> None:
    """An include (or policy path) that points at some other file, a key file say,
    fails without any of its text in the error (issue 17: nothing from a file that
    is not what the command reads is echoed); a real policy's typo keeps its snippet."""
    (tmp_path / "key.txt").write_text(secret)
    main = tmp_path / "main.policy"
    main.write_text('default errno(EPERM)\ninclude "key.txt"\n')
    with pytest.raises(SeccompError) as err:
        parse_policy(main.read_text(), main)
    rendered = err.value.render()
    assert "does not start like a policy" in rendered
    for word in ("hunter2", "SECRETLINE", "s3cr3t", "api_key"):
        assert word not in rendered
    typo = tmp_path / "typo.policy"
    typo.write_text("default errno(EPERM)\nalow read\n")
    with pytest.raises(SeccompError) as err:
        parse_policy(typo.read_text(), typo)
    assert "alow read" in err.value.render()
