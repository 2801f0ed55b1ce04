"""Structured logs from a real server: JSON lines, request ids, and no secret on failure paths."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from tests.web.test_management import _client, serving
from tokenpath.observability.logs import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    request_scope,
)


def test_json_lines_request_ids_and_no_secrets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {
        "TOKENPATH_DATA_DIR": str(tmp_path / "data"),
        "TOKENPATH_LOG_FORMAT": "json",
        "TOKENPATH_LOG_LEVEL": "debug",
        "TOKENPATH_TRUSTED_PROXIES": "127.0.0.1",
    }
    client_id, secret = _client(env)
    secrets = {secret, "wrong-secret-Q7", "code-Z9-guess", "refresh-K3-guess", "pw-H4-guess"}
    with serving(env) as (public, _, lines):
        token = httpx.post(
            f"{public}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        ).json()["access_token"]
        secrets.add(token)
        traced = httpx.post(
            f"{public}/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, "wrong-secret-Q7"),
            headers={"X-Request-ID": "trace-123"},
        )
        for form in (
            {"grant_type": "authorization_code", "code": "code-Z9-guess", "redirect_uri": "x"},
            {"grant_type": "refresh_token", "refresh_token": "refresh-K3-guess"},
        ):
            httpx.post(f"{public}/token", data=form, auth=(client_id, secret))
        httpx.post(f"{public}/introspect", data={"token": token}, auth=(client_id, "bad"))
        httpx.get(f"{public}/logout", params={"id_token_hint": token})
        httpx.get(f"{public}/userinfo", headers={"Authorization": f"Bearer {token}x"})
        httpx.post(f"{public}/login", data={"username": "alice", "password": "pw-H4-guess"})
        httpx.get(f"{public}/authorize", params={"client_id": client_id, "code": "code-Z9-guess"})
    assert traced.headers["X-Request-ID"] == "trace-123"
    assert [line for line in lines if not line.startswith("{")] == []
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"timestamp", "level", "logger", "message"} <= set(records[0])
    assert records[0]["timestamp"].endswith("+00:00")
    mine = [r for r in records if r.get("request_id") == "trace-123"]
    assert {r["logger"] for r in mine} >= {"tokenpath.access", "tokenpath.security"}
    event = next(r for r in mine if r["logger"] == "tokenpath.security")
    assert event["event"] == "client_auth.failed" and event["client_id"] == client_id
    access = [r for r in records if r["logger"] == "tokenpath.access"]
    assert len({r["request_id"] for r in access}) == len(access) == 10  # generated, each its own
    assert any(r["logger"].startswith("uvicorn") for r in records)  # uvicorn's lines too
    everything = "\n".join(lines)
    assert [s for s in secrets if s in everything] == []


def test_untrusted_peers_cannot_choose_the_request_id(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"TOKENPATH_DATA_DIR": str(tmp_path / "data")}
    with serving(env) as (public, _, lines):
        answer = httpx.get(f"{public}/jwks", headers={"X-Request-ID": "forged"})
    generated = answer.headers["X-Request-ID"]
    assert generated != "forged" and len(generated) == 32
    access = [line for line in lines if "tokenpath.access: GET /jwks 200" in line]
    assert len(access) == 1 and access[0].endswith(f"[request_id={generated}]")
    assert access[0][:4].isdigit() and "T" in access[0].split(" ", 1)[0]  # ISO 8601 first


def test_formatters_carry_the_request_id_of_the_context() -> None:
    record = logging.LogRecord("tokenpath.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    with request_scope("req-1"):
        record.request_id = "req-1"
        document = json.loads(JsonFormatter().format(record))
    assert document["message"] == "hello you" and document["request_id"] == "req-1"
    assert TextFormatter().format(record).endswith("tokenpath.x: hello you [request_id=req-1]")


def test_configure_logging_replaces_its_handler(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        configure_logging("json", "warning")
        configure_logging("json", "warning")
        added = [h for h in root.handlers if h not in before]
        assert len(added) == 1
        with request_scope("abc"):
            logging.getLogger("tokenpath.test").warning("careful")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert json.loads(line)["request_id"] == "abc"
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
