"""Configs written by real runtimes (``runc spec``, ``runc spec --rootless``, ``crun spec``)
and ``runc features`` output, generated at test time, must validate cleanly.

These need no root. They skip when a binary is missing, except under CI=true,
where .ci/run installs runc and crun and a missing binary is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ocitool.cli.main import main
from ocitool.spec.load import load
from ocitool.spec.schema import validate_config, validate_features

GENERATORS = {
    "runc": ["runc", "spec"],
    "runc-rootless": ["runc", "spec", "--rootless"],
    "crun": ["crun", "spec"],
    "crun-rootless": ["crun", "spec", "--rootless"],
}


def need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{binary} is not installed (CI installs it via .ci/run)")
        pytest.skip(f"{binary} is not installed")
    return path


def generate(name: str, bundle: Path) -> Path:
    command = GENERATORS[name]
    need(command[0])
    bundle.mkdir()
    subprocess.run(command, cwd=bundle, check=True, capture_output=True, timeout=60)
    return bundle


@pytest.mark.parametrize("name", list(GENERATORS))
def test_generated_spec_validates_without_findings(name: str, tmp_path: Path) -> None:
    bundle = generate(name, tmp_path / name)
    doc = load(str(bundle))
    assert doc.data["ociVersion"].startswith("1.")
    assert validate_config(doc) == []


def test_cli_accepts_all_generated_specs_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundles = [str(generate(name, tmp_path / name)) for name in GENERATORS]
    status = main(["validate", "--format", "json", *bundles])
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert [f["valid"] for f in report["files"]] == [True] * len(bundles)


def test_generated_spec_with_one_defect_is_rejected(tmp_path: Path) -> None:
    bundle = generate("runc", tmp_path / "runc")
    config = bundle / "config.json"
    data = json.loads(config.read_text())
    data["linux"]["namespaces"].append({"type": "pid"})
    config.write_text(json.dumps(data, indent="\t"))
    diags = validate_config(load(str(bundle)))
    assert [(d.code, d.pointer) for d in diags] == [
        ("OCI212", f"/linux/namespaces/{len(data['linux']['namespaces']) - 1}/type")
    ]


def test_runc_features_document_validates(tmp_path: Path) -> None:
    runc = need("runc")
    proc = subprocess.run([runc, "features"], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        pytest.skip("this runc has no 'features' command")
    path = tmp_path / "features.json"
    path.write_text(proc.stdout)
    diags = validate_features(load(str(path)))
    assert [d for d in diags if d.severity == "error"] == []


def test_containerd_default_spec_validates_once_args_are_set(tmp_path: Path) -> None:
    """``ctr oci spec`` is a template: it leaves process.args to the image, which the spec
    requires on Linux; with args filled in it is clean."""
    ctr = need("ctr")
    proc = subprocess.run([ctr, "oci", "spec"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "config.json"
    path.write_text(proc.stdout)
    diags = validate_config(load(str(path)))
    assert [(d.code, d.pointer) for d in diags] == [("OCI203", "/process/args")]
    data = json.loads(proc.stdout)
    data["process"]["args"] = ["/bin/sh"]
    path.write_text(json.dumps(data, indent=4))
    assert validate_config(load(str(path))) == []


@pytest.mark.integration
def test_podman_generated_config_validates(tmp_path: Path) -> None:
    """podman writes config.json when it initialises a container (needs root)."""
    if os.geteuid() != 0 and os.environ.get("CI") != "true":
        pytest.skip("podman init needs root")
    podman = need("podman")
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        pytest.skip("busybox is not installed")
    rootfs = tmp_path / "rootfs" / "bin"
    rootfs.mkdir(parents=True)
    shutil.copy(busybox, rootfs / "busybox")
    created = subprocess.run(
        [podman, "create", "--rootfs", str(rootfs.parent), "/bin/busybox", "true"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    cid = created.stdout.strip().splitlines()[-1]
    try:
        # init may fail in a restricted environment; the config is written before that
        subprocess.run([podman, "init", cid], capture_output=True, timeout=120)
        inspect = subprocess.run(
            [podman, "inspect", "--format", "{{.StaticDir}}", cid],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        config = Path(inspect.stdout.strip()) / "config.json"
        assert config.exists(), inspect.stderr
        assert validate_config(load(str(config))) == []
    finally:
        subprocess.run([podman, "rm", "-f", cid], capture_output=True, timeout=120)
