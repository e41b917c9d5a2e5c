"""Properties of lowering over generated configs: phases, ordering, provenance, determinism."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocitool.capabilities import CAPABILITIES
from ocitool.errors import LoweringError
from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.plan import check_order
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NS_TYPES = ["pid", "network", "ipc", "uts", "mount", "cgroup", "user", "time"]
HOOK_KINDS = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
]
caps_list = st.lists(st.sampled_from(CAPABILITIES[:38]), max_size=5, unique=True)
hook = st.fixed_dictionaries(
    {"path": st.sampled_from(["/bin/h1", "/usr/bin/h2"])},
    optional={
        "args": st.lists(st.text("abc", min_size=1, max_size=3), max_size=2),
        "timeout": st.integers(1, 30),
    },
)
mount = st.sampled_from(
    [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/tmp",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "size=1m"],
        },
        {"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "ro"]},
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777"],
        },
    ]
)
SECCOMP = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}],
}


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    namespaces = draw(st.lists(st.sampled_from(NS_TYPES), unique=True, max_size=8))
    if "mount" not in namespaces:
        namespaces.append("mount")
    linux: dict[str, Any] = {"namespaces": [{"type": t} for t in namespaces]}
    uid = draw(st.sampled_from([0, 1000]))
    gid = draw(st.sampled_from([0, 100]))
    if "user" in namespaces:
        linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    if "time" in namespaces and draw(st.booleans()):
        linux["timeOffsets"] = {"monotonic": {"secs": draw(st.integers(0, 99)), "nanosecs": 0}}
    if "network" in namespaces and draw(st.booleans()):
        linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    linux["maskedPaths"] = draw(
        st.lists(st.sampled_from(["/proc/kcore", "/proc/keys", "/sys/firmware"]), unique=True)
    )
    linux["readonlyPaths"] = draw(
        st.lists(st.sampled_from(["/proc/sys", "/proc/bus"]), unique=True)
    )
    nnp = draw(st.booleans())
    if draw(st.booleans()):
        linux["seccomp"] = SECCOMP
    permitted = draw(caps_list)
    process: dict[str, Any] = {
        "user": {"uid": uid, "gid": gid},
        "cwd": "/",
        "args": ["sh", "-c", "true"],
        "noNewPrivileges": nnp,
        "terminal": draw(st.booleans()),
        "capabilities": {
            "bounding": draw(caps_list),
            "permitted": permitted,
            "effective": [c for c in permitted if draw(st.booleans())],
            "inheritable": draw(caps_list),
            "ambient": draw(caps_list),
        },
        "rlimits": [
            {"type": t, "soft": 10, "hard": 20}
            for t in draw(
                st.lists(
                    st.sampled_from(["RLIMIT_NOFILE", "RLIMIT_CORE", "RLIMIT_NPROC"]), unique=True
                )
            )
        ],
    }
    if draw(st.booleans()):
        process["oomScoreAdj"] = draw(st.integers(-1000, 1000))
    if draw(st.booleans()):
        process["user"]["additionalGids"] = [5]
    doc: dict[str, Any] = {
        "ociVersion": "1.2.0",
        "process": process,
        "root": {"path": "rootfs", "readonly": draw(st.booleans())},
        "mounts": draw(st.lists(mount, max_size=4, unique_by=lambda m: m["destination"])),
        "linux": linux,
        "hooks": {k: draw(st.lists(hook, max_size=2)) for k in HOOK_KINDS if draw(st.booleans())},
    }
    if "uts" in namespaces and draw(st.booleans()):
        doc["hostname"] = "box"
    return doc


hosts = st.builds(
    HostInfo.preset, st.sampled_from(["v1", "v2", "hybrid"]), st.sampled_from(["x86_64", "aarch64"])
)


def plan_for(data: dict[str, Any], host: HostInfo) -> tuple[Any, Any]:
    doc = parse_text(json.dumps(data, indent=1), "config.json")
    return doc, lower(build_spec(doc), host, container_id="p", bundle="/b")


@SETTINGS
@given(configs(), hosts)
def test_every_op_has_phase_text_and_resolvable_source(
    data: dict[str, Any], host: HostInfo
) -> None:
    doc, plan = plan_for(data, host)
    assert plan.ops
    for op in plan.ops:
        assert isinstance(op, Op) and isinstance(op.phase, Phase)
        j = op.to_json()
        assert {"op", "phase", "source", "text"} <= j.keys()
        assert j["op"] == op.name and j["text"] and j["phase"] == op.phase.value
        if op.source is not None:
            doc.resolve(op.source)  # KeyError if the pointer is wrong
    json.dumps(plan.to_json())  # JSON-serialisable


@SETTINGS
@given(configs(), hosts)
def test_ordering_invariants(data: dict[str, Any], host: HostInfo) -> None:
    _, plan = plan_for(data, host)
    ops = plan.ops
    assert check_order(ops) == []
    names = [op.name for op in ops]
    orders = [op.phase.order for op in ops]
    assert orders == sorted(orders)
    pivot = names.index("pivot_root")
    for i, op in enumerate(ops):
        src = op.source or ""
        if src.startswith("/mounts/"):
            assert i < pivot, f"mount op {op.text()} after pivot_root"
        if src.startswith(("/linux/maskedPaths", "/linux/readonlyPaths")):
            assert i > pivot, f"masked/readonly op {op.text()} before pivot_root"
    start = names.index("start")
    exec_setuid = names.index("setresuid", start)
    assert names.index("capabilities", start) > exec_setuid
    execve = names.index("execve")
    if "seccomp_load" in names:
        sec = ops[names.index("seccomp_load")]
        if not sec.to_json()["early"]:
            assert names[execve - 1] == "seccomp_load"
        assert data["linux"]["seccomp"]
    assert all(op.phase is not Phase.EXEC for op in ops[execve + 1 :])
    for kind in HOOK_KINDS:
        idx = [
            op.to_json()["index"]
            for op in ops
            if op.name == "hook" and op.to_json()["kind"] == kind
        ]
        assert idx == list(range(len(data["hooks"].get(kind, []))))
    if "/proc/{init}/uid_map" in {getattr(op, "path", None) for op in ops}:
        idmap = next(i for i, op in enumerate(ops) if getattr(op, "path", "").endswith("uid_map"))
        userns = next(
            i
            for i, op in enumerate(ops)
            if op.name in ("clone", "unshare") and "CLONE_NEWUSER" in op.to_json()["flags"]
        )
        first_init = next(i for i, op in enumerate(ops) if op.phase is Phase.CREATE_INIT)
        assert names.index("clone") <= userns < idmap < first_init


@SETTINGS
@given(configs(), hosts)
def test_behaviour_fields_have_ops_pointing_at_them(data: dict[str, Any], host: HostInfo) -> None:
    _, plan = plan_for(data, host)
    sources = [op.source or "" for op in plan.ops]

    def covered(pointer: str) -> bool:
        return any(s == pointer or s.startswith(pointer + "/") for s in sources)

    expect = [f"/process/rlimits/{i}" for i in range(len(data["process"]["rlimits"]))]
    expect += [f"/hooks/{k}/{i}" for k, hs in data["hooks"].items() for i in range(len(hs))]
    expect += [f"/mounts/{i}" for i in range(len(data["mounts"]))]
    expect += [f"/linux/maskedPaths/{i}" for i in range(len(data["linux"]["maskedPaths"]))]
    expect += [f"/linux/readonlyPaths/{i}" for i in range(len(data["linux"]["readonlyPaths"]))]
    for key in ("hostname",):
        if key in data:
            expect.append(f"/{key}")
    if "oomScoreAdj" in data["process"]:
        expect.append("/process/oomScoreAdj")
    for key in data["linux"].get("sysctl", {}):
        expect.append(f"/linux/sysctl/{key}")
    for key in ("seccomp", "timeOffsets", "uidMappings", "gidMappings"):
        if key in data["linux"]:
            expect.append(f"/linux/{key}")
    expect += [
        "/process/capabilities",
        "/process/args",
        "/process/cwd",
        "/process/user/uid",
        "/process/user/gid",
    ]
    if data["process"]["noNewPrivileges"]:
        expect.append("/process/noNewPrivileges")
    if data["process"]["terminal"]:
        expect.append("/process/terminal")
    missing = [p for p in expect if not covered(p)]
    assert not missing, f"no op comes from {missing}"


@settings(max_examples=25, deadline=None)
@given(configs(), hosts)
def test_lowering_is_deterministic(data: dict[str, Any], host: HostInfo) -> None:
    _, a = plan_for(data, host)
    _, b = plan_for(data, host)
    assert a.to_json() == b.to_json()


@settings(max_examples=40, deadline=None)
@given(
    configs(),
    st.sampled_from(["CAP_BPF", "CAP_PERFMON", "CAP_CHECKPOINT_RESTORE"]),
    st.sampled_from(["bounding", "permitted", "ambient"]),
)
def test_caps_above_last_cap_always_refused(data: dict[str, Any], cap: str, which: str) -> None:
    data["process"]["capabilities"][which] = [cap]
    try:
        plan_for(data, HostInfo.parse_overrides("last_cap=37"))
    except LoweringError as err:
        assert err.code == "OCI341"
        assert err.pointer == f"/process/capabilities/{which}/0"
    else:
        raise AssertionError("a capability above the host's last cap was accepted")


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _full_example() -> dict[str, Any]:
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "full" / "config.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


FULL = _full_example()
FULL_PATHS = [p for p in _paths(FULL) if p]
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**65), 2**65),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FULL_PATHS), junk), min_size=1, max_size=3), hosts)
def test_unvalidated_garbage_gives_only_tool_errors(
    edits: list[tuple[tuple[Any, ...], Any]], host: HostInfo
) -> None:
    """The hot path skips the schema: build + lower must still fail only with our errors."""
    import contextlib
    import copy

    from ocitool.errors import OciToolError

    data = copy.deepcopy(FULL)
    for path, value in edits:
        node: Any = data
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    with contextlib.suppress(OciToolError):  # anything else fails the test
        plan_for(data, host)
