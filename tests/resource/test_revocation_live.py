"""Revocation reaching a JWT-validating API, against a real authorization server: the token is
revoked at ``/revoke`` and a running validator, reading ``GET /revocations`` in the background
with the API's own credentials, refuses it with no call to the server per request.

The delay itself is measured by ``bench/revocation_delay.py`` (bench/README.md); here the wait
is only bounded, so a slow machine cannot fail the test while a validator that never learns does.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.resource.authserver import API, AuthServer
from tokenpath.resource import JwksCache, JwtValidator, RevocationFeed, SyncJwtValidator
from tokenpath.resource.validation import AccessToken

pytestmark = pytest.mark.anyio
WAIT = 20.0
"""The feed polls every second; this only bounds the test."""


def _revoke(server: AuthServer, token: str) -> None:
    answer = httpx.post(
        f"{server.issuer}/revoke",
        data={"token": token},
        auth=(server.client_id, server.client_secret),
    )
    assert answer.status_code == 200


def _feed(server: AuthServer) -> RevocationFeed:
    client_id, secret = server.api_credentials
    return RevocationFeed(issuer=server.issuer, client_id=client_id, client_secret=secret)


async def test_a_running_async_validator_refuses_a_revoked_token(auth_server: AuthServer) -> None:
    token = auth_server.token("notes:read")
    feed = _feed(auth_server)
    validator = JwtValidator(
        issuer=auth_server.issuer,
        audience=API,
        jwks=JwksCache(f"{auth_server.issuer}/jwks"),
        revocations=feed,
    )
    async with feed:
        assert isinstance(await validator.validate(token), AccessToken)
        _revoke(auth_server, token)
        deadline = time.monotonic() + WAIT
        while isinstance(await validator.validate(token), AccessToken):
            assert time.monotonic() < deadline, "the revocation never reached the validator"
            await feed.poll()  # what the background task does each second, sooner
        assert feed.healthy


def test_a_running_thread_validator_refuses_a_revoked_token(auth_server: AuthServer) -> None:
    token = auth_server.token("notes:read")
    feed = _feed(auth_server)
    validator = SyncJwtValidator(
        issuer=auth_server.issuer,
        audience=API,
        jwks=JwksCache(f"{auth_server.issuer}/jwks"),
        revocations=feed,
    )
    with feed:
        assert isinstance(validator.validate(token), AccessToken)
        _revoke(auth_server, token)
        deadline = time.monotonic() + WAIT
        while isinstance(validator.validate(token), AccessToken):
            assert time.monotonic() < deadline, "the revocation never reached the validator"
            time.sleep(0.05)  # the feed's own thread polls; nothing here asks the server
