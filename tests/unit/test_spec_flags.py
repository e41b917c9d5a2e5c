"""``ocitool spec`` flag values: parsing (with errors naming the flag) and their effect."""

from __future__ import annotations

from typing import Any

import pytest

from ocitool.errors import UsageError
from ocitool.spec import customize as cz
from ocitool.spec.profiles import ProfileParams, default_spec, hardened_spec, rootless_spec


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512M", 512 * 1024**2),
        ("512m", 512 * 1024**2),
        ("1G", 1024**3),
        ("1.5g", 1536 * 1024**2),
        ("2048K", 2 * 1024**2),
        ("1048576", 1024**2),
        ("64MiB", 64 * 1024**2),
        ("1T", 1024**4),
    ],
)
def test_memory_sizes(text: str, expected: int) -> None:
    assert cz.parse_memory(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", (150000, 100000)),
        ("2", (200000, 100000)),
        ("0.01", (1000, 100000)),
        ("0.333", (33300, 100000)),
    ],  # fmt: skip
)
def test_cpus(text: str, expected: tuple[int, int]) -> None:
    assert cz.parse_cpus(text) == expected


def test_user_and_ids() -> None:
    assert cz.parse_user("1000") == (1000, None)
    assert cz.parse_user("1000:100") == (1000, 100)
    assert cz.parse_user("0:0") == (0, 0)


def test_args_are_shell_split() -> None:
    assert cz.parse_args("sh -c 'echo \"a b\"'") == ["sh", "-c", 'echo "a b"']


def test_bind_and_tmpfs() -> None:
    assert cz.parse_bind("/src:/dst:ro") == {
        "destination": "/dst",
        "type": "bind",
        "source": "/src",
        "options": ["rbind", "rprivate", "ro"],
    }
    assert cz.parse_bind("/src:/dst")["options"] == ["rbind", "rprivate", "rw"]
    assert cz.parse_tmpfs("/run") == {
        "destination": "/run",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "nodev", "noexec", "mode=1777", "size=65536k"],
    }
    assert cz.parse_tmpfs("/run:size=1m,mode=755")["options"] == ["size=1m", "mode=755"]
    opts = "size=50%,nr_inodes=4k,uid=0,gid=0,huge=never,noswap"
    assert cz.parse_tmpfs(f"/run:{opts}")["options"] == opts.split(",")


def test_cap_names() -> None:
    assert cz.parse_cap_names("--cap-add", "chown,CAP_KILL,Net_Raw") == [
        "CAP_CHOWN",
        "CAP_KILL",
        "CAP_NET_RAW",
    ]
    assert len(cz.parse_cap_names("--cap-drop", "ALL")) == 41


@pytest.mark.parametrize(
    ("fn", "value", "flag"),
    [
        (cz.parse_memory, "12X", "--memory"),
        (cz.parse_memory, "", "--memory"),
        (cz.parse_memory, "-5M", "--memory"),
        (cz.parse_memory, "10K", "--memory"),
        (cz.parse_cpus, "abc", "--cpus"),
        (cz.parse_cpus, "0", "--cpus"),
        (cz.parse_cpus, "-1", "--cpus"),
        (cz.parse_cpus, "nan", "--cpus"),
        (cz.parse_cpus, "inf", "--cpus"),
        (cz.parse_cpus, "0.001", "--cpus"),
        (cz.parse_pids_limit, "0", "--pids-limit"),
        (cz.parse_pids_limit, "ten", "--pids-limit"),
        (cz.parse_pids_limit, "-1", "--pids-limit"),
        (cz.parse_user, "root", "--user"),
        (cz.parse_user, "1000:", "--user"),
        (cz.parse_user, "1000:wheel", "--user"),
        (cz.parse_user, "4294967295", "--user"),
        (cz.parse_user, "-1", "--user"),
        (cz.parse_env, "NOEQUALS", "--env"),
        (cz.parse_env, "=value", "--env"),
        (cz.parse_cwd, "relative/dir", "--cwd"),
        (cz.parse_hostname, "bad_host!", "--hostname"),
        (cz.parse_hostname, "a" * 65, "--hostname"),
        (cz.parse_hostname, "-lead", "--hostname"),
        (cz.parse_args, "sh -c 'unterminated", "--args"),
        (cz.parse_args, "   ", "--args"),
        (cz.parse_bind, "/only", "--bind"),
        (cz.parse_bind, "/a:relative", "--bind"),
        (cz.parse_bind, "/a:/b:rx", "--bind"),
        (cz.parse_bind, "/a:/b:ro:extra", "--bind"),
        (cz.parse_bind, ":/b", "--bind"),
        (cz.parse_tmpfs, "relative", "--tmpfs"),
        (cz.parse_tmpfs, "/run:size=1m,,mode=1", "--tmpfs"),
        (cz.parse_tmpfs, "/run:size=abc", "--tmpfs"),
        (cz.parse_tmpfs, "/run:mode=0999", "--tmpfs"),
        (cz.parse_tmpfs, "/run:nr_inodes=10%", "--tmpfs"),
        (cz.parse_cpus, "1e308", "--cpus"),
        (cz.parse_memory, "99999999999T", "--memory"),
        (cz.parse_memory, "\u0661\u0662M", "--memory"),
        (cz.parse_pids_limit, "99999999999999999999", "--pids-limit"),
        (cz.parse_pids_limit, "1e5", "--pids-limit"),
        (cz.parse_user, "\u00b2", "--user"),
        (cz.parse_user, "\u0661\u0662", "--user"),
    ],
)
def test_bad_values_name_their_flag(fn: Any, value: str, flag: str) -> None:
    with pytest.raises(UsageError) as info:
        fn(value)
    assert info.value.code == "OCI050"
    assert info.value.message.startswith(f"{flag}: ")
    assert info.value.render().startswith("ocitool spec: error OCI050")


def test_bad_capability_names() -> None:
    with pytest.raises(UsageError, match="--cap-add: unknown capability 'CAP_NOPE'"):
        cz.parse_cap_names("--cap-add", "CAP_NOPE")
    with pytest.raises(UsageError, match="--cap-drop: unknown capability ''"):
        cz.parse_cap_names("--cap-drop", "chown,")


def apply(spec: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return cz.customize(spec, cz.SpecOptions(**kw))


def test_no_flags_changes_nothing() -> None:
    assert apply(default_spec()) == default_spec()


def test_process_flags() -> None:
    spec = apply(
        default_spec(),
        args=["/bin/true"],
        env=[("PATH", "/bin"), ("LANG", "C")],
        cwd="/work",
        user=(1000, None),
        hostname="box",
        terminal=False,
    )
    process = spec["process"]
    assert process["args"] == ["/bin/true"]
    assert process["env"] == ["PATH=/bin", "TERM=xterm", "LANG=C"]  # replaced in place
    assert process["cwd"] == "/work"
    assert process["user"] == {"uid": 1000, "gid": 0}
    assert process["terminal"] is False
    assert spec["hostname"] == "box"


def test_cap_add_follows_the_profile_shape() -> None:
    caps = apply(default_spec(), cap_add=["CAP_CHOWN"])["process"]["capabilities"]
    # runc's default lists ambient, so an added capability goes there too; no inheritable
    assert caps == {
        name: ["CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        for name in ("bounding", "effective", "permitted", "ambient")
    }
    hardened = apply(hardened_spec(ProfileParams()), cap_add=["CAP_NET_BIND_SERVICE"])
    caps = hardened["process"]["capabilities"]
    assert caps["bounding"] == caps["effective"] == caps["permitted"] == ["CAP_NET_BIND_SERVICE"]
    assert caps["inheritable"] == caps["ambient"] == []


def test_cap_drop_then_add() -> None:
    all_caps = cz.parse_cap_names("--cap-drop", "all")
    caps = apply(default_spec(), cap_drop=all_caps, cap_add=["CAP_CHOWN"])["process"][
        "capabilities"
    ]
    assert caps["bounding"] == caps["effective"] == caps["permitted"] == ["CAP_CHOWN"]
    assert caps["ambient"] == []  # emptied by the drop, so not refilled
    caps = apply(default_spec(), cap_drop=["CAP_KILL"])["process"]["capabilities"]
    assert all("CAP_KILL" not in v for v in caps.values())


def test_caps_text_replaces_the_sets() -> None:
    from ocitool.captext import parse_captext

    sets = parse_captext("cap_chown,cap_kill=ep cap_net_raw+i").to_oci()
    caps = apply(default_spec(), caps=sets, cap_drop=["CAP_KILL"])["process"]["capabilities"]
    assert caps == {
        "bounding": ["CAP_CHOWN", "CAP_NET_RAW"],
        "effective": ["CAP_CHOWN"],
        "inheritable": ["CAP_NET_RAW"],
        "permitted": ["CAP_CHOWN"],
        "ambient": [],
    }


def test_resources() -> None:
    spec = apply(rootless_spec(0, 0), memory=512 * 1024**2, cpus=(150000, 100000), pids_limit=64)
    assert spec["linux"]["resources"] == {
        "memory": {"limit": 512 * 1024**2},
        "cpu": {"quota": 150000, "period": 100000},
        "pids": {"limit": 64},
    }
    spec = apply(default_spec(), pids_limit=5)
    assert spec["linux"]["resources"]["devices"] == [{"allow": False, "access": "rwm"}]
    assert list(spec["linux"]["resources"]) == ["devices", "pids"]


def test_mounts_add_and_replace() -> None:
    spec = apply(
        default_spec(),
        mounts=[cz.parse_bind("/data:/data:ro"), cz.parse_tmpfs("/dev/shm:size=1g")],
    )
    by_dest = {m["destination"]: m for m in spec["mounts"]}
    assert by_dest["/data"]["options"] == ["rbind", "rprivate", "ro"]
    assert by_dest["/dev/shm"]["options"] == ["size=1g"]
    assert [m["destination"] for m in spec["mounts"]].count("/dev/shm") == 1


def test_net() -> None:
    spec = apply(default_spec(), net="host")
    assert "network" not in [ns["type"] for ns in spec["linux"]["namespaces"]]
    assert next(m for m in spec["mounts"] if m["destination"] == "/sys")["type"] == "sysfs"
    spec = apply(rootless_spec(0, 0), net="none")
    assert "network" in [ns["type"] for ns in spec["linux"]["namespaces"]]
    # a user namespace without its own netns cannot mount sysfs: /sys becomes a bind
    spec = apply(hardened_spec(ProfileParams(userns=True)), net="host")
    assert next(m for m in spec["mounts"] if m["destination"] == "/sys")["type"] == "none"
    with pytest.raises(UsageError, match="--net"):
        apply(default_spec(), net="bridge")


def test_readonly_and_seccomp() -> None:
    spec = apply(default_spec(), readonly=False)
    assert spec["root"] == {"path": "rootfs", "readonly": False}
    oci = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}
    spec = apply(default_spec(), seccomp=cz.Seccomp("oci", oci))
    assert spec["linux"]["seccomp"] == oci
    assert list(spec["linux"])[-3:] == ["seccomp", "maskedPaths", "readonlyPaths"]
    spec = apply(spec, seccomp=cz.Seccomp("unconfined"))
    assert "seccomp" not in spec["linux"]


def test_docker_seccomp_resolved_with_the_final_caps() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_PTRACE"]}},
        ],
    }  # fmt: skip
    without = apply(default_spec(), seccomp=cz.Seccomp("docker", profile))["linux"]["seccomp"]
    assert [r["names"] for r in without["syscalls"]] == [["read"]]
    assert without["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    with_ptrace = apply(
        default_spec(), cap_add=["CAP_SYS_PTRACE"], seccomp=cz.Seccomp("docker", profile)
    )["linux"]["seccomp"]
    assert [r["names"] for r in with_ptrace["syscalls"]] == [["read"], ["ptrace"]]
