"""Catalog A17: an https issuer and no trust in forwarded headers (RFC 9700 §2.6, §4.13;
RFC 8414 §2; OAuth 2.1 §1.5).

The production profile publishes only ``https`` URLs, all derived from the configured issuer:
``Host`` and ``X-Forwarded-*`` sent straight to the app change nothing a client relies on. An
``http`` issuer is loopback-only development: the server warns ``insecure-dev`` at start and
refuses to bind beyond loopback. TLS itself is terminated in front of the app (see
``docs/howto/operations.md``), so refusing plain-http requests is that proxy's job.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest

from tests.security.conftest import ISSUER, Lab, location_params
from tests.web.conftest import make_ctx
from tokenpath.settings import Settings
from tokenpath.storage.memory import memory_stores
from tokenpath.web import create_app

FORGED = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "http",
    "X-Forwarded-For": "203.0.113.9",
    "Forwarded": "host=evil.example;proto=http",
}


@pytest.mark.anyio
async def test_a17_metadata_uses_https_everywhere(lab: Lab) -> None:
    metadata = await lab.metadata()
    assert metadata["issuer"] == ISSUER and ISSUER.startswith("https://")
    urls = {k: v for k, v in metadata.items() if k == "issuer" or k.endswith(("_endpoint", "_uri"))}
    assert len(urls) >= 5
    assert all(str(v).startswith(ISSUER + "/") or v == ISSUER for v in urls.values()), urls


@pytest.mark.anyio
async def test_a17_forwarded_headers_change_nothing(lab: Lab) -> None:
    plain = await lab.metadata()
    forged = await lab.http.get("/.well-known/oauth-authorization-server", headers=FORGED)
    assert forged.json() == plain
    await lab.sign_in()
    query = lab.authorize_params("conf")
    response = await lab.approve(await lab.http.get("/authorize", params=query, headers=FORGED))
    assert response.headers["location"].startswith("https://client.example/cb?")
    assert location_params(response)["iss"] == ISSUER


@pytest.mark.anyio
async def test_a17_iss_discovery_and_token_issuer_are_identical(lab: Lab) -> None:
    issuer = (await lab.metadata())["issuer"]
    response = await lab.redirect("conf")
    code = location_params(response)["code"]
    assert location_params(response)["iss"] == issuer
    access_token = (await lab.redeem("conf", code)).json()["access_token"]
    payload = access_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == issuer


@pytest.mark.anyio
async def test_a17_id_token_issuer_is_identical(lab: Lab) -> None:
    body = await lab.tokens("conf")
    payload = body["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == (await lab.metadata())["issuer"]


@pytest.mark.parametrize(
    "issuer", ["http://as.example", "http://10.0.0.1:9000", "http://127.0.0.1.evil.example"]
)
def test_a17_http_issuer_off_loopback_is_refused(issuer: str) -> None:
    with pytest.raises(ValueError, match="https"):
        Settings(issuer=issuer)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "as.example"])
def test_a17_lab_profile_refuses_to_bind_beyond_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="refusing to bind"):
        Settings(issuer="http://127.0.0.1:9000", host=host)


async def start_and_stop(settings: Settings) -> None:
    """Run the app's lifespan, as uvicorn does at start-up and shutdown."""
    app = create_app(settings, ctx=make_ctx(memory_stores(), settings))
    async with app.router.lifespan_context(app):
        pass


@pytest.mark.anyio
async def test_a17_lab_profile_warns_insecure_dev_at_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    await start_and_stop(Settings(issuer="http://127.0.0.1:9000"))
    assert any("insecure-dev" in r.getMessage() for r in caplog.records)


@pytest.mark.anyio
async def test_a17_production_profile_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    await start_and_stop(Settings(issuer=ISSUER, host="0.0.0.0"))
    assert not any("insecure-dev" in r.getMessage() for r in caplog.records)
