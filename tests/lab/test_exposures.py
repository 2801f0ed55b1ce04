"""Secrets found by value and where they were held, on hand-made recordings (no servers)."""

from __future__ import annotations

import base64

from tokenpath.lab.diagram import sequence_svg
from tokenpath.lab.exposures import exposures, find_secrets
from tokenpath.lab.recording import BrowserSnapshot, Exchange, LogLine, Run, run_from_json

TOKEN = "eyJ.access-token-value.sig"
CODE = "code-value-123456"
SECRET = "client-secret-value"


def _run() -> Run:
    basic = base64.b64encode(f"client:{SECRET}".encode()).decode()
    run = Run(run_id="r1", flow="implicit", started=100.0, finished=110.0)
    run.exchanges = [
        Exchange(
            hop=1,
            at=101.0,
            server="as",
            method="GET",
            url="/authorize?x=1",
            request_headers=[("user-agent", "Mozilla/5.0")],
            status=303,
            response_headers=[("location", f"http://spa/#access_token={TOKEN}&code={CODE}")],
            answered=101.1,
            caller="browser",
        ),
        Exchange(
            hop=2,
            at=102.0,
            server="as",
            method="POST",
            url="/token",
            request_headers=[("authorization", f"Basic {basic}")],
            request_body="grant_type=authorization_code&code_verifier=verifier-value-xyz",
            status=200,
            response_body='{"access_token": "other-token-value"}',
        ),
        Exchange(
            hop=3,
            at=104.0,
            server="api",
            method="GET",
            url="/api/me",
            request_headers=[("authorization", f"Bearer {TOKEN}")],
            status=200,
        ),
    ]
    run.browser = [
        BrowserSnapshot(at=103.0, event="navigation", url=f"http://spa/#access_token={TOKEN}"),
        BrowserSnapshot(at=103.5, event="replaceState", url="http://spa/", js={"v": TOKEN}),
    ]
    run.logs = [LogLine(at=105.0, server="as", logger="x", level="INFO", message=f"c {CODE}")]
    return run


def test_secrets_are_found_by_value_in_redirects_token_requests_and_responses() -> None:
    found = {(s.kind, s.value) for s in find_secrets(_run())}
    assert ("access_token", TOKEN) in found and ("authorization_code", CODE) in found
    assert ("client_secret", SECRET) in found
    assert ("code_verifier", "verifier-value-xyz") in found
    assert ("access_token", "other-token-value") in found


def test_places_and_durations() -> None:
    rows = {(x.secret, x.place): x for x in exposures(_run())}
    fragment = rows["access_token", "address-bar-fragment"]
    assert fragment.seconds == 0.5 and fragment.first_seen == 3.0  # until replaceState
    assert rows["access_token", "js-memory"].seconds == 6.5  # held to the end of the run
    assert rows["access_token", "api-request"].seconds == 0.0
    assert rows["authorization_code", "server-log"].seconds == 5.0
    assert rows["access_token", "token-response"].where == "as: POST /token"
    assert ("client_secret", "server-log") not in rows


def test_the_recording_round_trips_and_the_diagram_names_secrets() -> None:
    run = _run()
    assert run_from_json(run.to_json()) == run
    svg = sequence_svg(run)
    assert TOKEN not in svg and CODE not in svg and "[access token]" in svg
