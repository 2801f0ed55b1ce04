"""Key rotation across real servers: an authorization server and a resource server on loopback,
one hand-moved clock. Publish, then sign, then retire (RFC 7517 key sets; RFC 9068 §4)."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.core.conftest import FastHasher
from tests.support.apis import ensure_api
from tests.support.servers import free_port, serve_asgi
from tokenpath.core.clock import FixedClock, SecretsTokenSource
from tokenpath.core.context import Context
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import register_client
from tokenpath.core.signing import Signer, rotate_signing_key
from tokenpath.resource import JwksCache, JwtValidator, create_demo_api
from tokenpath.settings import Settings
from tokenpath.storage.memory import memory_stores
from tokenpath.web.app import create_app

PUBLISH_AHEAD, RETIRE_AFTER = 360, 720


def test_tokens_from_both_keys_validate_during_the_overlap_and_the_old_key_retires() -> None:
    as_port, api_port = free_port(), free_port()
    issuer, api = f"http://127.0.0.1:{as_port}", f"http://127.0.0.1:{api_port}"
    clock = FixedClock()
    stores = memory_stores()
    settings = Settings(issuer=issuer, audience=api)
    ctx = Context(
        policy=settings.policy(), stores=stores, clock=clock, random=SecretsTokenSource(),
        signer=Signer(stores.keys, clock, refresh_seconds=0, publish_ahead=PUBLISH_AHEAD,
                      retire_after=RETIRE_AFTER),
        passwords=FastHasher(),
    )  # fmt: skip
    asyncio.run(ensure_api(ctx, api))
    machine, secret = asyncio.run(
        register_client(
            ctx=ctx, name="m", client_type=ClientType.CONFIDENTIAL, redirect_uris=[],
            scopes=["notes:read"], grant_types=[GrantType.CLIENT_CREDENTIALS],
        )
    )  # fmt: skip
    assert secret is not None
    auth = "Basic " + base64.b64encode(f"{machine.client_id}:{secret}".encode()).decode()
    validator = JwtValidator(
        issuer=issuer, audience=api, clock=clock,
        jwks=JwksCache(f"{issuer}/jwks", clock=clock, refetch_interval=30, max_age=300),
    )  # fmt: skip

    with (
        serve_asgi(create_app(settings, ctx=ctx), port=as_port),
        serve_asgi(create_demo_api(validator), port=api_port),
    ):

        def new_token() -> str:
            response = httpx.post(
                f"{issuer}/token", data={"grant_type": "client_credentials"},
                headers={"Authorization": auth},
            )  # fmt: skip
            assert response.status_code == 200, response.text
            return str(response.json()["access_token"])

        def accepted(token: str) -> bool:
            response = httpx.get(f"{api}/api/me", headers={"Authorization": f"Bearer {token}"})
            return response.status_code == 200

        def kid(token: str) -> str:
            header = token.split(".")[0]
            return str(
                httpx.Response(200, content=base64.urlsafe_b64decode(header + "==")).json()["kid"]
            )

        before = new_token()
        assert accepted(before)  # the RS fetched the JWKS once
        new_key = asyncio.run(rotate_signing_key(stores.keys, clock.now()))
        clock.advance(1)
        assert kid(new_token()) == kid(before)  # published, not yet signing
        assert len(httpx.get(f"{issuer}/jwks").json()["keys"]) == 2

        clock.advance(PUBLISH_AHEAD)  # the new key signs now; the RS's cache is 361 s old
        after = new_token()
        assert kid(after) == new_key.kid
        assert accepted(after) and accepted(before)  # overlap: both keys are good

        clock.advance(RETIRE_AFTER)  # every token the old key signed has expired by now
        assert [k["kid"] for k in httpx.get(f"{issuer}/jwks").json()["keys"]] == [new_key.kid]
        clock.advance(301)  # the RS's cached set ages out and is fetched again
        assert accepted(new_token())
        # a fresh, unexpired token signed with the retired key (as a stale signer or a leaked
        # key would make) is refused: the retirement, not the expiry, is what stops it
        old = stores.keys.rows[kid(before)]  # type: ignore[attr-defined]
        assert old.retired_at is not None
        now = clock.now()
        forged = jwt.encode(
            {"alg": "ES256", "typ": "at+jwt", "kid": old.kid},
            {"iss": issuer, "aud": api, "sub": machine.client_id, "client_id": machine.client_id,
             "scope": "notes:read", "iat": now, "exp": now + 300, "jti": "late"},
            ECKey.import_key(json.loads(old.private_jwk)),
        )  # fmt: skip
        assert not accepted(forged)
