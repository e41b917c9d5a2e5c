"""Mount lowering: the full rootfs sequence, per-entry calls, devices, pivot_root, hardening."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocitool import records
from ocitool.errors import LoweringError
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.lower.mounts import lower_mounts
from ocitool.plan.ops.base import Op, Phase
from ocitool.spec.build import build_spec
from ocitool.spec.load import parse_text

V2 = HostInfo.preset("v2")
V1 = HostInfo.preset("v1")

RUNC_MOUNTS: list[dict[str, Any]] = [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {
        "destination": "/dev",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
        "destination": "/dev/pts",
        "type": "devpts",
        "source": "devpts",
        "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
]


def config(
    mounts: list[dict[str, Any]] | None = None,
    namespaces: tuple[str, ...] = ("mount", "pid", "ipc"),
    **linux: Any,
) -> dict[str, Any]:
    return {
        "ociVersion": "1.2.0",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "mounts": RUNC_MOUNTS if mounts is None else mounts,
        "linux": {"namespaces": [{"type": n} for n in namespaces], **linux},
    }


def lower(cfg: dict[str, Any], host: HostInfo = V2) -> tuple[list[Op], LowerContext]:
    spec = build_spec(parse_text(json.dumps(cfg)))
    ctx = LowerContext(spec=spec, host=host, container_id="web", bundle="/b")
    return lower_mounts(spec, host, ctx), ctx


def texts(ops: list[Op]) -> list[str]:
    return [op.text() for op in ops]


def find(ops: list[Op], name: str, **fields: Any) -> list[Op]:
    return [
        op for op in ops if op.name == name and all(getattr(op, k) == v for k, v in fields.items())
    ]


def test_sequence_starts_with_propagation_and_rootfs_bind() -> None:
    ops, _ = lower(config())
    assert ops[0].text() == 'mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL)'
    assert ops[0].source is None
    assert ops[1].text() == 'mount("/b/rootfs", "/b/rootfs", NULL, MS_BIND|MS_REC, NULL)'
    assert ops[1].name == "bind_mount"


@pytest.mark.parametrize(
    ("mode", "text"),
    [
        ("rslave", "MS_REC|MS_SLAVE"),
        ("shared", "MS_SHARED"),
        ("rshared", "MS_REC|MS_SHARED"),
        ("private", "MS_PRIVATE"),
        # an unbindable "/" would refuse the rootfs bind (EINVAL): private until the pivot
        ("runbindable", "MS_REC|MS_PRIVATE"),
        ("unbindable", "MS_REC|MS_PRIVATE"),
    ],
)
def test_rootfs_propagation(mode: str, text: str) -> None:
    ops, _ = lower(config(rootfsPropagation=mode))
    assert ops[0].text() == f'mount(NULL, "/", NULL, {text}, NULL)'
    assert ops[0].source == "/linux/rootfsPropagation"


def test_shared_rootfs_propagation_privatizes_the_parent_mount() -> None:
    ops, _ = lower(config(rootfsPropagation="rshared"))
    assert ops[1].name == "privatize_parent_mount"
    assert ops[1].path == "/b/rootfs"  # type: ignore[attr-defined]
    ops, _ = lower(config(rootfsPropagation="private"))
    assert ops[1].name == "privatize_parent_mount", "non-recursive leaves the parent as it was"
    for mode in ("rslave", "rprivate", "runbindable"):
        ops, _ = lower(config(rootfsPropagation=mode))
        assert not find(ops, "privatize_parent_mount")


def test_bad_rootfs_propagation() -> None:
    with pytest.raises(LoweringError) as err:
        lower(config(rootfsPropagation="sideways"))
    assert err.value.pointer == "/linux/rootfsPropagation"


def test_each_mount_in_order_with_mkdir_and_split_options() -> None:
    ops, _ = lower(config())
    mounts = [op for op in ops if op.name == "mount" and op.phase is Phase.CREATE_INIT]
    assert [op.target for op in mounts] == ["/proc", "/dev", "/dev/pts"]  # type: ignore[attr-defined]
    dev = find(ops, "mount", target="/dev")[0]
    assert dev.flags == ("MS_NOSUID", "MS_STRICTATIME")  # type: ignore[attr-defined]
    assert dev.data == "mode=755,size=65536k"  # type: ignore[attr-defined]
    assert dev.fstype == "tmpfs"  # type: ignore[attr-defined]
    assert dev.root == "/b/rootfs"  # type: ignore[attr-defined]
    assert dev.source == "/mounts/1"
    i = ops.index(dev)
    assert ops[i - 1].name == "mkdir" and ops[i - 1].path == "/dev"  # type: ignore[attr-defined]
    js = dev.to_json()
    assert (
        js["src"] == "tmpfs"
        and js["target"] == "/dev"
        and js["flags"]
        == [
            "MS_NOSUID",
            "MS_STRICTATIME",
        ]
    )


def test_runc_default_dev_tmpfs_still_gets_devices_and_symlinks() -> None:
    ops, _ = lower(config())
    nodes = [op.path for op in ops if op.name == "mknod"]  # type: ignore[attr-defined]
    assert nodes == [
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
        "/dev/tty",
    ]
    assert find(ops, "mknod", path="/dev/null")[0].text() == (
        'mknod("/dev/null", S_IFCHR|0666, makedev(1, 3))'
    )
    links = {op.path: op.target for op in ops if op.name == "symlink"}  # type: ignore[attr-defined]
    assert links == {
        "/dev/fd": "/proc/self/fd",
        "/dev/stdin": "/proc/self/fd/0",
        "/dev/stdout": "/proc/self/fd/1",
        "/dev/stderr": "/proc/self/fd/2",
        "/dev/core": "/proc/kcore",  # the preset host has /proc/kcore
        "/dev/ptmx": "pts/ptmx",
    }
    last_mount = max(i for i, op in enumerate(ops) if op.name == "mount")
    first_node = min(i for i, op in enumerate(ops) if op.name == "mknod")
    assert first_node > last_mount, "devices are made in the mounted /dev"
    assert not [op for op in ops if op.source is None and op.name == "mount" and "dev" in op.text()]


def test_default_dev_when_config_mounts_none() -> None:
    ops, _ = lower(config(mounts=[{"destination": "/proc", "type": "proc", "source": "proc"}]))
    dev_mounts = [
        (op.target, op.fstype)  # type: ignore[attr-defined]
        for op in ops
        if op.name == "mount" and op.target.startswith("/dev")  # type: ignore[attr-defined]
    ]
    assert dev_mounts == [
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
    ]
    devpts = find(ops, "mount", target="/dev/pts")[0]
    assert "gid=5" in devpts.data  # type: ignore[attr-defined]
    proc = find(ops, "mount", target="/proc")[0]
    assert ops.index(proc) > ops.index(find(ops, "mount", target="/dev/mqueue")[0])
    assert find(ops, "mknod", path="/dev/null")


def test_default_dev_in_user_namespace_binds_nodes_and_skips_gid5() -> None:
    cfg = config(
        mounts=[],
        namespaces=("mount", "user", "ipc"),
        uidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}],
        gidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}],
    )
    ops, _ = lower(cfg)
    assert "gid=5" not in find(ops, "mount", target="/dev/pts")[0].data  # type: ignore[attr-defined]
    assert not find(ops, "mknod")
    null = find(ops, "bind_mount", target="/dev/null")[0]
    assert null.src == "/dev/null"  # type: ignore[attr-defined]
    before = ops[ops.index(null) - 1]
    assert before.name == "mkdir" and before.kind == "file"  # type: ignore[attr-defined]


def test_no_default_mqueue_without_ipc_namespace() -> None:
    ops, ctx = lower(config(mounts=[], namespaces=("mount",)))
    assert not find(ops, "mount", target="/dev/mqueue")
    assert any("mqueue" in d.message for d in ctx.diagnostics)


def test_bind_dev_means_no_device_setup() -> None:
    mounts = [{"destination": "/dev", "type": "bind", "source": "/dev", "options": ["rbind"]}]
    ops, _ = lower(config(mounts=mounts))
    assert not find(ops, "mknod") and not find(ops, "symlink")
    devices = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229},
        {"path": "/opt/fifo", "type": "p"},
    ]
    ops, _ = lower(config(mounts=mounts, devices=devices))
    assert [op.path for op in find(ops, "mknod")] == ["/opt/fifo"]  # type: ignore[attr-defined]


def test_bind_mount_with_remount_and_propagation() -> None:
    mounts = [
        {
            "destination": "/data",
            "type": "bind",
            "source": "data",
            "options": ["rbind", "ro", "nosuid", "rshared"],
        }
    ]
    ops, _ = lower(config(mounts=mounts))
    i = ops.index(find(ops, "bind_mount", target="/data")[0])
    seq = ops[i - 1 : i + 3]
    assert [op.name for op in seq] == ["mkdir", "bind_mount", "remount", "make_propagation"]
    assert seq[0].kind == "like_source" and seq[0].like == "/b/data"  # type: ignore[attr-defined]
    assert seq[1].text() == 'mount("/b/data", "/data", NULL, MS_BIND|MS_REC, NULL)'
    assert seq[2].flags == ("MS_RDONLY", "MS_NOSUID", "MS_REMOUNT", "MS_BIND")  # type: ignore[attr-defined]
    assert seq[2].source == "/mounts/0/options"
    assert seq[3].text() == 'mount(NULL, "/data", NULL, MS_REC|MS_SHARED, NULL)'


def test_plain_bind_needs_no_remount_and_bind_option_means_bind() -> None:
    mounts = [{"destination": "/etc/hosts", "source": "/etc/hosts", "options": ["bind"]}]
    ops, _ = lower(config(mounts=mounts))
    bind = find(ops, "bind_mount", target="/etc/hosts")[0]
    assert bind.flags == ("MS_BIND",)  # type: ignore[attr-defined]
    assert not find(ops, "remount", target="/etc/hosts")


def test_recursive_attributes_become_mount_setattr() -> None:
    mounts = [{"destination": "/m", "type": "bind", "source": "/m", "options": ["rbind", "rro"]}]
    ops, _ = lower(config(mounts=mounts))
    attr = find(ops, "mount_setattr", target="/m")[0]
    assert attr.attr_set == ("MOUNT_ATTR_RDONLY",)  # type: ignore[attr-defined]
    assert "AT_RECURSIVE" in attr.text()


def test_idmap_uses_container_mappings() -> None:
    cfg = config(
        mounts=[
            {"destination": "/m", "type": "bind", "source": "/m", "options": ["rbind", "idmap"]}
        ],
        namespaces=("mount", "user"),
        uidMappings=[{"containerID": 0, "hostID": 100000, "size": 65536}],
        gidMappings=[{"containerID": 0, "hostID": 100000, "size": 65536}],
    )
    ops, _ = lower(cfg)
    op = find(ops, "bind_mount_idmapped", target="/m")[0]
    assert op.uid_mappings == ((0, 100000, 65536),)  # type: ignore[attr-defined]
    assert op.recursive  # type: ignore[attr-defined]
    # in a user namespace the runtime makes the tree (before the clone), the init moves it
    tree = find(ops, "idmap_tree")[0]
    assert tree.phase is Phase.CREATE_RUNTIME and "open_tree" in tree.text()
    assert tree.tree == op.tree == "/mounts/0"  # type: ignore[attr-defined]
    assert op.text() == 'move_mount(tree["/mounts/0"], "", AT_FDCWD, "/m", MOVE_MOUNT_F_EMPTY_PATH)'


def test_idmap_on_non_bind_is_an_error() -> None:
    with pytest.raises(LoweringError) as err:
        lower(config(mounts=[{"destination": "/t", "type": "tmpfs", "options": ["idmap"]}]))
    assert err.value.pointer == "/mounts/0/options"


def test_tmpcopyup() -> None:
    ops, _ = lower(
        config(mounts=[{"destination": "/etc", "type": "tmpfs", "options": ["tmpcopyup"]}])
    )
    op = find(ops, "mount_copyup", target="/etc")[0]
    assert op.data is None  # type: ignore[attr-defined]
    assert "copy" in op.text()


def test_relative_destination_is_warned_and_anchored() -> None:
    ops, ctx = lower(config(mounts=[{"destination": "tmp", "type": "tmpfs", "source": "tmpfs"}]))
    assert find(ops, "mount", target="/tmp")
    assert any(d.pointer == "/mounts/0/destination" for d in ctx.diagnostics)


def test_mount_without_type_is_an_error() -> None:
    with pytest.raises(LoweringError) as err:
        lower(config(mounts=[{"destination": "/x", "source": "/y"}]))
    assert err.value.pointer == "/mounts/0"


def test_linux_devices_mknod_chown_and_override() -> None:
    devices = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o600, "uid": 7},
        {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200},
        {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o644},
        {"path": "/dev/myfifo", "type": "p"},
    ]
    ops, _ = lower(config(devices=devices))
    nulls = find(ops, "mknod", path="/dev/null")
    assert len(nulls) == 1 and nulls[0].mode == 0o644 and nulls[0].source == "/linux/devices/2"  # type: ignore[attr-defined]
    fuse = find(ops, "mknod", path="/dev/fuse")[0]
    assert fuse.text() == 'mknod("/dev/fuse", S_IFCHR|0600, makedev(10, 229))'
    assert find(ops, "chown", path="/dev/fuse")[0].uid == 7  # type: ignore[attr-defined]
    net = find(ops, "mkdir", path="/dev/net")
    assert net and ops.index(net[0]) < ops.index(find(ops, "mknod", path="/dev/net/tun")[0])
    assert (
        find(ops, "mknod", path="/dev/myfifo")[0].text().startswith('mknod("/dev/myfifo", S_IFIFO')
    )


def test_devices_naming_paths_ocitool_makes_itself_follow_runc() -> None:
    """podman --privileged passes /dev/ptmx: no node (it would shadow the devpts
    instance), the pts/ptmx symlink replaces whatever is there and names the entry;
    a node at /dev/stdin stays and the /proc/self/fd/0 link is left out (runc)."""
    devices = [
        {"path": "/dev/ptmx", "type": "c", "major": 5, "minor": 2},
        {"path": "/dev/stdin", "type": "c", "major": 1, "minor": 3},
    ]
    ops, _ = lower(config(devices=devices))
    assert not find(ops, "mknod", path="/dev/ptmx")
    ptmx = find(ops, "symlink", path="/dev/ptmx")
    assert len(ptmx) == 1 and ptmx[0].source == "/linux/devices/0"
    assert ptmx[0].text() == 'unlink("/dev/ptmx"); symlink("pts/ptmx", "/dev/ptmx")'
    assert find(ops, "mknod", path="/dev/stdin")
    assert not find(ops, "symlink", path="/dev/stdin")
    assert find(ops, "symlink", path="/dev/stdout")


def test_pivot_root_sequence() -> None:
    ops, _ = lower(config())
    pivot = [op for op in ops if op.phase is Phase.CREATE_PIVOT]
    assert texts(pivot[:5]) == [
        'chdir("/b/rootfs")',
        'pivot_root(".", ".")',
        'mount(NULL, ".", NULL, MS_REC|MS_SLAVE, NULL)',
        'umount2(".", MNT_DETACH)',
        'chdir("/")',
    ]
    assert all(op.phase is Phase.CREATE_INIT for op in ops[: ops.index(pivot[0])])


def test_readonly_then_masked_then_root_readonly_last() -> None:
    cfg = config(readonlyPaths=["/proc/sys"], maskedPaths=["/proc/kcore", "/sys/firmware"])
    cfg["root"]["readonly"] = True
    ops, _ = lower(cfg)
    tail = ops[-4:]
    assert [op.name for op in tail] == ["readonly_path", "mask_path", "mask_path", "remount"]
    assert [op.source for op in tail] == [
        "/linux/readonlyPaths/0",
        "/linux/maskedPaths/0",
        "/linux/maskedPaths/1",
        "/root/readonly",
    ]
    assert tail[-1].text().startswith('mount(NULL, "/", NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL)')
    mask = tail[1].text()
    assert '"/dev/null"' in mask and '"tmpfs"' in mask, "the mask op states both branches"
    assert all(op.phase is Phase.CREATE_PIVOT for op in tail)


def test_cgroup_mount_v2_is_cgroup2() -> None:
    mounts = [
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
        }
    ]
    ops, _ = lower(config(mounts=mounts))
    cg = find(ops, "mount", target="/sys/fs/cgroup")[0]
    assert cg.fstype == "cgroup2"  # type: ignore[attr-defined]
    assert "MS_RDONLY" in cg.flags  # type: ignore[attr-defined]


def test_cgroup_mount_v1_binds_own_cgroup_without_cgroupns() -> None:
    mounts = [
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]}
    ]
    ops, _ = lower(config(mounts=mounts), V1)
    assert find(ops, "mount", target="/sys/fs/cgroup")[0].fstype == "tmpfs"  # type: ignore[attr-defined]
    mem = find(ops, "bind_mount", target="/sys/fs/cgroup/memory")[0]
    assert mem.src == "/sys/fs/cgroup/memory/ocitool/web"  # type: ignore[attr-defined]
    assert find(ops, "remount", target="/sys/fs/cgroup/memory")
    assert find(ops, "symlink", path="/sys/fs/cgroup/cpu")[0].target == "cpu,cpuacct"  # type: ignore[attr-defined]
    last = [op for op in ops if op.source and op.source.startswith("/mounts/0")][-1]
    assert last.name == "remount" and last.target == "/sys/fs/cgroup"  # type: ignore[attr-defined]


def test_cgroup_mount_v1_with_cgroupns_mounts_each_hierarchy() -> None:
    mounts = [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}]
    ops, _ = lower(config(mounts=mounts, namespaces=("mount", "cgroup")), V1)
    mem = find(ops, "mount", target="/sys/fs/cgroup/memory")[0]
    assert (mem.fstype, mem.data) == ("cgroup", "memory")  # type: ignore[attr-defined]


def test_without_mount_namespace() -> None:
    with pytest.raises(LoweringError) as err:
        lower(config(namespaces=("pid",)))
    assert err.value.pointer == "/mounts"
    ops, ctx = lower(config(mounts=[], namespaces=("pid",)))
    assert [op.name for op in ops] == ["chroot", "chdir"]
    assert ctx.diagnostics


def test_fstab_only_options_are_reported() -> None:
    mounts = [
        {"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["noauto", "size=1m"]}
    ]
    ops, ctx = lower(config(mounts=mounts))
    assert find(ops, "mount", target="/t")[0].data == "size=1m"  # type: ignore[attr-defined]
    assert any(d.pointer == "/mounts/0/options" and "noauto" in d.message for d in ctx.diagnostics)


def test_readonly_dev_is_remounted_after_devices() -> None:
    mounts = [{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["ro"]}]
    ops, _ = lower(config(mounts=mounts))
    dev = find(ops, "mount", target="/dev")[0]
    assert "MS_RDONLY" not in dev.flags  # type: ignore[attr-defined]
    remount = find(ops, "remount", target="/dev")[0]
    assert ops.index(remount) > max(
        i for i, op in enumerate(ops) if op.name in ("mknod", "symlink")
    )


def test_all_ops_serialise() -> None:
    ops, _ = lower(config(readonlyPaths=["/proc/sys"], maskedPaths=["/proc/kcore"]), V1)
    for op in ops:
        data = op.to_json()
        json.dumps(data)
        assert data["op"] == op.name and data["text"] == op.text()


def test_user_namespace_fallbacks_for_sysfs_and_cgroup2() -> None:
    cfg = config(
        mounts=[
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]},
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["ro"],
            },
        ],
        namespaces=("mount", "user"),
        uidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}],
        gidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}],
    )
    ops, ctx = lower(cfg)
    sys_bind = find(ops, "bind_mount", target="/sys")[0]
    assert sys_bind.src == "/sys" and sys_bind.flags == ("MS_BIND", "MS_REC")  # type: ignore[attr-defined]
    assert "MS_RDONLY" in find(ops, "remount", target="/sys")[0].flags  # type: ignore[attr-defined]
    cg = find(ops, "bind_mount", target="/sys/fs/cgroup")[0]
    assert cg.src == "/sys/fs/cgroup/ocitool/web"  # type: ignore[attr-defined]
    assert "MS_RDONLY" in find(ops, "remount", target="/sys/fs/cgroup")[0].flags  # type: ignore[attr-defined]
    assert [d.code for d in ctx.diagnostics].count("OCI357") == 2
    # with their own namespaces they are real mounts again
    cfg["linux"]["namespaces"] += [{"type": "network"}, {"type": "cgroup"}]
    ops, _ = lower(cfg)
    assert find(ops, "mount", target="/sys")[0].fstype == "sysfs"  # type: ignore[attr-defined]
    assert find(ops, "mount", target="/sys/fs/cgroup")[0].fstype == "cgroup2"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("mount", "ok"),
    [
        ({"destination": "/proc", "type": "proc", "source": "proc"}, True),
        ({"destination": "/proc", "type": "tmpfs", "source": "tmpfs"}, False),
        ({"destination": "/proc", "type": "bind", "source": "/proc", "options": ["rbind"]}, False),
        (
            {
                "destination": "/proc/meminfo",
                "type": "bind",
                "source": "/var/lib/lxcfs/proc/meminfo",
            },
            True,
        ),
        ({"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"}, False),
        ({"destination": "/proc/self/../sys", "type": "tmpfs", "source": "tmpfs"}, False),
        ({"destination": "/procfoo", "type": "tmpfs", "source": "tmpfs"}, True),
    ],
)
def test_proc_destinations(mount: dict[str, Any], ok: bool) -> None:
    if ok:
        lower(config(mounts=[mount]))
    else:
        with pytest.raises(LoweringError) as err:
            lower(config(mounts=[mount]))
        assert err.value.code == "OCI316"
        assert err.value.pointer == "/mounts/0/destination"


def test_remount_option_changes_an_earlier_mount() -> None:
    mounts = [
        {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
        {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["remount", "ro"]},
    ]
    ops, _ = lower(config(mounts=mounts))
    run = [op for op in ops if getattr(op, "target", None) == "/run"]
    assert [op.name for op in run] == ["mount", "remount"]
    assert run[1].flags == ("MS_RDONLY", "MS_REMOUNT")  # type: ignore[attr-defined]
    assert len(find(ops, "mkdir", path="/run")) == 1


def test_named_systemd_hierarchy_is_mounted_by_name() -> None:
    from types import MappingProxyType

    host = records.replace(
        V1,
        cgroup_mounts=MappingProxyType(
            {**V1.cgroup_mounts, "name=systemd": "/sys/fs/cgroup/systemd"}
        ),
    )
    mounts = [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}]
    ops, _ = lower(config(mounts=mounts, namespaces=("mount", "cgroup")), host)
    sd = find(ops, "mount", target="/sys/fs/cgroup/systemd")[0]
    assert (sd.fstype, sd.data) == ("cgroup", "none,name=systemd")  # type: ignore[attr-defined]
    assert not find(ops, "symlink", path="/sys/fs/cgroup/name=systemd")
    ops, _ = lower(config(mounts=mounts), host)  # no cgroupns: the container's own directory
    bind = find(ops, "bind_mount", target="/sys/fs/cgroup/systemd")[0]
    assert bind.src == "/sys/fs/cgroup/systemd/ocitool/web"  # type: ignore[attr-defined]


def test_dev_core_only_where_the_host_has_proc_kcore() -> None:

    ops, _ = lower(config(), V1)
    core = find(ops, "symlink", path="/dev/core")
    assert [op.target for op in core] == ["/proc/kcore"]  # type: ignore[attr-defined]
    ops, _ = lower(config(), records.replace(V1, kcore=False))
    assert not find(ops, "symlink", path="/dev/core")
