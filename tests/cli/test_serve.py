"""``tokenpath serve``, as a real process on a loopback port."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.cli.conftest import clean_environ, wait_for
from tests.support.servers import free_port


def test_serve_allow_implicit_flag_reaches_discovery(tmp_path: Path) -> None:
    port = free_port()
    env = clean_environ()
    env |= {"TOKENPATH_DATA_DIR": str(tmp_path), "TOKENPATH_ISSUER": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tokenpath", "serve", "--port", str(port), "--allow-implicit"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/", process)
        meta = httpx.get(f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server").json()
        assert meta["response_types_supported"] == ["code", "token", "id_token", "id_token token"]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert "allow_implicit is on" in output
