"""libcap's capability text form (``cap_chown,cap_kill=ep cap_net_raw+i``) to bitmaps.

The text form is what ``setcap``, ``getcap`` and ``capsh --caps`` speak, so
users already know it; ``ocitool spec --caps`` and ``ocitool caps parse``
accept it. Semantics follow libcap's ``cap_from_text`` (checked against the
installed libcap in the tests), with one documented extension: a name may
leave out the ``cap_`` prefix (``chown`` is ``cap_chown``), as OCI tools do.

The text form only knows the effective, permitted and inheritable sets;
:meth:`CapSets.to_oci` says how the bounding and ambient sets are derived.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from ocitool.capabilities import CAPABILITIES, cap_name, cap_number, mask_to_names
from ocitool.errors import UsageError

if TYPE_CHECKING:
    from lark import Lark, Token, Tree

# libcap keeps 64 bits per set; numbers up to 63 are legal even when unnamed.
MAX_BITS = 64
ALL_KNOWN = (1 << len(CAPABILITIES)) - 1

# libcap's LIBCAP_EFF / _PER / _INH values; they also fix the order cap_to_text prints in
FLAG_BITS = {"e": 1, "i": 4, "p": 2}

CODE_SYNTAX = "OCI040"
CODE_UNKNOWN_CAP = "OCI041"
CODE_BAD_NUMBER = "OCI042"
CODE_NEEDS_NAMES = "OCI043"
CODE_NOT_OCI = "OCI044"


class CapTextError(UsageError):
    """A capability text that libcap would refuse; ``column`` is 1-based."""


@dataclass(frozen=True)
class CapSets:
    """The three sets a libcap text describes, as 64-bit masks (bit n = capability n)."""

    effective: int = 0
    permitted: int = 0
    inheritable: int = 0

    def flags_of(self, number: int) -> int:
        """libcap's per-capability state: 1 effective, 2 permitted, 4 inheritable."""
        bit = 1 << number
        return (
            (1 if self.effective & bit else 0)
            | (2 if self.permitted & bit else 0)
            | (4 if self.inheritable & bit else 0)
        )

    def to_text(self) -> str:
        """The canonical text, built the way libcap's ``cap_to_text`` builds it."""
        return to_text(self)

    def to_oci(self) -> dict[str, list[str]]:
        """The five OCI ``process.capabilities`` lists for these sets.

        The text form has no bounding or ambient set, so: bounding is
        permitted | inheritable (the kernel refuses an inheritable capability
        outside the bounding set, and a permitted one outside it could never be
        regained), and ambient is empty (nothing is raised implicitly across
        execve). Bits that have no name in our table cannot be written in a
        config and raise :class:`CapTextError`.
        """
        everything = self.effective | self.permitted | self.inheritable
        unnamed = everything & ~ALL_KNOWN
        if unnamed:
            numbers = ", ".join(str(n) for n in range(MAX_BITS) if unnamed >> n & 1)
            raise CapTextError(
                message=f"capability number(s) {numbers} have no name an OCI config can carry",
                code=CODE_NOT_OCI,
                expected=f"capability numbers 0..{len(CAPABILITIES) - 1}",
            )
        return {
            "bounding": mask_to_names(self.permitted | self.inheritable),
            "effective": mask_to_names(self.effective),
            "inheritable": mask_to_names(self.inheritable),
            "permitted": mask_to_names(self.permitted),
            "ambient": [],
        }


@cache
def _parser() -> Lark:
    from lark import Lark

    from ocitool.resources import resource_path

    grammar = resource_path("grammars", "capabilities.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


class _Fault(Exception):
    """A fault at a column; :func:`parse_captext` turns it into a located CapTextError."""

    def __init__(self, message: str, column: int, code: str = CODE_SYNTAX, **extra: Any) -> None:
        super().__init__(message)
        self.message, self.column, self.code, self.extra = message, column, code, extra


def _error(message: str, column: int, code: str = CODE_SYNTAX, **extra: Any) -> _Fault:
    return _Fault(message, column, code, **extra)


def _located(fault: _Fault, text: str, source: str) -> CapTextError:
    """The error for ``fault``, with the text and a caret under the faulty column."""
    message = fault.message
    expected = fault.extra.get("expected")
    if expected:
        message += f" (expected {expected})"
    if text.strip():
        message += f"\n    {text}\n    {' ' * (fault.column - 1)}^"
    return CapTextError(
        message=message,
        code=fault.code,
        column=fault.column,
        line=1,
        path=source,
        expected=expected,
        hint=fault.extra.get("hint"),
    )


def _syntax_error(text: str, exc: Exception) -> _Fault:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        column = exc.column
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        hint = None
        if char and char in "EIP":
            hint = "flags are lower case: e (effective), i (inheritable), p (permitted)"
        elif char.isspace():
            hint = "whitespace separates clauses; write a clause without spaces, e.g. cap_chown+ep"
        elif char == ",":
            hint = "a comma separates capability names, e.g. cap_chown,cap_kill=ep"
        expected = _describe(exc.allowed or set())
        return _error(f"unexpected {char!r}", column, hint=hint, expected=expected)
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            return _error(
                "the text ends in the middle of a clause",
                len(text) + 1,
                expected=_describe(exc.expected),
                hint="a clause is NAMES followed by =, + or - and flags, e.g. cap_chown+ep",
            )
        hint = "a clause is NAMES followed by =, + or - and flags, e.g. cap_chown+ep"
        if "FLAGS" in exc.expected and str(token).lower().strip("eip") == "":
            hint = "flags are lower case: e (effective), i (inheritable), p (permitted)"
        elif token.type == "_WS":
            hint = "whitespace separates clauses; write a clause without spaces, e.g. cap_chown+ep"
        return _error(
            f"unexpected {str(token)!r}",
            token.column or 1,
            expected=_describe(exc.expected),
            hint=hint,
        )
    if isinstance(exc, UnexpectedEOF):
        return _error("the text ends in the middle of a clause", len(text) + 1)
    return _error(str(exc), 1)


_TERMINAL_WORDS = {
    "ASSIGN": "'='",
    "SIGN": "'+' or '-'",
    "FLAGS": "flags e, i, p",
    "NAME": "a capability name",
    "NUMBER": "a capability number",
    "COMMA": "','",
    "_WS": "whitespace",
    "$END": "end of text",
}


def _describe(terminals: set[str] | frozenset[str]) -> str:
    words = sorted({_TERMINAL_WORDS.get(t, t) for t in terminals})
    return ", ".join(words) if words else "a capability clause"


def parse_captext(text: str, source: str = "capability text") -> CapSets:
    """Parse a capability text; raises :class:`CapTextError` with the column of the fault.

    ``source`` names the text in errors (a flag such as ``--caps``).
    """
    from lark.exceptions import LarkError

    state = [0, 0, 0]  # effective, permitted, inheritable (flag bits 1, 2, 4)
    try:
        try:
            tree = _parser().parse(text)
        except LarkError as exc:
            raise _syntax_error(text, exc) from None
        for clause in tree.children:
            _apply_clause(clause, state)  # type: ignore[arg-type]
    except _Fault as fault:
        raise _located(fault, text, source) from None
    return CapSets(effective=state[0], permitted=state[1], inheritable=state[2])


def _name_mask(node: Tree) -> int:
    token: Token = node.children[0]  # type: ignore[assignment]
    column = token.column or 1
    if node.data == "numbered":
        value = _c_number(str(token))
        if value >= MAX_BITS:
            raise _error(
                f"capability number {str(token)} is out of range",
                column,
                code=CODE_BAD_NUMBER,
                expected=f"0..{MAX_BITS - 1}",
            )
        return 1 << value
    word = str(token)
    if word.lower() == "all":
        return ALL_KNOWN
    number = cap_number(word)
    if number is None:
        raise _error(
            f"unknown capability {word!r}",
            column,
            code=CODE_UNKNOWN_CAP,
            hint="see 'ocitool caps decode 0x1ffffffffff' for every known name",
        )
    return 1 << number


def _c_number(digits: str) -> int:
    """The value of a number as C's strtoul(..., 0) reads it (0x hex, leading-0 octal)."""
    if digits[:2] in ("0x", "0X"):
        return int(digits[2:], 16)
    if digits.startswith("0"):
        return int(digits, 8)
    return int(digits, 10)


def _flags(token: Token) -> int:
    bits = 0
    for letter in str(token):
        bits |= FLAG_BITS[letter]
    return bits


def _set(state: list[int], mask: int, flags: int) -> None:
    for index, bit in enumerate((1, 2, 4)):
        if flags & bit:
            state[index] |= mask


def _clear(state: list[int], mask: int, flags: int) -> None:
    for index, bit in enumerate((1, 2, 4)):
        if flags & bit:
            state[index] &= ~mask


def _apply_clause(clause: Tree, state: list[int]) -> None:
    children: list[Any] = list(clause.children)
    listed = bool(children) and getattr(children[0], "data", None) == "names"
    mask = ALL_KNOWN
    if listed:
        names = children.pop(0)
        mask = 0
        for name in names.children:
            mask |= _name_mask(name)
    for action in children:
        kind = action.data
        tokens: list[Token] = action.children
        column = tokens[0].column or 1
        if kind == "late_assign":
            raise _error(
                "'=' may only be the first operator of a clause",
                column,
                hint="start a new clause (after a space) to reset capabilities again",
            )
        if not listed and (kind != "assign"):
            raise _error(
                "'+' and '-' need a list of capability names",
                column,
                code=CODE_NEEDS_NAMES,
                hint="name the capabilities (or 'all'), e.g. all+ep or cap_chown-e",
            )
        if kind == "assign":
            _clear(state, mask, 7)
            if len(tokens) > 1:
                _set(state, mask, _flags(tokens[1]))
        elif kind == "assign_then":
            _clear(state, mask, 7)
            if str(tokens[1]) == "+":
                _set(state, mask, _flags(tokens[2]))
        else:  # change
            if str(tokens[0]) == "+":
                _set(state, mask, _flags(tokens[1]))
            else:
                _clear(state, mask, _flags(tokens[1]))


def _flag_letters(flags: int) -> str:
    return "".join(letter for letter, bit in FLAG_BITS.items() if flags & bit)


def to_text(sets: CapSets) -> str:
    """Canonical text, shortest-first like libcap's ``cap_to_text``.

    The most common state among the named capabilities becomes the leading
    ``=flags``; every other state is a clause listing its capabilities with the
    flags to add and remove. Unnamed bits (numbers past our table) follow as
    ``+flags`` clauses, as libcap writes them.
    """
    named = len(CAPABILITIES)
    histogram = [0] * 8
    for number in range(named):
        histogram[sets.flags_of(number)] += 1
    common = 7
    for state in range(6, -1, -1):
        if histogram[state] >= histogram[common]:
            common = state
    head = "=" + _flag_letters(common)
    clauses: list[str] = []
    for state in range(7, -1, -1):
        if state == common or not histogram[state]:
            continue
        names = ",".join(cap_name(n).lower() for n in range(named) if sets.flags_of(n) == state)
        added, removed = state & ~common, common & ~state
        clause = names
        if added:
            # libcap shortens a leading "= names+f" to "names=f"
            clause += ("=" if common == 0 and not clauses else "+") + _flag_letters(added)
        if removed:
            clause += "-" + _flag_letters(removed)
        clauses.append(clause)
    text = " ".join(clauses) if common == 0 and clauses else " ".join([head, *clauses])
    extra: list[str] = []
    for state in range(7, 0, -1):
        numbers = [str(n) for n in range(named, MAX_BITS) if sets.flags_of(n) == state]
        if numbers:
            extra.append(",".join(numbers) + "+" + _flag_letters(state))
    return " ".join([text, *extra])
