"""Print the "Cases" section of docs/check.md: each corpus bundle through ``ocitool check``,
``ocitool exec`` and ``runc run``, messages side by side (run as root; runc installed).

Usage: PYTHONPATH=. python3 tools/check_corpus_doc.py > /tmp/cases.md
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.helpers_exec.bundle import open_dir  # noqa: E402
from tests.helpers_exec.check_corpus import cases  # noqa: E402


def _clean(text: str, top: Path) -> str:
    text = text.replace(str(top), "$TMP")
    text = re.sub(r'time="[^"]*" ', "", text)
    return re.sub(r"-\d{3,}\b", "-PID", text).strip()


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


def main() -> int:
    py = sys.executable
    for case in cases():
        if case.code is None:
            continue
        with open_dir("ocitool-doc-") as top:
            bundle = case.build(top / "t")
            check = _run(
                [py, "-m", "ocitool.cli.main", "check", "--format", "json", str(bundle)], REPO
            )
            findings = json.loads(check.stdout)["findings"]
            mine = next(f for f in findings if f["code"] == case.code)
            ours = _run(
                [py, "-m", "ocitool.cli.main", "exec", "--root", str(top / "s"), str(bundle)], REPO
            )
            cid = f"doc-{uuid.uuid4().hex[:8]}"
            runc = _run(["runc", "--root", str(top / "r"), "run", cid], bundle)
            _run(["runc", "--root", str(top / "r"), "delete", "-f", cid], bundle)
            print(f"### {case.name}: {case.title}\n")
            print(
                f"`ocitool check` ({mine['code']} at `{mine['pointer']}`, line {mine['line']}):\n"
            )
            print(f"```\n{_clean(mine['message'], top)}\n```\n")
            print(f"`ocitool exec` (exit {ours.returncode}):\n")
            print(
                f"```\n{_clean(ours.stderr.splitlines()[0] if ours.stderr else '(no error)', top)}\n```\n"
            )
            runc_text = (
                runc.stderr.strip().splitlines()[-1] if runc.stderr.strip() else "(no error)"
            )
            print(f"`runc run` (exit {runc.returncode}):\n")
            print(f"```\n{_clean(runc_text, top)}\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
