"""The plan cache (ocitool/plan/cache.py): the plan's own JSON in, the same op objects out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import ocitool
from ocitool.host import HostInfo
from ocitool.plan import cache
from ocitool.plan.ops.base import Phase
from ocitool.plan.ops.cgroup import CgroupMkdir
from ocitool.plan.ops.process import Execve
from ocitool.records import replace
from tests.helpers_exec.bundle import make_bundle
from tests.unit.test_golden_plans import CONFIGS, MODES, SYSTEMD_CASES, lower_case

HOST = HostInfo.preset("v2")
CASES = [(n, m, "x86_64") for n in CONFIGS for m in MODES] + SYSTEMD_CASES


@pytest.mark.parametrize(("name", "mode", "arch"), CASES)
def test_every_golden_op_round_trips_through_its_json(name: str, mode: str, arch: str) -> None:
    ops = list(lower_case(name, mode, arch).ops)
    back = [cache.op_from_json(op.to_json()) for op in ops]  # type: ignore[attr-defined]
    assert back == ops
    assert [type(b) for b in back] == [type(o) for o in ops]
    assert [b.text() for b in back] == [o.text() for o in ops]  # type: ignore[attr-defined]


def sample_ops(cid: str) -> list[object]:
    return [
        CgroupMkdir(
            phase=Phase.CREATE_RUNTIME, path=f"/sys/fs/cgroup/pids/ocitool/{cid}", source="/x"
        ),
        Execve(phase=Phase.EXEC, path="true", argv=("true",), env=("A=b",), source="/process"),
    ]


def key_for(cid: str, **change: object) -> cache.Key:
    args: dict[str, object] = {
        "config": b"{}",
        "bundle": "/bundle",
        "host": HOST,
        "options": ("cgroupfs",),
    }
    args.update(change)
    return cache.make_key(
        (args["config"],),  # type: ignore[arg-type]
        str(args["bundle"]),
        args["host"],  # type: ignore[arg-type]
        args["options"],  # type: ignore[arg-type]
        (cid,),
    )


def test_a_hit_rebuilds_real_ops_with_the_new_id(tmp_path: Path) -> None:
    root = str(tmp_path)
    assert cache.store(root, key_for("first"), sample_ops("first"), {"rootfs": "/r/first"})
    hit = cache.load(root, key_for("second"))
    assert hit is not None
    ops, meta = hit
    assert ops == sample_ops("second")
    assert isinstance(ops[0], CgroupMkdir) and ops[0].phase is Phase.CREATE_RUNTIME
    assert ops[0].text() == 'mkdir("/sys/fs/cgroup/pids/ocitool/second", 0755)'
    assert meta == {"rootfs": "/r/second"}


@pytest.mark.parametrize(
    "change",
    [
        {"config": b"{ }"},
        {"bundle": "/other"},
        {"host": replace(HOST, kernel=(6, 2, 0))},
        {"host": HostInfo.preset("v1")},
        {"options": ("systemd",)},
    ],
    ids=["config", "bundle", "kernel", "cgroup-mode", "driver"],
)
def test_each_key_component_misses(tmp_path: Path, change: dict[str, object]) -> None:
    root = str(tmp_path)
    cache.store(root, key_for("c"), sample_ops("c"), {})
    assert cache.load(root, key_for("c")) is not None
    assert cache.load(root, key_for("c", **change)) is None


def test_other_code_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = str(tmp_path)
    cache.store(root, key_for("c"), sample_ops("c"), {})
    monkeypatch.setattr(cache, "code_version", lambda: b"another ocitool")
    assert cache.load(root, key_for("c")) is None


def test_the_code_version_follows_the_lowering_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "ocitool"
    (tree / "lower").mkdir(parents=True)
    (tree / "__init__.py").write_text("")
    module = tree / "lower" / "x.py"
    module.write_text("")
    monkeypatch.setattr(ocitool, "__file__", str(tree / "__init__.py"))
    before = cache.code_version()
    os.utime(module, ns=(1, 1))
    assert cache.code_version() != before


@pytest.mark.parametrize(
    "damage",
    [b"", b"not marshal", None],
    ids=["empty", "garbage", "truncated"],
)
def test_a_corrupt_entry_is_a_miss(tmp_path: Path, damage: bytes | None) -> None:
    root = str(tmp_path)
    key = key_for("c")
    cache.store(root, key, sample_ops("c"), {})
    path = Path(cache.entry_path(root, key))
    path.write_bytes(path.read_bytes()[:40] if damage is None else damage)
    assert cache.load(root, key) is None


def test_an_entry_naming_an_unknown_op_is_a_miss(tmp_path: Path) -> None:
    root = str(tmp_path)
    key = key_for("c")
    rows, meta = cache.stored_form(sample_ops("c"), {}, key.tokens)  # type: ignore[arg-type]
    rows[0][1]["op"] = "no_such_op"  # type: ignore[index, call-overload]
    cache.write_rows(root, key, rows, meta)
    assert cache.load(root, key) is None


def test_entries_are_bounded(tmp_path: Path) -> None:
    root = str(tmp_path)
    for i in range(cache.MAX_ENTRIES + 5):
        cache.store(root, replace(key_for("c"), name=f"k{i}"), sample_ops("c"), {})
    assert len(os.listdir(tmp_path / ".plans")) <= cache.MAX_ENTRIES


def test_two_installs_sharing_a_state_root_do_not_thrash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench_exec alternates an installed copy and the checkout on one state root: with
    one entry per bundle each evicted the other's and both lowered from scratch."""
    root = str(tmp_path)
    installs = {
        "site": "/usr/lib/python3/site-packages/ocitool/__init__.py",
        "checkout": "/src/ocitool/ocitool/__init__.py",
    }

    def use(name: str) -> cache.Key:
        monkeypatch.setattr(ocitool, "__file__", installs[name])
        monkeypatch.setattr(cache, "code_version", lambda: name.encode())  # their code differs
        return key_for("c")

    for name in installs:
        cache.store(root, use(name), sample_ops("c"), {"install": name})
    for _ in range(3):  # alternating, as the bench runs them
        for name in installs:
            hit = cache.load(root, use(name))
            assert hit is not None and hit[1] == {"install": name}
    assert len(os.listdir(tmp_path / ".plans")) == 2


@pytest.mark.skipif(os.geteuid() != 0, reason="the cache is used by root only")
def test_exec_lowers_again_over_a_corrupt_entry(tmp_path: Path) -> None:
    from ocitool.cli import exec as cli_exec

    bundle = str(make_bundle(tmp_path / "bundle", ["/bin/true"]))
    root = str(tmp_path / "state")
    first, meta = cli_exec._plan_ops(bundle, "web", root, validate=False)
    entries = list((tmp_path / "state" / ".plans").iterdir())
    assert len(entries) == 1
    again, meta_again = cli_exec._plan_ops(bundle, "web", root, validate=False)
    assert list(again) == list(first) and meta_again == meta
    entries[0].write_bytes(b"\x00broken")
    third, _ = cli_exec._plan_ops(bundle, "db", root, validate=False)
    assert list(third) == list(cli_exec._lower(bundle, "db", False)[1].ops)
    key = cache.request_key(
        (Path(bundle) / "config.json").read_bytes(), bundle, "q9", ("cgroupfs",)
    )
    assert key is not None and cache.load(root, key) is not None  # rewritten by the lowering
