"""Authlib, unmodified, against the real server: metadata from OpenID Connect Discovery, the code
flow with PKCE S256 and a nonce through ``AsyncOAuth2Client`` (httpx), and the ID token checked
the way Authlib's own OpenID client checks it (``AsyncOpenIDMixin.parse_id_token``): the JWS
against the published JWKS with the advertised algorithms, then ``authlib.oidc.core.CodeIDToken``
(iss, aud, exp, iat, nonce, azp, at_hash; OIDC Core §3.1.3.7)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken, UserInfo
from joserfc import jwt
from joserfc.errors import InvalidClaimError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from tests.interop.conftest import CLAIMS, SCOPES, Server
from tests.interop.signin import sign_in_and_allow

pytestmark = pytest.mark.anyio


async def discover(issuer: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{issuer}/.well-known/openid-configuration")
    response.raise_for_status()
    metadata: dict[str, Any] = response.json()
    assert metadata["issuer"] == issuer  # OIDC Discovery §4.3
    return metadata


async def validated_id_token(
    client: AsyncOAuth2Client, metadata: dict[str, Any], token: dict[str, Any], nonce: str
) -> CodeIDToken:
    """What ``AsyncOpenIDMixin.parse_id_token`` does, plus an explicit ``aud`` requirement."""
    jwks = (await client.request("GET", metadata["jwks_uri"], withhold_token=True)).json()
    algorithms = metadata["id_token_signing_alg_values_supported"]
    decoded = jwt.decode(
        token["id_token"],
        key=KeySet.import_key_set(jwks),
        registry=JWSRegistry(algorithms=algorithms, strict_check_header=False),
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {
            "iss": {"essential": True, "values": [metadata["issuer"]]},
            "aud": {"essential": True, "values": [client.client_id]},
        },
        {"nonce": nonce, "client_id": client.client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=120)
    return claims


async def test_code_flow_with_pkce_and_a_validated_id_token(server: Server) -> None:
    metadata = await discover(server.issuer)
    client = AsyncOAuth2Client(
        client_id=server.client_id("authlib"),
        client_secret=server.secret("authlib"),
        scope=" ".join(SCOPES),
        redirect_uri=server.redirect_uri("authlib"),
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    async with client:
        verifier, nonce = generate_token(64), generate_token(24)
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        callback = await anyio.to_thread.run_sync(sign_in_and_allow, url, server.issuer)
        assert parse_qs(urlsplit(callback).query)["iss"] == [server.issuer]
        token = await client.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback,
            code_verifier=verifier,
            state=state,
        )
        claims = await validated_id_token(client, metadata, token, nonce)
        assert claims["sub"] == server.user_id and claims["nonce"] == nonce
        assert isinstance(claims["auth_time"], int)
        response = await client.get(metadata["userinfo_endpoint"])
        response.raise_for_status()
        userinfo = UserInfo(response.json())
    assert userinfo["sub"] == claims["sub"]
    assert {k: userinfo[k] for k in CLAIMS} == CLAIMS


async def test_an_id_token_for_another_nonce_is_refused_by_authlib(server: Server) -> None:
    """The negative control: the same validation fails when the nonce does not match."""
    metadata = await discover(server.issuer)
    client = AsyncOAuth2Client(
        client_id=server.client_id("authlib"),
        client_secret=server.secret("authlib"),
        scope="openid",
        redirect_uri=server.redirect_uri("authlib"),
        code_challenge_method="S256",
    )
    async with client:
        verifier = generate_token(64)
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce="sent-nonce"
        )
        callback = await anyio.to_thread.run_sync(sign_in_and_allow, url, server.issuer)
        token = await client.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback,
            code_verifier=verifier,
            state=state,
        )
        with pytest.raises(InvalidClaimError, match="nonce"):
            await validated_id_token(client, metadata, token, "another-nonce")
