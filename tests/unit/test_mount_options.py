"""The mount option table: every word lands in the right bucket with the right bits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool.lower.mount_options import (
    FLAG_OPTIONS,
    MS_FLAGS,
    PROPAGATION_OPTIONS,
    RECURSIVE_OPTIONS,
    bind_remount_flags,
    flag_names,
    flag_value,
    parse_mount_options,
)

# (option, flags set, flags cleared) -- values from mount(8) / include/uapi/linux/mount.h
FLAG_TABLE = [
    ("defaults", [], []),
    ("ro", ["MS_RDONLY"], []),
    ("rw", [], ["MS_RDONLY"]),
    ("nosuid", ["MS_NOSUID"], []),
    ("suid", [], ["MS_NOSUID"]),
    ("nodev", ["MS_NODEV"], []),
    ("dev", [], ["MS_NODEV"]),
    ("noexec", ["MS_NOEXEC"], []),
    ("exec", [], ["MS_NOEXEC"]),
    ("sync", ["MS_SYNCHRONOUS"], []),
    ("async", [], ["MS_SYNCHRONOUS"]),
    ("dirsync", ["MS_DIRSYNC"], []),
    ("remount", ["MS_REMOUNT"], []),
    ("bind", ["MS_BIND"], []),
    ("rbind", ["MS_BIND", "MS_REC"], []),
    ("mand", ["MS_MANDLOCK"], []),
    ("nomand", [], ["MS_MANDLOCK"]),
    ("noatime", ["MS_NOATIME"], []),
    ("atime", [], ["MS_NOATIME"]),
    ("nodiratime", ["MS_NODIRATIME"], []),
    ("diratime", [], ["MS_NODIRATIME"]),
    ("relatime", ["MS_RELATIME"], []),
    ("norelatime", [], ["MS_RELATIME"]),
    ("strictatime", ["MS_STRICTATIME"], []),
    ("nostrictatime", [], ["MS_STRICTATIME"]),
    ("silent", ["MS_SILENT"], []),
    ("loud", [], ["MS_SILENT"]),
    ("lazytime", ["MS_LAZYTIME"], []),
    ("nolazytime", [], ["MS_LAZYTIME"]),
    ("iversion", ["MS_I_VERSION"], []),
    ("noiversion", [], ["MS_I_VERSION"]),
    ("nosymfollow", ["MS_NOSYMFOLLOW"], []),
    ("symfollow", [], ["MS_NOSYMFOLLOW"]),
]


def test_table_covers_every_flag_option() -> None:
    assert sorted(o for o, _, _ in FLAG_TABLE) == sorted(FLAG_OPTIONS)


@pytest.mark.parametrize(("option", "flags", "cleared"), FLAG_TABLE)
def test_flag_option(option: str, flags: list[str], cleared: list[str]) -> None:
    opts = parse_mount_options([option])
    assert list(opts.flags) == flags
    assert list(opts.cleared) == cleared
    assert opts.data == ()
    assert opts.propagation == ()


def test_flag_numbers_match_the_kernel_header() -> None:
    assert MS_FLAGS["MS_RDONLY"] == 1
    assert MS_FLAGS["MS_NOSUID"] == 2
    assert MS_FLAGS["MS_NODEV"] == 4
    assert MS_FLAGS["MS_NOEXEC"] == 8
    assert MS_FLAGS["MS_REMOUNT"] == 32
    assert MS_FLAGS["MS_BIND"] == 4096
    assert MS_FLAGS["MS_REC"] == 16384
    assert MS_FLAGS["MS_PRIVATE"] == 1 << 18
    assert MS_FLAGS["MS_SLAVE"] == 1 << 19
    assert MS_FLAGS["MS_SHARED"] == 1 << 20
    assert MS_FLAGS["MS_RELATIME"] == 1 << 21
    assert MS_FLAGS["MS_STRICTATIME"] == 1 << 24
    assert flag_value(["MS_NOSUID", "MS_NODEV", "MS_NOEXEC"]) == 14
    assert flag_names(14) == ["MS_NOSUID", "MS_NODEV", "MS_NOEXEC"]


@pytest.mark.parametrize(
    ("option", "flags"),
    [
        ("private", ("MS_PRIVATE",)),
        ("rprivate", ("MS_REC", "MS_PRIVATE")),
        ("shared", ("MS_SHARED",)),
        ("rshared", ("MS_REC", "MS_SHARED")),
        ("slave", ("MS_SLAVE",)),
        ("rslave", ("MS_REC", "MS_SLAVE")),
        ("unbindable", ("MS_UNBINDABLE",)),
        ("runbindable", ("MS_REC", "MS_UNBINDABLE")),
    ],
)
def test_propagation_options_are_separate_calls(option: str, flags: tuple[str, ...]) -> None:
    assert option in PROPAGATION_OPTIONS
    opts = parse_mount_options(["bind", option])
    assert opts.propagation == (flags,)
    assert opts.flags == ("MS_BIND",), "propagation never mixes into the first mount()"


def test_propagation_keeps_order_and_repeats() -> None:
    opts = parse_mount_options(["rshared", "rbind", "private"])
    assert opts.propagation == (("MS_REC", "MS_SHARED"), ("MS_PRIVATE",))


@pytest.mark.parametrize(
    ("option", "attr_set", "attr_clr"),
    [
        ("rro", ["MOUNT_ATTR_RDONLY"], []),
        ("rrw", [], ["MOUNT_ATTR_RDONLY"]),
        ("rnosuid", ["MOUNT_ATTR_NOSUID"], []),
        ("rsuid", [], ["MOUNT_ATTR_NOSUID"]),
        ("rnodev", ["MOUNT_ATTR_NODEV"], []),
        ("rdev", [], ["MOUNT_ATTR_NODEV"]),
        ("rnoexec", ["MOUNT_ATTR_NOEXEC"], []),
        ("rexec", [], ["MOUNT_ATTR_NOEXEC"]),
        ("rnodiratime", ["MOUNT_ATTR_NODIRATIME"], []),
        ("rdiratime", [], ["MOUNT_ATTR_NODIRATIME"]),
        ("rrelatime", ["MOUNT_ATTR_RELATIME"], ["MOUNT_ATTR__ATIME"]),
        ("rnorelatime", [], ["MOUNT_ATTR__ATIME", "MOUNT_ATTR_RELATIME"]),
        ("rnoatime", ["MOUNT_ATTR_NOATIME"], ["MOUNT_ATTR__ATIME"]),
        ("ratime", [], ["MOUNT_ATTR__ATIME", "MOUNT_ATTR_NOATIME"]),
        ("rstrictatime", ["MOUNT_ATTR_STRICTATIME"], ["MOUNT_ATTR__ATIME"]),
        ("rnostrictatime", [], ["MOUNT_ATTR__ATIME", "MOUNT_ATTR_STRICTATIME"]),
        ("rnosymfollow", ["MOUNT_ATTR_NOSYMFOLLOW"], []),
        ("rsymfollow", [], ["MOUNT_ATTR_NOSYMFOLLOW"]),
    ],
)
def test_recursive_options_are_mount_setattr(
    option: str, attr_set: list[str], attr_clr: list[str]
) -> None:
    assert option in RECURSIVE_OPTIONS
    opts = parse_mount_options(["rbind", option])
    assert list(opts.attr_set) == attr_set
    assert list(opts.attr_clr) == attr_clr
    assert opts.flags == ("MS_BIND", "MS_REC")
    assert opts.has_recursive_attrs


def test_recursive_options_cover_the_table() -> None:
    assert len(RECURSIVE_OPTIONS) == 18


def test_later_words_override_earlier_ones() -> None:
    assert parse_mount_options(["ro", "rw"]).flags == ()
    assert parse_mount_options(["rw", "ro"]).flags == ("MS_RDONLY",)
    assert parse_mount_options(["rro", "rrw"]).attr_set == ()
    assert parse_mount_options(["rro", "rrw"]).attr_clr == ("MOUNT_ATTR_RDONLY",)


def test_unknown_words_are_filesystem_data_in_order() -> None:
    opts = parse_mount_options(["nosuid", "mode=755", "strictatime", "size=65536k", "newinstance"])
    assert opts.flags == ("MS_NOSUID", "MS_STRICTATIME")
    assert opts.data == ("mode=755", "size=65536k", "newinstance")
    assert opts.data_string == "mode=755,size=65536k,newinstance"
    assert parse_mount_options(["ro"]).data_string is None


def test_acl_is_data_not_ms_posixacl() -> None:
    # runc issue 3738: "acl" must reach the filesystem; MS_POSIXACL is kernel-internal.
    assert parse_mount_options(["acl"]).data == ("acl",)


def test_extensions() -> None:
    assert parse_mount_options(["tmpcopyup"]).tmpcopyup
    assert parse_mount_options(["bind", "idmap"]).idmap == "idmap"
    assert parse_mount_options(["rbind", "ridmap"]).idmap == "ridmap"
    assert parse_mount_options(["tmpcopyup"]).data == ()


def test_fstab_only_words_are_dropped_and_reported() -> None:
    opts = parse_mount_options(["noauto", "nofail", "x-systemd.automount", "_netdev", "ro"])
    assert opts.flags == ("MS_RDONLY",)
    assert opts.data == ()
    assert opts.ignored == ("noauto", "nofail", "x-systemd.automount", "_netdev")


def test_empty_and_none() -> None:
    assert parse_mount_options(None) == parse_mount_options([])


@pytest.mark.parametrize(
    ("options", "remount"),
    [
        (["bind"], None),
        (["rbind"], None),
        (["rbind", "rprivate"], None),
        (["bind", "ro"], ["MS_RDONLY", "MS_REMOUNT", "MS_BIND"]),
        (["rbind", "ro", "nosuid"], ["MS_RDONLY", "MS_NOSUID", "MS_REMOUNT", "MS_BIND"]),
        (["rbind", "nodev", "noexec"], ["MS_NODEV", "MS_NOEXEC", "MS_REMOUNT", "MS_BIND"]),
        (["rbind", "ro", "rw"], None),
    ],
)
def test_bind_remount_flags(options: list[str], remount: list[str] | None) -> None:
    assert bind_remount_flags(parse_mount_options(options)) == remount


_WORDS = sorted(FLAG_OPTIONS) + sorted(PROPAGATION_OPTIONS) + sorted(RECURSIVE_OPTIONS)
_WORDS += ["mode=755", "size=1m", "newinstance", "acl", "tmpcopyup", "idmap"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=12))
def test_last_word_decides_each_flag(words: list[str]) -> None:
    opts = parse_mount_options(words)
    for flag in MS_FLAGS:
        decided = None
        for word in words:
            if word in FLAG_OPTIONS and flag in FLAG_OPTIONS[word][1]:
                decided = not FLAG_OPTIONS[word][0]
        assert (flag in opts.flags) == bool(decided), (flag, words)
        assert (flag in opts.cleared) == (decided is False), (flag, words)
    assert list(opts.data) == [
        w for w in words if w in ("mode=755", "size=1m", "newinstance", "acl")
    ]
    assert list(opts.propagation) == [
        PROPAGATION_OPTIONS[w] for w in words if w in PROPAGATION_OPTIONS
    ]
    assert not set(opts.attr_set) & set(opts.attr_clr)
