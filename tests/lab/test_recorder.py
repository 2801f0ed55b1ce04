"""lab/recorder.py: what a run records, and what it leaves out."""

from __future__ import annotations

import time

from tokenpath.lab.recorder import Recorder
from tokenpath.lab.recording import Run


def _scope(path: str, method: str = "GET") -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "query_string": b"", "headers": []}


def test_only_requests_during_a_run_are_recorded() -> None:
    recorder = Recorder()
    assert recorder.new_exchange("as", _scope("/token", "POST")) is None
    with recorder.recording(Run(run_id="r1", flow="code", started=time.time())):
        exchange = recorder.new_exchange("as", _scope("/token", "POST"))
    assert exchange is not None and exchange.url == "/token" and exchange.server == "as"


def test_the_demo_apis_feed_polls_are_no_hop_of_a_run() -> None:
    """The demo API reads the revocation feed every second on its own; a run that happened to
    be recorded meanwhile must not show those polls as hops of the flow."""
    recorder = Recorder()
    with recorder.recording(Run(run_id="r2", flow="implicit", started=time.time())):
        assert recorder.new_exchange("as", _scope("/revocations")) is None
        assert recorder.new_exchange("as", _scope("/authorize")) is not None
