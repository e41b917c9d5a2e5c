"""``ocitool seccomp``: compile, disassemble, emulate, explain, convert and test filters.

Thin: read the input, pick the library function, render. An INPUT is a
config.json (its ``linux.seccomp``) or bundle directory, a bare OCI seccomp
object, a ``.policy`` file, or a Docker/containers-common profile -- told apart
by extension and content, so the user never has to say which.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocitool.cli.common import EXIT_FINDINGS, EXIT_OK, ArgumentParser
from ocitool.errors import SeccompError, UsageError
from ocitool.inputs import read_input

BAD_INPUT = "OCI471"


@dataclass
class Input:
    """A profile read from the command line, in OCI form, with where each rule came from."""

    seccomp: dict[str, Any]
    kind: str  # "config" | "oci" | "policy" | "docker"
    path: str
    pointers: list[str] | None = None
    sources: list[Any] | None = None
    doc: dict[str, Any] | None = None  # the config.json, for explain's pointers
    document: Any = None  # the loaded JSON Document, to turn pointers into line:column


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="ocitool seccomp",
        description="Compile, disassemble, emulate and explain seccomp filters.",
    )
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True

    def profile_opts(p: Any, *, caps: bool = True) -> None:
        p.add_argument("--arch", help="target arch (default: the host's)")
        if caps:
            p.add_argument(
                "--caps",
                action="append",
                metavar="CAPS",
                help="Docker profiles: the container's capabilities, comma-separated "
                "(default: Docker's default set; '+CAP_X' adds to it)",
            )
            p.add_argument(
                "--kernel",
                metavar="X.Y",
                help="Docker profiles: the kernel that minKernel is compared with "
                "(default: a recent one, so every minKernel is met)",
            )

    def query_opts(p: Any) -> None:
        p.add_argument(
            "--syscall", required=True, metavar="NAME|NR", help="e.g. clone, or 56 / 0x38"
        )
        p.add_argument(
            "--args",
            default="",
            metavar="A0,A1,...",
            help="argument values: numbers or constants joined by '|', e.g. CLONE_NEWUSER|17,0",
        )
        p.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="output format (default: text)",
        )

    profile_help = (
        "a config.json or bundle dir, an OCI seccomp JSON, a .policy file, a Docker profile"
    )
    p = sub.add_parser("compile", help="compile a profile to BPF")
    p.add_argument("input", metavar="INPUT", help=profile_help + ", or - for stdin")
    profile_opts(p)
    p.add_argument("--format", choices=("raw", "disasm", "json"), default="disasm",
                   help="raw: seccomp_export_bpf bytes; disasm: a listing (default); json")  # fmt: skip
    p.add_argument("-o", "--output", metavar="FILE", help="write FILE instead of standard output")
    p.add_argument("--strict", action="store_true", help="unknown syscall names are errors")

    p = sub.add_parser("disasm", help="disassemble a raw BPF program (ours or libseccomp's)")
    p.add_argument("input", metavar="FILE.bpf", help="raw struct sock_filter array, or -")
    p.add_argument("--arch", help="arch for syscall names (default: from the program)")

    p = sub.add_parser("emulate", help="run a filter on one syscall and show the path")
    p.add_argument("input", metavar="INPUT|FILE.bpf", help=profile_help + ", or a raw program")
    profile_opts(p)
    query_opts(p)

    p = sub.add_parser("explain", help="which rule decides a syscall, and why")
    p.add_argument("input", metavar="CONFIG", help=profile_help)
    profile_opts(p)
    query_opts(p)

    p = sub.add_parser("convert", help="Docker/containers-common profile -> OCI seccomp object")
    p.add_argument("input", metavar="PROFILE", help="a Docker or containers-common profile")
    profile_opts(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write FILE instead of standard output")

    p = sub.add_parser("test", help="check a profile's verdicts against an expectations file")
    p.add_argument("input", metavar="INPUT", help=profile_help)
    profile_opts(p)
    p.add_argument("--expect", required=True, metavar="FILE",
                   help="lines 'SYSCALL[(ARGS)] VERDICT', e.g. 'mount ERRNO(EPERM)'")  # fmt: skip
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    handler = {
        "compile": _compile,
        "disasm": _disasm,
        "emulate": _emulate,
        "explain": _explain,
        "convert": _convert,
        "test": _test,
    }[args.cmd]
    return handler(args)


# --- input ----------------------------------------------------------------------------------


def _arch(args: Any) -> str:
    from ocitool.seccomp.arch import host_arch, normalize_arch

    return host_arch() if args.arch is None else normalize_arch(args.arch)


def _caps(args: Any) -> list[str] | None:
    from ocitool.seccomp.docker import DOCKER_DEFAULT_CAPS

    if not getattr(args, "caps", None):
        return None
    from ocitool.capabilities import cap_number

    items = [c.strip() for chunk in args.caps for c in chunk.split(",") if c.strip()]
    for item in items:
        if cap_number(item.removeprefix("+")) is None:
            raise UsageError(
                message=f"--caps: unknown capability {item.removeprefix('+')!r}",
                code="OCI010",
                expected="names such as CAP_NET_ADMIN or net_admin, comma-separated",
            )
    adds = [c[1:] for c in items if c.startswith("+")]
    plain = [c for c in items if not c.startswith("+")]
    if adds and not plain:
        return [*DOCKER_DEFAULT_CAPS, *adds]
    return plain + adds


def _kernel(args: Any) -> tuple[int, int] | None:
    text = getattr(args, "kernel", None)
    if not text:
        return None
    parts = text.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (ValueError, IndexError):
        raise UsageError(
            message=f"--kernel {text!r}: expected X.Y, e.g. 5.15", code="OCI010"
        ) from None


def _read_bytes(path: str) -> bytes:
    return read_input(path, "seccomp input", stdin=True)


def load_input(path: str, args: Any) -> Input:
    """Read any supported profile form and return it as an OCI seccomp object."""
    from ocitool.seccomp.docker import convert, is_docker_profile
    from ocitool.seccomp.explain import check_shape, seccomp_of

    if Path(path).is_dir():
        path = str(Path(path) / "config.json")
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SeccompError(
            message=f"{path} is not text (a raw BPF program? use 'ocitool seccomp disasm')",
            code=BAD_INPUT,
            path=path,
        ) from None
    if path.endswith(".policy") or not text.lstrip().startswith(("{", "[")):
        from ocitool.seccomp.policy import parse_policy_with_sources

        seccomp, sources = parse_policy_with_sources(text, None if path == "-" else path)
        return Input(seccomp, "policy", path, sources=list(sources))
    from ocitool.spec.load import parse_text

    document = parse_text(text, path)
    data = document.data
    if is_docker_profile(data):
        try:
            conv = convert(data, _caps(args), _arch(args), _kernel(args))
        except SeccompError as err:
            raise _locate(err, document) from None
        pointers = [f"/syscalls/{i}" for i in conv.origins]
        return Input(conv.seccomp, "docker", path, pointers=pointers, document=document)
    try:
        seccomp, base = seccomp_of(data)
        check_shape(seccomp, base)
    except SeccompError as err:
        raise _locate(err, document) from None
    if base:
        return Input(seccomp, "config", path, doc=data, document=document)
    return Input(seccomp, "oci", path, document=document)


def _locate(err: SeccompError, document: Any) -> SeccompError:
    """Name the input file in ``err``, with the line:column of its pointer."""
    if document is None:
        return err
    err.path = err.path or document.path
    if err.pointer is not None:
        err.line, err.column = document.position(err.pointer) or (err.line, err.column)
    return err


def _unpack(path: str, raw: bytes) -> list[Any]:
    """A raw program's instructions; a malformed one is reported against its file."""
    from ocitool.seccomp import bpf as B

    try:
        return list(B.unpack_program(raw))
    except SeccompError as err:
        err.path = err.path or path
        raise


def _write(output: str | None, data: bytes | str) -> None:
    blob = data.encode("utf-8") if isinstance(data, str) else data
    if output and output != "-":
        try:
            Path(output).write_bytes(blob)
        except OSError as exc:
            raise UsageError(
                message=f"cannot write {output}: {exc.strerror}", code="OCI003", path=output
            ) from None
        return
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (embedding, tests): text is all it can take
        if isinstance(data, bytes):
            raise UsageError(
                message="standard output here takes text only, not a raw program",
                code="OCI010",
                hint="use -o FILE.bpf",
            )
        sys.stdout.write(data)
        return
    buffer.write(blob)
    buffer.flush()


def _parse_args_list(text: str) -> tuple[int, ...]:
    from ocitool.seccomp.constants import CONSTANTS

    if not text.strip():
        return ()
    values = []
    for part in text.split(","):
        item = part.strip()
        value = 0
        for piece in item.split("|"):
            piece = piece.strip()
            if piece in CONSTANTS:
                value |= CONSTANTS[piece]
                continue
            try:
                number = int(piece, 0)
            except ValueError:
                raise UsageError(
                    message=f"--args: {piece!r} is not a number or a known constant",
                    code="OCI010",
                    hint="e.g. --args 0x10000000,0  or  --args CLONE_NEWUSER|CLONE_NEWNS",
                ) from None
            value |= number & ((1 << 64) - 1)
        values.append(value)
    if len(values) > 6:
        raise UsageError(message="--args: a syscall has at most 6 arguments", code="OCI010")
    return tuple(values)


def _number(text: str) -> int | None:
    """``text`` as a syscall number (decimal or 0x hex, ASCII only), or None for a name."""
    if not text.isascii() or not (text.isdigit() or text.lower().startswith("0x")):
        return None
    try:
        nr = int(text, 0) if text.lower().startswith("0x") else int(text)
    except ValueError:
        raise UsageError(message=f"--syscall: {text!r} is not a number", code="OCI010") from None
    if nr >= 1 << 32:
        raise UsageError(
            message=f"--syscall: {text} does not fit the 32-bit nr field of seccomp_data",
            code="OCI010",
            expected="0..4294967295",
        )
    return nr


def _syscall_nr(arch: str, text: str) -> tuple[str, int]:
    from ocitool.seccomp.tables import syscall_name, syscall_number

    if not text.strip():
        raise UsageError(message="--syscall: empty", code="OCI010", expected="a name or number")
    nr = _number(text)
    if nr is not None:
        return syscall_name(arch, nr) or f"#{nr}", nr
    nr_or_none = syscall_number(arch, text)
    if nr_or_none is None:
        raise UsageError(
            message=f"{text!r} is not a syscall on {arch}",
            code="OCI010",
            hint="pass a number to test an arbitrary syscall number",
        )
    return text, nr_or_none


def _compiled(inp: Input, arch: str, strict: bool = False) -> Any:
    from ocitool.seccomp.compiler import compile_seccomp

    base = "/linux/seccomp" if inp.kind == "config" else ""
    try:
        compiled = compile_seccomp(inp.seccomp, arch, strict=strict, base_pointer=base)
    except SeccompError as err:
        raise _relocate(err, inp) from None
    for warning in compiled.warnings:
        print(_relocate_diag(warning, inp).render(), file=sys.stderr)
    return compiled


def _relocate_diag(diag: Any, inp: Input) -> Any:
    """Point a compiler diagnostic at the user's file: policy line or Docker profile rule."""
    ptr = diag.pointer or ""
    parts = ptr.split("/")
    index = (
        int(parts[2]) if len(parts) > 2 and parts[1] == "syscalls" and parts[2].isdigit() else None
    )
    if inp.kind == "policy" and inp.sources and index is not None and index < len(inp.sources):
        src = inp.sources[index]
        return diag.replace(pointer="", path=src.path or inp.path, line=src.line, column=None)
    if inp.kind == "docker" and inp.pointers and index is not None and index < len(inp.pointers):
        rest = "/".join(parts[3:])
        diag = diag.replace(
            pointer=inp.pointers[index] + (f"/{rest}" if rest else ""), path=inp.path
        )
    if inp.document is not None and diag.pointer:
        return inp.document.locate(diag)
    return diag.replace(path=diag.path or inp.path)


def _relocate(err: SeccompError, inp: Input) -> SeccompError:
    if err.diagnostics:
        err.diagnostics = [_relocate_diag(d, inp) for d in err.diagnostics]
        return err
    diag = _relocate_diag(err.as_diagnostics()[0], inp)
    err.pointer, err.path, err.line, err.column = diag.pointer, diag.path, diag.line, diag.column
    return err


# --- commands -------------------------------------------------------------------------------


def _compile(args: Any) -> int:
    arch = _arch(args)
    inp = load_input(args.input, args)
    compiled = _compiled(inp, arch, args.strict)
    if args.format == "raw":
        if not args.output and sys.stdout.isatty():
            raise UsageError(
                message="refusing to write a binary program to a terminal",
                code="OCI010",
                hint="use -o FILE.bpf or redirect standard output",
            )
        _write(args.output, compiled.raw())
    elif args.format == "disasm":
        _write(args.output, compiled.disasm())
    else:
        out: dict[str, Any] = {"arch": arch, "input": {"path": inp.path, "kind": inp.kind}}
        out.update(compiled.to_json())
        _write(args.output, json.dumps(out, indent=2) + "\n")
    return EXIT_OK


def _disasm(args: Any) -> int:
    from ocitool.seccomp.disasm import disassemble

    raw = _read_bytes(args.input)
    arch = None
    if args.arch:
        from ocitool.seccomp.arch import normalize_arch

        arch = normalize_arch(args.arch)
    try:
        listing = disassemble(raw, arch)
    except SeccompError as err:
        err.path = err.path or args.input
        raise
    sys.stdout.write(listing)
    return EXIT_OK


def _looks_like_bpf(path: str, raw: bytes) -> bool:
    if path.endswith(".bpf"):
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _emulate(args: Any) -> int:
    from ocitool.seccomp.actions import action_text
    from ocitool.seccomp.disasm import disassemble_insns
    from ocitool.seccomp.emulator import emulate

    arch = _arch(args)
    name, nr = _syscall_nr(arch, args.syscall)
    values = _parse_args_list(args.args)
    is_file = args.input != "-" and not Path(args.input).is_dir()  # a bundle dir is a config
    raw = _read_bytes(args.input) if is_file else b""
    if is_file and _looks_like_bpf(args.input, raw):
        insns = _unpack(args.input, raw)
    else:
        insns = list(_compiled(load_input(args.input, args), arch).instructions)
    run = emulate(insns, arch, nr, values + (0,) * (6 - len(values)))
    if args.format == "json":
        out = {
            "syscall": name,
            "nr": nr,
            "arch": arch,
            "args": list(values),
            "ret": run.ret,
            "verdict": action_text(run.ret),
            "action": run.action,
            "errno": run.errno,
            "path": run.path,
        }
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return EXIT_OK
    listing = disassemble_insns(insns, arch).splitlines()
    call = f"{name}({', '.join(hex(v) for v in values)})" if values else name
    print(f"{call} on {arch} [nr {nr}]: {action_text(run.ret)}  (ret {run.ret:#010x})")
    print(f"path: {len(run.path)} instructions executed")
    for pc in run.path:
        print(f"  {listing[pc] if pc < len(listing) else pc}")
    return EXIT_OK


def _explain(args: Any) -> int:
    from ocitool.seccomp.explain import explain

    arch = _arch(args)
    values = _parse_args_list(args.args)
    inp = load_input(args.input, args)
    doc = inp.doc if inp.doc is not None else inp.seccomp
    name = args.syscall
    if not name.strip():
        raise UsageError(message="--syscall: empty", code="OCI010", expected="a name or number")
    if _number(name) is not None:
        name = _syscall_nr(arch, name)[0]
    result = explain(doc, name, values, arch, pointers=inp.pointers, sources=inp.sources)
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        print(result.render())
    return EXIT_OK


def _convert(args: Any) -> int:
    from ocitool.seccomp.docker import is_docker_profile

    inp = load_input(args.input, args)
    if inp.kind != "docker":
        from ocitool.spec.load import parse_text

        data = (
            parse_text(_read_bytes(args.input).decode("utf-8"), args.input).data
            if inp.kind in ("oci", "config")
            else None
        )
        if not is_docker_profile(data):
            print(
                f"note: {args.input} is a {inp.kind} input, not a Docker profile; "
                "writing its OCI seccomp object",
                file=sys.stderr,
            )
    _write(args.output, json.dumps(inp.seccomp, indent=2) + "\n")
    return EXIT_OK


def _test(args: Any) -> int:
    """Each line of the expectations file: ``SYSCALL[(a0,a1,...)] VERDICT`` (``#`` comments).

    VERDICT is the emulator's spelling: ALLOW, ERRNO(EPERM), KILL_PROCESS, ...
    The profile is checked through its OCI reading and its compiled filter.
    """
    from ocitool.seccomp.explain import explain

    arch = _arch(args)
    inp = load_input(args.input, args)
    doc = inp.doc if inp.doc is not None else inp.seccomp
    text = _read_bytes(args.expect).decode("utf-8", "replace")
    failures = 0
    total = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        call, _, want = line.rpartition(" ")
        call = call.strip()
        if not call:
            raise UsageError(
                message=f"{args.expect}:{lineno}: expected 'SYSCALL[(ARGS)] VERDICT'",
                code="OCI010",
            )
        name = call
        values: tuple[int, ...] = ()
        if "(" in call and call.endswith(")"):
            name, inner = call[:-1].split("(", 1)
            values = _parse_args_list(inner)
        result = explain(
            doc, name.strip(), values, arch, pointers=inp.pointers, sources=inp.sources
        )
        got = result.verdict.text()
        total += 1
        bad_bpf = result.agrees is False
        if got != want.strip() or bad_bpf:
            failures += 1
            extra = " (compiled filter disagrees)" if bad_bpf else ""
            print(f"FAIL {args.expect}:{lineno}: {call}: want {want}, got {got}{extra}")
            print(f"     {result.why}")
    print(f"{total - failures}/{total} expectations hold")
    return EXIT_FINDINGS if failures else EXIT_OK
