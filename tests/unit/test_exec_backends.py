"""Executor without root: op appliers through the recording backend, fault injection,
error messages, flag tables, the generated cffi module."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from ocitool.errors import ExecError
from ocitool.exec import flags as F
from ocitool.exec.apply import APPLIERS
from ocitool.exec.context import ExecContext
from ocitool.exec.fault import FaultSyscalls
from ocitool.exec.process import Engine
from ocitool.exec.recording import RecordingSyscalls
from ocitool.exec.rollback import Rollback
from ocitool.exec.syscalls import PR_CAP_AMBIENT, PR_CAPBSET_DROP, sys_error
from ocitool.plan.ops.base import Phase
from ocitool.plan.ops.cgroup import CgroupJoin, CgroupWrite
from ocitool.plan.ops.common import WriteFile
from ocitool.plan.ops.namespaces import Sethostname
from ocitool.plan.ops.process import Setrlimit
from ocitool.plan.ops.security import NoNewPrivs, SeccompLoad, SetCapabilities

REPO = Path(__file__).resolve().parents[2]


def _ctx(sys_: object | None = None) -> ExecContext:
    return ExecContext(sys=sys_ or RecordingSyscalls())  # type: ignore[arg-type]


def _apply(op: object, ctx: ExecContext) -> None:
    APPLIERS[op.name](op, ctx)  # type: ignore[attr-defined]


def test_capabilities_drop_bounding_then_capset_then_ambient() -> None:
    rec = RecordingSyscalls()
    op = SetCapabilities(
        phase=Phase.EXEC,
        bounding=0b101,
        effective=0b1,
        permitted=0b101,
        inheritable=0b100,
        ambient=0b100,
    )
    _apply(op, _ctx(rec))
    drops = [c.args[1] for c in rec.calls if c.name == "prctl" and c.args[0] == PR_CAPBSET_DROP]
    assert drops == [c for c in range(F.cap_last_cap() + 1) if c not in (0, 2)]
    capset = [c.args for c in rec.calls if c.name == "capset"]
    assert capset == [(0b1, 0b101, 0b100)]
    ambient = [c.args for c in rec.calls if c.name == "prctl" and c.args[0] == PR_CAP_AMBIENT]
    assert ambient == [(PR_CAP_AMBIENT, 4), (PR_CAP_AMBIENT, 2, 2)]
    assert rec.names().index("capset") > max(
        i for i, c in enumerate(rec.calls) if c.args[:1] == (PR_CAPBSET_DROP,)
    )


def test_seccomp_program_and_flags() -> None:
    rec = RecordingSyscalls()
    program = bytes(range(16))
    op = SeccompLoad(
        phase=Phase.EXEC, instructions=2, flags=("SECCOMP_FILTER_FLAG_LOG",), program=program.hex()
    )
    _apply(op, _ctx(rec))
    assert [(c.name, c.args) for c in rec.calls] == [("seccomp", (1, 2, program))]


def test_rlimit_infinity_and_init_pid_substitution() -> None:
    rec = RecordingSyscalls()
    ctx = _ctx(rec)
    ctx.pid = 4242
    _apply(Setrlimit(phase=Phase.CREATE_INIT, resource="RLIMIT_CORE", soft=-1, hard=2**64 - 1), ctx)
    _apply(WriteFile(phase=Phase.CREATE_SPAWN, path="/proc/{init}/uid_map", value="0 1 1\n"), ctx)
    _apply(CgroupJoin(phase=Phase.CREATE_SPAWN, path="/sys/fs/cgroup/x/cgroup.procs"), ctx)
    assert [(c.name, c.args) for c in rec.calls] == [
        ("prlimit", (0, 4, 2**64 - 1, 2**64 - 1)),
        ("write_file", ("/proc/4242/uid_map", b"0 1 1\n")),
        ("write_file", ("/sys/fs/cgroup/x/cgroup.procs", b"4242")),
    ]


def test_engine_names_failing_op_text_and_pointer() -> None:
    rec = RecordingSyscalls(results={"sethostname": sys_error("sethostname", ("x",), errno.EPERM)})
    op = Sethostname(phase=Phase.CREATE_INIT, hostname="x", source="/hostname")
    eng = Engine([op], _ctx(rec), APPLIERS)
    with pytest.raises(ExecError) as info:
        eng.apply(0, op)
    err = info.value
    assert err.pointer == "/hostname"
    assert "op #0 sethostname" in err.message and 'sethostname("x")' in err.message
    assert "EPERM" in err.message


def test_fault_backend_fails_exactly_op_k() -> None:
    ops = [CgroupWrite(phase=Phase.CREATE_RUNTIME, path=f"/cg/{i}", value="1") for i in range(4)]
    rec = RecordingSyscalls()
    eng = Engine(ops, _ctx(FaultSyscalls(rec, 2, errno.ENOSPC)), APPLIERS)
    eng.apply(0, ops[0])
    eng.apply(1, ops[1])
    with pytest.raises(ExecError) as info:
        eng.apply(2, ops[2])
    assert "op #2 cgroup_write" in info.value.message and "ENOSPC" in info.value.message
    eng.apply(3, ops[3])
    assert [c.args[0] for c in rec.calls] == ["/cg/0", "/cg/1", "/cg/3"]


def test_fault_on_op_without_calls_fails_at_its_end() -> None:
    op = NoNewPrivs(phase=Phase.EXEC)
    fault = FaultSyscalls(RecordingSyscalls(results={"prctl": 0}), 0)
    eng = Engine([op], _ctx(fault), APPLIERS)
    with pytest.raises(ExecError):
        eng.apply(0, op)


def test_unknown_op_is_an_error_not_a_skip() -> None:
    class Strange(NoNewPrivs):
        name = "strange"

    op = Strange(phase=Phase.EXEC, source="/x")
    with pytest.raises(ExecError) as info:
        Engine([op], _ctx(), APPLIERS).apply(0, op)
    assert "no applier" in info.value.message


def test_rollback_runs_newest_first_and_keeps_going() -> None:
    rec = RecordingSyscalls(results={"rmdir": sys_error("rmdir", ("/a",), errno.EACCES)})
    rb = Rollback(rec)
    rb.push("unlink", ["/f1"])
    rb.push("rmdir", ["/a"])
    rb.push("umount", ["/m"])
    failures = rb.run()
    assert [(c.name, c.args[0]) for c in rec.calls] == [
        ("umount2", "/m"),
        ("rmdir", "/a"),
        ("unlink", "/f1"),
    ]
    assert len(failures) == 1 and "EACCES" in failures[0]
    assert len(rb) == 0
    again = Rollback.from_json(rec, [["unlink", ["/x"], "u"]])
    assert again.to_json() == [["unlink", ["/x"], "u"]]


def test_flag_tables() -> None:
    assert F.mount_flags(("MS_BIND", "MS_REC", "MS_RDONLY")) == 4096 | 16384 | 1
    assert F.clone_flags(("CLONE_NEWPID", "CLONE_NEWNS")) == 0x20000000 | 0x20000
    assert F.cpu_list("0-2,7") == [0, 1, 2, 7]
    assert F.signal_number("KILL") == F.signal_number("SIGKILL") == 9
    assert F.locked_flags(2 | 8 | 4096) == 2 | 8 | (1 << 21)
    with pytest.raises(ExecError):
        F.mount_flags(("MS_BOGUS",))


def test_errors_show_syscall_arguments_and_errno() -> None:
    err = sys_error("mount", ("proc", "/proc", None, 14), errno.EPERM)
    assert err.message.startswith('mount("proc", "/proc", NULL, 14) failed: EPERM')


def test_generated_ffi_module_is_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_ffi.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, "ocitool/exec/_ffi.py is stale: run tools/gen_ffi.py"


def test_linux_backend_reports_errno() -> None:
    from ocitool.exec.linux import LinuxSyscalls

    with pytest.raises(ExecError) as info:
        LinuxSyscalls().pivot_root("/nonexistent-ocitool", "/nonexistent-ocitool")
    assert "pivot_root" in info.value.message
    assert getattr(info.value, "errno", None) in (errno.ENOENT, errno.EPERM, errno.EINVAL)


def test_each_applier_is_typed_with_the_op_class_it_is_registered_for() -> None:
    """``@applies(MaskPath)`` sits on a function whose ``op`` is a ``MaskPath``: the
    class an applier is registered for and its ``op`` annotation agree."""
    from ocitool.plan.ops import op_types

    types = op_types()
    for name, fn in APPLIERS.items():
        annotation = str(fn.__annotations__["op"])
        assert types[name].__name__ in annotation.split(" | "), (name, fn.__name__, annotation)


def test_every_op_class_has_an_applier() -> None:
    """A new op kind in the IR must come with its executor half (or be a control op)."""
    from ocitool.plan.ops import op_types

    control = {"clone", "fork", "wait_start", "start"}  # moved between processes by the engine
    missing = sorted(n for n in op_types() if n not in APPLIERS and n not in control)
    assert missing == []


def _subtree_write(value: str) -> CgroupWrite:
    return CgroupWrite(
        phase=Phase.CREATE_RUNTIME,
        source=None,
        path="/sys/fs/cgroup/a/cgroup.subtree_control",
        value=value,
    )


def _refusing(*refused: str, code: int = errno.ENOENT) -> RecordingSyscalls:
    """write_file refuses the combined write and the listed single controllers."""

    def write_file(path: str, data: bytes) -> None:
        if b" " in data or data.decode() in refused:
            raise sys_error("write", (path, data), code)

    return RecordingSyscalls(results={"write_file": write_file})


def test_subtree_control_enables_controllers_one_by_one_when_one_is_refused() -> None:
    rec = _refusing("+io")
    APPLIERS["cgroup_write"](_subtree_write("+cpu +io +memory"), ExecContext(sys=rec))
    assert [c.args[1] for c in rec.calls] == [b"+cpu +io +memory", b"+cpu", b"+io", b"+memory"]


def test_subtree_control_with_nothing_enabled_is_the_first_error() -> None:
    rec = _refusing("+cpu", "+io")
    with pytest.raises(ExecError) as info:
        APPLIERS["cgroup_write"](_subtree_write("+cpu +io"), ExecContext(sys=rec))
    assert "+cpu +io" in info.value.message and "ENOENT" in info.value.message


@pytest.mark.parametrize("code", [errno.EBUSY, errno.EIO])
def test_other_subtree_control_errors_are_not_retried(code: int) -> None:
    rec = _refusing(code=code)
    with pytest.raises(ExecError):
        APPLIERS["cgroup_write"](_subtree_write("+cpu +io"), ExecContext(sys=rec))
    assert len(rec.calls) == 1


def test_other_cgroup_files_are_not_retried() -> None:
    rec = _refusing()
    op = CgroupWrite(
        phase=Phase.CREATE_RUNTIME, source=None, path="/sys/fs/cgroup/a/x.max", value="1 2"
    )
    with pytest.raises(ExecError):
        APPLIERS["cgroup_write"](op, ExecContext(sys=rec))
    assert len(rec.calls) == 1


def test_processes_go_through_the_backend_fork_wait_kill() -> None:
    """A hook's pipe, fork, write and wait, the engine's wait and signal forwarding, and the
    undo log's kill + wait are Syscalls calls: the recording backend sees every one."""
    import signal

    from ocitool.plan.ops.hooks import RunHook

    rec = RecordingSyscalls()
    ctx = _ctx(rec)
    _apply(RunHook(phase=Phase.HOOKS_POSTSTART, kind="poststart", index=0, path="/bin/true"), ctx)
    assert rec.names() == ["pipe2", "fork", "close", "write", "close", "waitpid"]
    assert rec.calls[-1].args == (1000, 0)

    rec.calls.clear()
    eng = Engine([], ctx, APPLIERS)
    eng.pid = ctx.pid = 4321
    ctx.rollback.push("kill_wait", [4321], "kill init")

    def waitpid(pid: int, options: int = 0) -> tuple[int, int]:
        if pid == 4321:  # the container gets a signal while we wait: it is forwarded
            signal.raise_signal(signal.SIGUSR1)
            return pid, 3 << 8
        raise ChildProcessError  # no orphans left to reap

    rec.results["waitpid"] = waitpid
    assert eng.wait() == 3
    assert [(c.name, c.args) for c in rec.calls] == [
        ("waitpid", (4321, 0)),
        ("kill", (4321, signal.SIGUSR1)),  # forwarded while we waited
        ("waitpid", (-1, 1)),  # WNOHANG: the subreaper's orphans
    ]
    assert ctx.rollback.steps == []  # reaped: its undo step must not kill a reused pid

    rec.calls.clear()
    ctx.rollback.push("kill_wait", [99], "kill init")
    rec.results["waitpid"] = (99, 0)
    assert ctx.rollback.run() == []
    assert rec.names() == ["kill", "waitpid"] and rec.calls[0].args == (99, 9)


def test_a_fault_at_a_hook_op_fails_its_first_call_the_pipe() -> None:
    from ocitool.plan.ops.hooks import RunHook

    rec = RecordingSyscalls()
    ctx = _ctx(FaultSyscalls(rec, fail_op=0))
    eng = Engine(
        [RunHook(phase=Phase.HOOKS_CREATE_RUNTIME, kind="createRuntime", index=0, path="/x")],
        ctx,
        APPLIERS,
    )
    with pytest.raises(ExecError, match=r"op #0 hook .*pipe2\(0x80000\) failed: EIO"):
        eng.apply(0, eng.ops[0])
    assert rec.calls == []  # neither the pipe nor the fork reached the real backend
