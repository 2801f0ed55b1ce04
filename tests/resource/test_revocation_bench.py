"""bench/revocation_delay.py speaks the contract: a short run against the fake feed server
finishes every trial (the figures themselves are for bench/, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.resource.feed import API_CLIENT_ID, API_SECRET, FeedIssuer
from tests.resource.support import AUDIENCE
from tests.support.servers import free_port, serve_asgi

SCRIPT = Path(__file__).parents[2] / "bench" / "revocation_delay.py"


def test_the_bench_runs_every_trial_to_a_refusal(tmp_path: Path) -> None:
    port = free_port()
    server = FeedIssuer(f"http://127.0.0.1:{port}")
    server.poll_interval = 0.2
    results = tmp_path / "results.json"
    with serve_asgi(server.app(), port=port):
        run = subprocess.run(
            [
                sys.executable, str(SCRIPT), "--issuer", server.url,
                "--client-id", API_CLIENT_ID, "--client-secret", API_SECRET,
                "--token-client-id", "machine", "--token-client-secret", "x",
                "--audience", AUDIENCE, "--trials", "3", "--spread", "0.2", "--json", str(results),
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    outcomes = json.loads(results.read_text())
    assert [o["mode"] for o in outcomes] == ["async", "thread"]
    for outcome in outcomes:
        assert len(outcome["delays"]) == 3 and outcome["timeouts"] == 0
        assert outcome["jwks_fetches"] == 1  # validations made no call to the server
    assert "p99" in run.stdout and API_SECRET not in run.stdout + run.stderr
