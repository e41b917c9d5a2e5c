"""Device rules -> a BPF_PROG_TYPE_CGROUP_DEVICE eBPF program (cgroup v2's devices controller).

cgroup v2 has no ``devices.allow``/``devices.deny`` files: access to device
nodes is decided by an eBPF program attached to the cgroup, called with
``struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }``
(``access_type`` = access bits << 16 | device type) and returning 1 (allow)
or 0 (deny).

Semantics are cgroup v1's, as runc does it (its devices "emulator"), so the
same config means the same thing on v1 and v2 hosts:

* the starting point is deny-all (runc's emulator starts as an allow-list;
  runtime-spec calls the rules "the allowed device list");
* a rule of type ``a`` resets everything: allow-all (``allow: true``) or
  deny-all (``allow: false``) becomes the default and earlier rules are
  forgotten;
* any other rule adds or removes an *exception* to the default for
  (type, major or any, minor or any) and the listed access letters; an allow
  rule in deny-all mode adds access, a deny rule removes it (and the reverse
  in allow-all mode). The net effect is that the last matching rule wins;
* removing access that a broader wildcard exception still grants cannot be
  expressed (cgroup v1 silently ignores it); that is an error, as in runc.

The program checks the exceptions in a stable order, then returns the
default. Matching follows the v1 kernel (security/device_cgroup.c): in
deny-all mode a request is allowed only if one exception grants *all* the
requested access bits (``(req & acc) == req``); in allow-all mode a request
is denied if an exception lists *any* requested bit (``req & acc != 0``).
runc's generated program uses the subset test for both, which lets e.g. an
``rw`` open through a ``w`` deny rule; we follow the kernel instead.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

# include/uapi/linux/bpf.h
BPF_DEVCG_ACC_MKNOD = 1
BPF_DEVCG_ACC_READ = 2
BPF_DEVCG_ACC_WRITE = 4
BPF_DEVCG_DEV_BLOCK = 1
BPF_DEVCG_DEV_CHAR = 2

ACCESS_BITS = {"m": BPF_DEVCG_ACC_MKNOD, "r": BPF_DEVCG_ACC_READ, "w": BPF_DEVCG_ACC_WRITE}
DEV_TYPES = {"b": BPF_DEVCG_DEV_BLOCK, "c": BPF_DEVCG_DEV_CHAR}
ALL_ACCESS = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE
WILDCARD = -1
LICENSE = "Apache"

# Opcodes (class | op | source).
BPF_LDX_MEM_W = 0x61  # BPF_LDX | BPF_MEM | BPF_W
BPF_ALU_AND_K = 0x54  # BPF_ALU | BPF_AND | BPF_K (32-bit)
BPF_ALU_RSH_K = 0x74  # BPF_ALU | BPF_RSH | BPF_K
BPF_ALU_MOV_K = 0xB4  # BPF_ALU | BPF_MOV | BPF_K
BPF_ALU_MOV_X = 0xBC  # BPF_ALU | BPF_MOV | BPF_X
BPF_JMP_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
BPF_JMP_JNE_K = 0x55  # BPF_JMP | BPF_JNE | BPF_K
BPF_JMP_JNE_X = 0x5D  # BPF_JMP | BPF_JNE | BPF_X
BPF_JMP_EXIT = 0x95  # BPF_JMP | BPF_EXIT

# Big-endian targets store bpf_insn's register nibbles the other way round.
BIG_ENDIAN_ARCHES = frozenset({"s390x", "ppc64", "mips64", "mips", "sparc64"})

# Largest major/minor the kernel can produce (MINORBITS = 20; majors are 12 bits).
MAX_MAJOR = (1 << 12) - 1
MAX_MINOR = (1 << 20) - 1


class DeviceRuleError(ValueError):
    """A device rule the devices controller cannot express (``index`` = rule position)."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class DeviceRule:
    """One ``linux.resources.devices`` entry, normalised (type a/b/c, -1 = any)."""

    allow: bool
    type: str = "a"
    major: int = WILDCARD
    minor: int = WILDCARD
    access: str = "rwm"
    source: str | None = None

    def access_bits(self) -> int:
        bits = 0
        for letter in self.access:
            if letter not in ACCESS_BITS:
                raise DeviceRuleError(f"unknown device access {letter!r} (expected r, w, m)")
            bits |= ACCESS_BITS[letter]
        return bits


def access_letters(bits: int) -> str:
    return "".join(letter for letter in "rwm" if bits & ACCESS_BITS[letter])


def _num(value: int) -> str:
    return "*" if value == WILDCARD else str(value)


@dataclass(frozen=True)
class DeviceException:
    """An exception to the default policy: (type, major, minor) with access bits."""

    type: str
    major: int
    minor: int
    access: int
    source: str | None = None

    def cgroup_string(self) -> str:
        """The v1 ``devices.allow``/``devices.deny`` line, e.g. ``c 1:3 rwm``."""
        return f"{self.type} {_num(self.major)}:{_num(self.minor)} {access_letters(self.access)}"


@dataclass
class DeviceState:
    """cgroup v1 devices semantics: a default plus exceptions (like runc's emulator)."""

    # runc's emulator starts as an allow-list (deny all): the config's rules
    # describe what is allowed (runtime-spec calls them "the device allowlist"),
    # so no rules at all means no device access beyond the defaults appended.
    default_allow: bool = False
    exceptions: dict[tuple[str, int, int], int] = field(default_factory=dict)
    sources: dict[tuple[str, int, int], str | None] = field(default_factory=dict)
    reset_source: str | None = None
    was_reset: bool = False

    def apply(self, rule: DeviceRule, index: int | None = None) -> None:
        if rule.type not in ("a", "b", "c"):
            raise DeviceRuleError(f"invalid device type {rule.type!r} (expected a, b or c)", index)
        bits = rule.access_bits()
        if bits == 0:
            raise DeviceRuleError("device access must not be empty", index)
        for what, value, limit in (
            ("major", rule.major, MAX_MAJOR),
            ("minor", rule.minor, MAX_MINOR),
        ):
            if value != WILDCARD and not 0 <= value <= limit:
                raise DeviceRuleError(f"device {what} {value} out of range 0..{limit}", index)
        if rule.type == "a":
            # "a" means every device whatever the numbers and access letters say.
            self.default_allow = rule.allow
            self.exceptions.clear()
            self.sources.clear()
            self.reset_source = rule.source
            self.was_reset = True
            return
        key = (rule.type, rule.major, rule.minor)
        if rule.allow != self.default_allow:
            self.exceptions[key] = self.exceptions.get(key, 0) | bits
            self.sources[key] = rule.source
        else:
            self._remove(key, bits, index)

    def _remove(self, key: tuple[str, int, int], bits: int, index: int | None) -> None:
        dev_type, major, minor = key
        for partial in (
            (dev_type, WILDCARD, minor),
            (dev_type, major, WILDCARD),
            (dev_type, WILDCARD, WILDCARD),
        ):
            if partial == key:
                continue
            overlap = self.exceptions.get(partial, 0) & bits
            if overlap:
                wide = DeviceException(partial[0], partial[1], partial[2], self.exceptions[partial])
                raise DeviceRuleError(
                    f"rule {DeviceException(dev_type, major, minor, bits).cgroup_string()!r} cannot "
                    f"take access back from the wider rule {wide.cgroup_string()!r} "
                    "(the devices controller cannot punch holes in wildcard rules)",
                    index,
                )
        remaining = self.exceptions.get(key, 0) & ~bits
        if remaining:
            self.exceptions[key] = remaining
        else:
            self.exceptions.pop(key, None)
            self.sources.pop(key, None)

    def in_rule_order(self) -> list[DeviceException]:
        """Exceptions in the order the rules first named them: the config's, then the
        defaults. cgroup v1 lists exceptions in write order (devices.list), and
        runtime-spec says the entries are applied in the listed order."""
        return [
            DeviceException(k[0], k[1], k[2], bits, self.sources.get(k))
            for k, bits in self.exceptions.items()
        ]

    def ordered(self) -> list[DeviceException]:
        """Exceptions sorted by (major, minor, type), as runc writes them (wildcards first)."""
        keys = sorted(self.exceptions, key=lambda k: (k[1], k[2], k[0]))
        return [
            DeviceException(k[0], k[1], k[2], self.exceptions[k], self.sources.get(k)) for k in keys
        ]


def emulate(rules: Iterable[DeviceRule]) -> DeviceState:
    """Apply rules in order; raises DeviceRuleError (with the rule index) on a bad rule."""
    state = DeviceState()
    for index, rule in enumerate(rules):
        state.apply(rule, index)
    return state


@dataclass(frozen=True)
class Insn:
    """One eBPF instruction (struct bpf_insn) plus an optional comment for the listing."""

    code: int
    dst: int = 0
    src: int = 0
    off: int = 0
    imm: int = 0
    comment: str = ""

    def encode(self, big_endian: bool = False) -> bytes:
        if big_endian:
            regs = ((self.dst & 0xF) << 4) | (self.src & 0xF)
            return struct.pack(">BBhi", self.code, regs, self.off, self.imm)
        regs = ((self.src & 0xF) << 4) | (self.dst & 0xF)
        return struct.pack("<BBhi", self.code, regs, self.off, self.imm)

    def disasm(self, pc: int) -> str:
        c, d, s = self.code, self.dst, self.src
        if c == BPF_LDX_MEM_W:
            text = f"r{d} = *(u32 *)(r{s} + {self.off})"
        elif c == BPF_ALU_AND_K:
            text = f"w{d} &= {self.imm:#x}"
        elif c == BPF_ALU_RSH_K:
            text = f"w{d} >>= {self.imm}"
        elif c == BPF_ALU_MOV_K:
            text = f"w{d} = {self.imm}"
        elif c == BPF_ALU_MOV_X:
            text = f"w{d} = w{s}"
        elif c == BPF_JMP_JEQ_K:
            text = f"if r{d} == {self.imm} goto {pc + 1 + self.off}"
        elif c == BPF_JMP_JNE_K:
            text = f"if r{d} != {self.imm} goto {pc + 1 + self.off}"
        elif c == BPF_JMP_JNE_X:
            text = f"if r{d} != r{s} goto {pc + 1 + self.off}"
        elif c == BPF_JMP_EXIT:
            text = "exit"
        else:  # pragma: no cover - we only emit the opcodes above
            text = f"code={c:#04x} dst=r{d} src=r{s} off={self.off} imm={self.imm}"
        return f"{pc:4d}: {text}" + (f"  ; {self.comment}" if self.comment else "")


@dataclass(frozen=True)
class DeviceProgram:
    """A compiled device filter: instructions, the policy it encodes, and how to show it."""

    insns: tuple[Insn, ...]
    default_allow: bool
    exceptions: tuple[DeviceException, ...]
    license: str = LICENSE

    def encode(self, arch: str = "x86_64") -> bytes:
        big = arch in BIG_ENDIAN_ARCHES
        return b"".join(i.encode(big) for i in self.insns)

    def listing(self) -> list[str]:
        return [insn.disasm(pc) for pc, insn in enumerate(self.insns)]


def _prologue() -> list[Insn]:
    return [
        Insn(BPF_LDX_MEM_W, dst=2, src=1, off=0, comment="r2 = ctx->access_type"),
        Insn(BPF_ALU_AND_K, dst=2, imm=0xFFFF, comment="r2 = device type (b=1, c=2)"),
        Insn(BPF_LDX_MEM_W, dst=3, src=1, off=0),
        Insn(BPF_ALU_RSH_K, dst=3, imm=16, comment="r3 = requested access (m=1, r=2, w=4)"),
        Insn(BPF_LDX_MEM_W, dst=4, src=1, off=4, comment="r4 = major"),
        Insn(BPF_LDX_MEM_W, dst=5, src=1, off=8, comment="r5 = minor"),
    ]


def _block(exc: DeviceException, verdict: int) -> list[Insn]:
    """Instructions that return ``verdict`` when the request matches ``exc``; -1 offsets = next block."""
    name = f"{exc.cgroup_string()} -> {'allow' if verdict else 'deny'}"
    body: list[Insn] = [Insn(BPF_JMP_JNE_K, dst=2, imm=DEV_TYPES[exc.type], off=-1, comment=name)]
    if exc.access != ALL_ACCESS:
        body += [Insn(BPF_ALU_MOV_X, dst=1, src=3), Insn(BPF_ALU_AND_K, dst=1, imm=exc.access)]
        if verdict:
            # allow exception: every requested access bit must be granted
            body.append(Insn(BPF_JMP_JNE_X, dst=1, src=3, off=-1, comment="all requested listed?"))
        else:
            # deny exception: any requested access bit it lists denies
            body.append(Insn(BPF_JMP_JEQ_K, dst=1, imm=0, off=-1, comment="any requested listed?"))
    if exc.major != WILDCARD:
        body.append(Insn(BPF_JMP_JNE_K, dst=4, imm=exc.major, off=-1))
    if exc.minor != WILDCARD:
        body.append(Insn(BPF_JMP_JNE_K, dst=5, imm=exc.minor, off=-1))
    body += [Insn(BPF_ALU_MOV_K, dst=0, imm=verdict), Insn(BPF_JMP_EXIT)]
    # Resolve "next block" jumps: the next block starts right after this one.
    out = []
    for i, insn in enumerate(body):
        if insn.off == -1:
            insn = Insn(insn.code, insn.dst, insn.src, len(body) - i - 1, insn.imm, insn.comment)
        out.append(insn)
    return out


def compile_state(state: DeviceState) -> DeviceProgram:
    verdict = 0 if state.default_allow else 1
    insns = _prologue()
    exceptions = state.ordered()
    for exc in exceptions:
        insns += _block(exc, verdict)
    default = 1 if state.default_allow else 0
    insns += [
        Insn(
            BPF_ALU_MOV_K, dst=0, imm=default, comment=f"default: {'allow' if default else 'deny'}"
        ),
        Insn(BPF_JMP_EXIT),
    ]
    return DeviceProgram(tuple(insns), state.default_allow, tuple(exceptions))


def compile_device_rules(rules: Iterable[DeviceRule]) -> DeviceProgram:
    """Rules in config order -> program. Raises DeviceRuleError for inexpressible rules."""
    return compile_state(emulate(rules))
