"""docs/howto/lifecycle.md stays true: its ```console blocks run, in order, in one shell, against
a fresh data directory, and every command in them succeeds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HOWTO = Path(__file__).parents[1] / "docs" / "howto" / "lifecycle.md"


def console_blocks(text: str) -> list[str]:
    return re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL)


def test_every_console_block_of_the_lifecycle_howto_runs(tmp_path: Path) -> None:
    blocks = console_blocks(HOWTO.read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}
    env["TOKENPATH_DATA_DIR"] = str(tmp_path / "data")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    script = "set -euo pipefail\n" + "\n".join(blocks)
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=300,
        check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "client_secret" in done.stdout and "tpadm_" in done.stdout
    assert "revoked 0 grant(s); ended 0 session(s)" not in done.stdout  # disabling ended them
    assert "nothing was live" in done.stdout
    assert not (tmp_path / ".tokenpath").exists()  # only the configured data directory
