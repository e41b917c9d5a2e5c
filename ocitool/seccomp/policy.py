"""The seccomp policy language: parse ``.policy`` text into an OCI seccomp object.

Hand-written profiles are easier to read and review as a short text than as
JSON with numeric flags. The grammar lives in ``grammars/seccomp.lark`` and the
reference in ``docs/seccomp-policy.md``. This module is the only one that
imports lark, so the compiler and the exec hot path stay free of it.

Every OCI rule remembers the policy line it came from (:class:`RuleSource`),
which ``ocitool seccomp explain`` uses to point at the line that decides.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocitool.errors import SeccompError
from ocitool.seccomp.constants import CONSTANTS, ERRNO, family_of

# Error codes of the policy front end (OCI45x).
SYNTAX = "OCI450"
UNKNOWN_NAME = "OCI451"
BAD_VALUE = "OCI452"
INCLUDE_FAILED = "OCI453"
BAD_STRUCTURE = "OCI454"

MAX_INCLUDE_DEPTH = 16
_U64 = (1 << 64) - 1

#: OCI architecture names; a policy may write them in full or as the lower-case suffix.
OCI_ARCHES = (
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
)  # fmt: skip
_ARCH_ALIASES = {"amd64": "x86_64", "i386": "x86", "i686": "x86", "arm64": "aarch64"}

OCI_FLAGS = (
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
)

#: the policy language's comparison operators -> OCI ``op`` values
OPS = {
    "==": "SCMP_CMP_EQ",
    "!=": "SCMP_CMP_NE",
    "<": "SCMP_CMP_LT",
    "<=": "SCMP_CMP_LE",
    ">": "SCMP_CMP_GT",
    ">=": "SCMP_CMP_GE",
}

# How parse errors name what the parser wanted, by terminal.
_STATEMENT = "a statement (default, arch, flags, include, listener, or an action such as allow)"
_ACTION = (
    "an action (allow, deny, errno, trace, kill, kill_thread, kill_process, trap, log, notify)"
)
_EXPECTED = {
    "SYSCALL": "a syscall name",
    "IF": "'if'",
    "ARCHNAME": "an architecture name (x86_64, aarch64, ...)",
    "FLAGNAME": "a filter flag (tsync, log, spec_allow, wait_killable_recv)",
    "STRING": 'a quoted string ("...")',
    "ARGN": "an argument (arg0 ... arg5)",
    "CMP": "a comparison (==, !=, <, <=, >, >=)",
    "AMP": "'&'",
    "EQEQ": "'=='",
    "INT": "a number",
    "CONST": "a constant name",
    "LPAR": "'('",
    "RPAR": "')'",
    "OROR": "'||'",
    "ANDAND": "'&&'",
    "BAR": "'|'",
    "_NL": "end of line",
    "$END": "end of file",
}
_STATEMENT_KEYWORDS = {"DEFAULT", "ARCH", "FLAGS", "INCLUDE", "LISTENER"}
_ACTION_KEYWORDS = {
    "ALLOW", "DENY", "ERRNO", "TRACE", "KILL", "KILL_THREAD", "KILL_PROCESS", "TRAP", "LOG",
    "NOTIFY",
}  # fmt: skip


@dataclass(frozen=True)
class RuleSource:
    """Where an OCI rule came from: file, line and the statement's text."""

    path: str | None
    line: int
    text: str

    def location(self) -> str:
        return f"{self.path or '<policy>'}:{self.line}"


@dataclass
class _State:
    """What the statements parsed so far have set (shared across includes)."""

    default: tuple[dict[str, Any], str] | None = None
    arches: list[str] | None = None
    flags: list[str] | None = None
    listener: tuple[str, str | None] | None = None


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    from lark import Lark

    from ocitool.resources import resource_path

    grammar = resource_path("grammars", "seccomp.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", maybe_placeholders=False)


def parse_policy(text: str, path: str | Path | None = None) -> dict[str, Any]:
    """Policy text -> OCI seccomp object (``linux.seccomp`` form).

    ``include`` paths are resolved relative to the including file (or the
    current directory when ``path`` is None). Raises :class:`SeccompError`
    with line:column and what was expected.
    """
    return parse_policy_with_sources(text, path)[0]


def parse_policy_with_sources(
    text: str, path: str | Path | None = None
) -> tuple[dict[str, Any], list[RuleSource]]:
    """Like :func:`parse_policy`, plus the source of each rule in ``syscalls``."""
    state = _State()
    rules: list[dict[str, Any]] = []
    sources: list[RuleSource] = []
    _parse_into(text, str(path) if path is not None else None, state, rules, sources, ())
    if state.default is None:
        raise SeccompError(
            message="the policy has no 'default' statement",
            code=BAD_STRUCTURE,
            path=str(path) if path is not None else None,
            expected="a line such as 'default errno(EPERM)'",
            hint="every policy needs exactly one default action for syscalls no rule names",
        )
    action = state.default[0]
    out: dict[str, Any] = {"defaultAction": action["action"]}
    if "errnoRet" in action:
        out["defaultErrnoRet"] = action["errnoRet"]
    if state.arches:
        out["architectures"] = state.arches
    if state.flags:
        out["flags"] = state.flags
    if state.listener:
        out["listenerPath"] = state.listener[0]
        if state.listener[1] is not None:
            out["listenerMetadata"] = state.listener[1]
    out["syscalls"] = rules
    return out, sources


def load_policy(path: str | Path) -> dict[str, Any]:
    """Read and parse a ``.policy`` file."""
    return parse_policy(_read(Path(path), None, None), path)


def _read(path: Path, at: str | None, line: int | None) -> str:
    from ocitool.errors import UsageError
    from ocitool.inputs import read_input

    try:
        return read_input(str(path), "seccomp policy").decode("utf-8")
    except (UsageError, UnicodeDecodeError) as exc:
        reason = exc.message if isinstance(exc, UsageError) else str(exc)
        raise SeccompError(
            message=f"cannot read policy {str(path)!r}: {reason}",
            code=INCLUDE_FAILED,
            path=at,
            line=line,
        ) from None


def _parse_into(
    text: str,
    path: str | None,
    state: _State,
    rules: list[dict[str, Any]],
    sources: list[RuleSource],
    stack: tuple[str, ...],
) -> None:
    from lark.exceptions import UnexpectedInput

    if not text.endswith("\n"):
        text += "\n"
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, path) from None
    lines = text.splitlines()
    try:
        _statements(tree, text, lines, path, state, rules, sources, stack)
    except SeccompError as err:
        if err.hint is None and err.path == path and err.line is not None:
            err.hint = _hint(text, err.line, err.column)
        raise


def _statements(
    tree: Any,
    text: str,
    lines: list[str],
    path: str | None,
    state: _State,
    rules: list[dict[str, Any]],
    sources: list[RuleSource],
    stack: tuple[str, ...],
) -> None:
    from lark import Token, Tree

    for stmt in tree.children:
        if not isinstance(stmt, Tree):
            continue
        first = _first_token(stmt)
        where = _Where(path, first.line or 0, first.column or 0)
        kind = stmt.data
        if kind == "default_stmt":
            if state.default is not None:
                raise where.error(
                    f"a second 'default' statement (the first is at {state.default[1]})",
                    BAD_STRUCTURE,
                    hint="a policy (with its includes) has exactly one default action",
                )
            state.default = (_action(stmt.children[1], where), where.text())
        elif kind == "arch_stmt":
            arches = state.arches if state.arches is not None else []
            for tok in stmt.children[1:]:
                arch = _arch(tok, path)
                if arch not in arches:
                    arches.append(arch)
            state.arches = arches
        elif kind == "flags_stmt":
            flags = state.flags if state.flags is not None else []
            for tok in stmt.children[1:]:
                flag = _flag(tok, path)
                if flag not in flags:
                    flags.append(flag)
            state.flags = flags
        elif kind == "listener_stmt":
            strings = [str(t)[1:-1] for t in stmt.children[1:]]
            if not strings[0]:
                raise _at(stmt.children[1], path).error(
                    "the listener path is empty", BAD_VALUE,
                    expected='the seccomp agent\'s socket, e.g. "/run/agent.sock"',
                )  # fmt: skip
            state.listener = (strings[0], strings[1] if len(strings) > 1 else None)
        elif kind == "include_stmt":
            _include(stmt.children[1], path, state, rules, sources, stack)
        elif kind == "rule":
            action = _action(stmt.children[0], where)
            names = [str(t) for t in stmt.children[1:] if isinstance(t, Token)]
            cond = stmt.children[-1]
            stmt_text = _statement_text(lines, stmt)
            alternatives: list[list[dict[str, Any]]] = [[]]
            if isinstance(cond, Tree) and cond.data == "condition":
                alternatives = [_alternative(alt, path) for alt in cond.children[1::2]]
            for args in alternatives:
                rule: dict[str, Any] = {"names": list(names), **action}
                if args:
                    rule["args"] = args
                rules.append(rule)
                sources.append(RuleSource(path, where.line, stmt_text))


@dataclass(frozen=True)
class _Where:
    path: str | None
    line: int
    column: int

    def text(self) -> str:
        return f"{self.path or '<policy>'}:{self.line}"

    def error(self, message: str, code: str, **kw: Any) -> SeccompError:
        return SeccompError(
            message=message,  # line:column are fields: every rendering shows them once
            code=code,
            path=self.path,
            line=self.line,
            column=self.column,
            **kw,
        )


def _at(tok: Any, path: str | None) -> _Where:
    return _Where(path, tok.line or 0, tok.column or 0)


def _first_token(tree: Any) -> Any:
    from lark import Token

    for tok in tree.scan_values(lambda v: isinstance(v, Token)):
        return tok
    raise AssertionError("statement without tokens")


def _statement_text(lines: list[str], stmt: Any) -> str:
    """The statement as written, folded onto one line, comments removed."""
    from lark import Token

    toks = list(stmt.scan_values(lambda v: isinstance(v, Token)))
    first, last = toks[0].line, toks[-1].line
    parts = [lines[i - 1].split("#", 1)[0].strip() for i in range(first, last + 1)]
    text = " ".join(p.rstrip("\\").strip() for p in parts if p)
    return text if len(text) <= 160 else text[:157] + "..."


def _action(tree: Any, where: _Where) -> dict[str, Any]:
    kind = tree.data
    simple = {
        "act_allow": "SCMP_ACT_ALLOW",
        "act_kill": "SCMP_ACT_KILL",
        "act_kill_thread": "SCMP_ACT_KILL_THREAD",
        "act_kill_process": "SCMP_ACT_KILL_PROCESS",
        "act_trap": "SCMP_ACT_TRAP",
        "act_log": "SCMP_ACT_LOG",
        "act_notify": "SCMP_ACT_NOTIFY",
    }
    if kind in simple:
        return {"action": simple[kind]}
    if kind == "act_deny":
        return {"action": "SCMP_ACT_ERRNO", "errnoRet": ERRNO["EPERM"]}
    name = "SCMP_ACT_ERRNO" if kind == "act_errno" else "SCMP_ACT_TRACE"
    if len(tree.children) == 1:
        return {"action": name}
    tok = tree.children[2]
    if tok.type == "CONST":
        number = ERRNO.get(str(tok))
        if number is None:
            family = family_of(str(tok))
            what = f"a {family} constant, not an errno" if family else "not a known errno name"
            raise _at(tok, where.path).error(
                f"{str(tok)!r} is {what}",
                UNKNOWN_NAME,
                expected="an errno name (EPERM, ENOSYS, EACCES, ...) or a number",
            )
    else:
        number = _int(tok, where.path)
    if number > 0xFFFF:
        raise _at(tok, where.path).error(
            f"errno {number} is out of range", BAD_VALUE, expected="a number from 0 to 65535"
        )
    return {"action": name, "errnoRet": number}


def _int(tok: Any, path: str | None) -> int:
    value = int(str(tok).replace("_", ""), 0)
    if value > _U64:
        raise _at(tok, path).error(
            f"{str(tok)} does not fit in 64 bits", BAD_VALUE, expected="a 64-bit unsigned number"
        )
    return value


def _value(tree: Any, path: str | None) -> int:
    result = 0
    for tok in tree.children:
        if tok.type == "BAR":
            continue
        if tok.type == "CONST":
            number = CONSTANTS.get(str(tok))
            if number is None:
                raise _at(tok, path).error(
                    f"unknown constant {str(tok)!r}",
                    UNKNOWN_NAME,
                    expected="a number or a known constant (AF_*, SOCK_*, CLONE_*, PROT_*, "
                    "PER_*, errno names)",
                    hint=_suggest(str(tok)),
                )
            result |= number
        else:
            result |= _int(tok, path)
    return result


def _suggest(name: str) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, list(CONSTANTS), n=1)
    return f"did you mean {close[0]}?" if close else None


def _alternative(tree: Any, path: str | None) -> list[dict[str, Any]]:
    args: list[dict[str, Any]] = []
    for cmp in tree.children[0::2]:
        argtok = cmp.children[0]
        index = int(str(argtok)[3:])
        if index > 5:
            raise _at(argtok, path).error(
                f"{str(argtok)} does not exist", BAD_VALUE, expected="arg0 ... arg5"
            )
        if any(a["index"] == index for a in args):
            raise _at(argtok, path).error(
                f"{str(argtok)} is tested twice in one alternative",
                BAD_VALUE,
                expected="at most one test per argument between '||'",
                hint="libseccomp allows one comparison per argument in a rule, and runc turns "
                "extra ones into separate rules (an OR); write the cases as alternatives, "
                "e.g. 'arg0 < 38 || arg0 == 39 || arg0 > 40'",
            )
        if cmp.data == "compare":
            op = OPS[str(cmp.children[1])]
            args.append({"index": index, "value": _value(cmp.children[2], path), "op": op})
        else:
            mask = _value(cmp.children[2], path)
            want = _value(cmp.children[4], path)
            if want & ~mask:
                raise _at(_first_token(cmp.children[4]), path).error(
                    f"{want:#x} has bits outside the mask {mask:#x}, so the test cannot hold "
                    "as written",
                    BAD_VALUE,
                    expected=f"a value within the mask (libseccomp would compare {want & mask:#x})",
                )
            args.append(
                {"index": index, "value": mask, "valueTwo": want, "op": "SCMP_CMP_MASKED_EQ"}
            )
    return args


def _arch(tok: Any, path: str | None) -> str:
    name = str(tok)
    if name in OCI_ARCHES:
        return name
    short = _ARCH_ALIASES.get(name, name)
    full = "SCMP_ARCH_" + short.upper()
    if full in OCI_ARCHES:
        return full
    raise _at(tok, path).error(
        f"unknown architecture {name!r}",
        UNKNOWN_NAME,
        expected="one of " + ", ".join(a[len("SCMP_ARCH_") :].lower() for a in OCI_ARCHES),
    )


def _flag(tok: Any, path: str | None) -> str:
    name = str(tok)
    full = (
        name if name.startswith("SECCOMP_FILTER_FLAG_") else "SECCOMP_FILTER_FLAG_" + name.upper()
    )
    if full in OCI_FLAGS:
        return full
    raise _at(tok, path).error(
        f"unknown filter flag {name!r}",
        UNKNOWN_NAME,
        expected="one of tsync, log, spec_allow, wait_killable_recv",
    )


def _include(
    tok: Any,
    path: str | None,
    state: _State,
    rules: list[dict[str, Any]],
    sources: list[RuleSource],
    stack: tuple[str, ...],
) -> None:
    name = str(tok)[1:-1]
    base = Path(path).resolve().parent if path else Path.cwd()
    target = (base / name).resolve()
    where = _at(tok, path)
    key = str(target)
    me = str(Path(path).resolve()) if path else "<policy>"
    if key in stack or key == me:
        raise where.error(
            f"include cycle: {name!r} includes itself (through {' -> '.join(stack + (me,))})",
            INCLUDE_FAILED,
        )
    if len(stack) >= MAX_INCLUDE_DEPTH:
        raise where.error(f"includes nest deeper than {MAX_INCLUDE_DEPTH}", INCLUDE_FAILED)
    shown = str(Path(path).parent / name) if path else name
    if not target.is_file():
        shipped = _shipped(name)
        if shipped is None:
            raise where.error(
                f"included file {name!r} not found (looked for {key})",
                INCLUDE_FAILED,
                hint="include paths are relative to the file that includes them; "
                "ocitool's own policies (default.policy) are found by name",
            )
        target, shown = shipped, str(shipped)
        if str(target) in stack or str(target) == me:
            raise where.error(f"include cycle: {name!r} includes itself", INCLUDE_FAILED)
    text = _read(target, path, where.line)
    _parse_into(text, shown, state, rules, sources, stack + (me,))


def _shipped(name: str) -> Path | None:
    """A policy shipped with ocitool (profiles/seccomp/NAME), for includes by bare name."""
    if "/" in name or "\\" in name:
        return None
    from ocitool.resources import resource_path

    candidate = resource_path("profiles", f"seccomp/{name}")
    return candidate.resolve() if candidate.is_file() else None


def _syntax_error(exc: Any, text: str, path: str | None) -> SeccompError:
    """A lark error -> 'line L:C: expected X, got Y' naming the wanted syntax."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    hint_extra: str | None = None
    if isinstance(exc, UnexpectedToken):
        expected = _describe(_accepted(exc))
        tok = exc.token
        if tok.type == "CMP" and "EQEQ" in exc.expected:
            hint_extra = "a masked test is 'argN & MASK == VALUE'; OCI has no masked '!=', '<' ..."
        if tok.type == "$END":
            got = "end of file"
        elif tok.type == "_NL":
            got = "end of line"
        else:
            got = repr(str(tok))
    elif isinstance(exc, UnexpectedCharacters):
        allowed = set(exc.allowed or ())
        if {"SYSCALL", "_NL"} <= allowed:
            # the lexer folds keyword 'if' into SYSCALL; after a name it may follow
            allowed.add("IF")
        expected = _describe(allowed)
        pos = exc.pos_in_stream or 0
        got = repr(text[pos]) if pos < len(text) else "end of file"
    elif isinstance(exc, UnexpectedEOF):
        expected = _describe(set(exc.expected))
        got = "end of file"
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
    else:  # pragma: no cover - lark has no other UnexpectedInput kinds
        expected, got = "valid policy syntax", "something else"
    if line is None or line < 1:
        line, column = 1, 1
    if not _shows_itself_a_policy(text, line):
        # A file that fails before its first statement may be anything (a policy
        # path or an include pointing at a key file): echo none of its text.
        return SeccompError(
            message=f"expected {expected}; this file does not start like a policy "
            "(its text is not shown)",
            code=SYNTAX,
            path=path,
            line=line,
            column=column,
            expected=expected,
            hint="check the path: a policy starts with statements such as 'default errno(EPERM)'",
        )
    return SeccompError(
        message=f"expected {expected}, got {got}",
        code=SYNTAX,
        path=path,
        line=line,
        column=column,
        expected=expected,
        hint=_hint(text, line, column, hint_extra),
    )


_STATEMENT_WORDS = re.compile(
    r"(default|arch|flags|include|listener|allow|deny|errno|trace|kill|kill_thread"
    r"|kill_process|trap|log|notify)\b"
)


def _shows_itself_a_policy(text: str, line: int) -> bool:
    """True when the file's first statement (up to the error's line) starts with a
    policy keyword: only then is a line of it echoed in an error."""
    for current in text.splitlines()[:line]:
        stripped = current.strip()
        if stripped and not stripped.startswith("#"):
            return _STATEMENT_WORDS.match(stripped) is not None
    return False


def _accepted(exc: Any) -> set[str]:
    """Terminals the parser could really shift here (LALR merges lookaheads, so
    ``exc.expected`` may list tokens that only fit in another context)."""
    try:
        accepts = exc.interactive_parser.accepts()
    except Exception:  # noqa: BLE001 - fall back to lark's coarser set
        return set(exc.expected)
    return set(accepts) or set(exc.expected)


def _describe(names: set[str]) -> str:
    parts: list[str] = []
    if names & _STATEMENT_KEYWORDS:
        parts.append(_STATEMENT)
        names = names - _STATEMENT_KEYWORDS - _ACTION_KEYWORDS - {"_NL", "$END"}
    elif names & _ACTION_KEYWORDS:
        parts.append(_ACTION)
        names = names - _ACTION_KEYWORDS
    if "INT" in names and "CONST" in names:
        parts.append("a number or a constant name")
        names = names - {"INT", "CONST"}
    order = list(_EXPECTED)
    for name in sorted(names, key=lambda n: order.index(n) if n in order else len(order)):
        parts.append(_EXPECTED.get(name, name.lower()))
    if not parts:
        return "valid policy syntax"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _hint(text: str, line: int, column: int | None, extra: str | None = None) -> str | None:
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return extra
    src = lines[line - 1]
    col = max(column or 1, 1)
    # Diagnostic.render prefixes the hint with "  hint: " (8 columns).
    caret = f"{src}\n{' ' * (8 + col - 1)}^"
    return f"{caret}\n  {extra}" if extra else caret
