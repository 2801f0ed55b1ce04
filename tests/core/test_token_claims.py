"""Claims added to access tokens (``core/token_claims.py``): static per API, a hook per token,
and the reserved claims nobody can overwrite."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest

from tests.core.conftest import Harness, basic
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.records import GrantType
from tokenpath.core.token_claims import RESERVED_CLAIMS, TokenFacts, validate_static_claims

pytestmark = pytest.mark.anyio


def test_static_claims_are_canonical_json_and_never_reserved() -> None:
    assert validate_static_claims({"b": [1, 2], "a": "x"}) == '{"a":"x","b":[1,2]}'
    for name in RESERVED_CLAIMS:
        with pytest.raises(InvalidRequest, match="reserved"):
            validate_static_claims({name: "x"})
    with pytest.raises(InvalidRequest):
        validate_static_claims({"nan": float("nan")})
    with pytest.raises(InvalidRequest):
        validate_static_claims({"": 1})


def test_the_reserved_set_is_the_documented_one() -> None:
    documented = "iss sub aud exp iat nbf jti client_id scope grant_id gty cnf auth_time acr amr"
    assert set(documented.split()) == RESERVED_CLAIMS


async def test_a_hook_adds_claims_but_cannot_replace_the_servers(harness: Harness) -> None:
    seen: list[TokenFacts] = []

    def roles(facts: TokenFacts) -> Mapping[str, object]:
        seen.append(facts)
        return {"roles": ["reader"], "sub": "admin", "aud": "https://evil.example", "acr": "2"}

    harness.ctx = dataclasses.replace(harness.ctx, access_token_claims=roles)
    api = await harness.ctx.stores.apis.get(harness.ctx.policy.audience or "")
    assert api is not None
    await harness.ctx.stores.apis.update(dataclasses.replace(api, claims='{"tenant":"acme"}'))
    client, secret = await harness.client(
        grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[], scopes="notes:read"
    )
    assert secret is not None
    body = (
        await harness.token({"grant_type": "client_credentials"}, basic(client.client_id, secret))
    ).body
    claims = await harness.ctx.signer.verify(str(body["access_token"]))
    assert claims is not None
    assert claims["roles"] == ["reader"] and claims["tenant"] == "acme"
    assert claims["sub"] == client.client_id and claims["aud"] == api.identifier
    assert "acr" not in claims
    assert [f.api for f in seen] == [dataclasses.replace(api, claims='{"tenant":"acme"}')]
    assert seen[0].grant_type is GrantType.CLIENT_CREDENTIALS
