"""``ocitool caps``: decode like capsh --decode, --pid from /proc, parse shows five sets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ocitool.cli.caps import decode_line, read_proc_sets
from ocitool.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["caps", *argv])
    out, err = capsys.readouterr()
    return code, out, err


VALUES = ["0", "0xa80425fb", "a8", "0x30000000000", "0x1ffffffffff", "0xffffffffffffffff"]


def test_decode_known_value(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "0x00000000a80425fb")
    assert code == 0
    assert out == (
        "0x00000000a80425fb=cap_chown,cap_dac_override,cap_fowner,cap_fsetid,cap_kill,"
        "cap_setgid,cap_setuid,cap_setpcap,cap_net_bind_service,cap_net_raw,cap_sys_chroot,"
        "cap_mknod,cap_audit_write,cap_setfcap\n"
    )


@pytest.mark.skipif(shutil.which("capsh") is None, reason="capsh is not installed")
@pytest.mark.parametrize("value", VALUES)
def test_decode_matches_capsh(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    expected = subprocess.run(
        ["capsh", f"--decode={value}"], capture_output=True, text=True, check=True
    ).stdout
    code, out, _ = run(capsys, "decode", value)
    assert code == 0
    assert out == expected


def test_decode_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "--json", "0x20000000021")
    assert code == 0
    assert json.loads(out) == [
        {"hex": "0x0000020000000021", "names": ["CAP_CHOWN", "CAP_KILL", 41]}
    ]


def test_decode_pid_reads_proc_status(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", "--pid", str(os.getpid()))
    assert code == 0
    status = Path(f"/proc/{os.getpid()}/status").read_text(encoding="utf-8")
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            mask = int(line.split(":")[1], 16)
            assert f"CapEff:\t{decode_line(mask)}" in out.splitlines()
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "CapInh",
        "CapPrm",
        "CapEff",
        "CapBnd",
        "CapAmb",
    ]


def test_read_proc_sets_from_a_fake_proc(tmp_path: Path) -> None:
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "status").write_text(
        "Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000021\n"
        "CapEff:\t0000000000000001\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n"
    )
    sets = read_proc_sets(7, tmp_path)
    assert sets == {
        "inheritable": 0,
        "permitted": 0x21,
        "effective": 1,
        "bounding": 0x1FFFFFFFFFF,
        "ambient": 0,
    }


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["decode", "zz"], "OCI045", "not a hexadecimal"),
        (["decode", "--", "-1"], "OCI045", "not a hexadecimal"),
        (["decode", "0x_ff"], "OCI045", "not a hexadecimal"),
        (["decode", "\u0661\u0662"], "OCI045", "not a hexadecimal"),
        (["decode", ""], "OCI045", "not a hexadecimal"),
        (["decode", "0x1ffffffffffffffff"], "OCI045", "wider than 64 bits"),
        (["decode", "--pid", "999999999"], "OCI046", "cannot read"),
        (["decode"], "OCI010", "HEX"),
        (["parse", "cap_chown+EP"], "OCI040", "lower case"),
        (["parse", "cap_nope=e"], "OCI041", "unknown capability"),
        (["frob"], "OCI010", "invalid choice"),
    ],
)
def test_bad_input_is_a_usage_error(
    argv: list[str], code: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert code in err and needle in err
    assert "Traceback" not in err


def test_parse_prints_five_sets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "parse", "cap_chown,cap_kill=ep cap_net_raw+i")
    assert code == 0
    lines = out.splitlines()
    assert "canonical:   cap_net_raw=i cap_chown,cap_kill+ep" in lines
    rows = {
        line.split()[0]: line.split()[1]
        for line in lines
        if line.startswith(("eff", "per", "inh", "bou", "amb"))
    }
    assert rows == {
        "effective": "0x0000000000000021=cap_chown,cap_kill",
        "permitted": "0x0000000000000021=cap_chown,cap_kill",
        "inheritable": "0x0000000000002000=cap_net_raw",
        "bounding": "0x0000000000002021=cap_chown,cap_kill,cap_net_raw",
        "ambient": "0x0000000000000000=",
    }
    assert "warning" not in out


def test_parse_warns_about_effective_without_permitted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "parse", "cap_bpf+e")
    assert code == 0
    assert "warning: effective but not permitted (cap_bpf)" in out


def test_parse_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "parse", "--json", "=ep cap_sys_admin-ep")
    assert code == 0
    data = json.loads(out)
    assert data["canonical"] == "=ep cap_sys_admin-ep"
    assert "CAP_SYS_ADMIN" not in data["effective"]["names"]
    assert "CAP_CHOWN" in data["bounding"]["names"]
    assert data["ambient"] == {"hex": "0x0000000000000000", "names": []}
