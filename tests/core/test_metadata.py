"""Authorization server metadata (RFC 8414): it advertises exactly what the server does."""

from __future__ import annotations

import pytest

from tests.core.conftest import VERIFIER, Harness, basic, fragment, make_ctx, query
from tests.core.grants.support import SUCCESSFUL_REQUEST, token_request
from tokenpath.core.messages import Redirect
from tokenpath.core.metadata import authorization_server_metadata, openid_configuration
from tokenpath.core.pkce import s256
from tokenpath.core.records import ClientType, GrantType, ResponseType

pytestmark = pytest.mark.anyio
CANDIDATE_GRANTS = [
    *GrantType,
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
]
CANDIDATE_RESPONSES = [
    *ResponseType,
    "code token",
    "code id_token",
    "code id_token token",
    "none",
]
ANSWER = {"code": "code", "token": "access_token", "id_token": "id_token"}
"""Where each response type puts its answer; a new response type needs an entry."""
VIA_AUTHORIZE = {"implicit": "token"}
"""Grants whose tokens come from ``/authorize`` (RFC 6749 §4.2), by their response type."""


def test_metadata_follows_policy() -> None:
    meta = authorization_server_metadata(make_ctx().policy)
    assert meta["issuer"] == "https://as.example"
    assert meta["authorization_endpoint"] == "https://as.example/authorize"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    # RFC 8707 and the revocation feed (tokenpath extensions); API scopes are each API's own
    assert meta["resource_indicators_supported"] is True
    assert meta["revocation_feed_endpoint"] == "https://as.example/revocations"
    assert meta["scopes_supported"] == [
        "openid",
        "profile",
        "email",
        "address",
        "phone",
        "offline_access",
    ]
    assert meta["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
    ]
    implicit = authorization_server_metadata(make_ctx(allow_implicit=True).policy)
    assert implicit["response_types_supported"] == ["code", "token", "id_token", "id_token token"]
    assert implicit["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "implicit",
    ]


def test_policy_refuses_unsafe_values() -> None:
    from tokenpath.core.policy import Policy

    for kwargs in ({"code_lifetime": 601}, {"code_lifetime": 0}, {"issuer": "https://as.example/"}):
        with pytest.raises(ValueError):
            Policy(**{"issuer": "https://as.example", "audience": "x", **kwargs})  # type: ignore[arg-type]


async def authorize_with(harness: Harness, response_type: str) -> Redirect:
    """Ask for ``response_type`` as a public client registered for both front-channel grants,
    with everything OpenID Connect asks of an ID-token request (``openid``, ``nonce``)."""
    client, _ = await harness.client(
        kind=ClientType.PUBLIC, grant_types=[GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT]
    )
    decision = await harness.authorize(
        await harness.session(),
        consent="approve",
        response_type=response_type,
        client_id=client.client_id,
        redirect_uri=client.redirect_uris[0],
        state="s1",
        code_challenge=s256(VERIFIER),
        code_challenge_method="S256",
        scope="openid",
        nonce="n-1",
    )
    assert isinstance(decision, Redirect)
    return decision


def answered(decision: Redirect) -> dict[str, str]:
    return {**query(decision), **fragment(decision)}


@pytest.mark.parametrize("allow_implicit", [False, True])
async def test_every_advertised_response_type_works_and_no_other_does(
    allow_implicit: bool,
) -> None:
    meta = authorization_server_metadata(make_ctx(allow_implicit=allow_implicit).policy)
    advertised = meta["response_types_supported"]
    assert isinstance(advertised, list)
    for response_type in CANDIDATE_RESPONSES:
        harness = Harness(make_ctx(allow_implicit=allow_implicit))
        params = answered(await authorize_with(harness, response_type))
        if response_type in advertised:
            for answer in response_type.split(" "):
                assert ANSWER[answer] in params, (response_type, params)
        else:
            assert params.get("error") == "unsupported_response_type", (response_type, params)


@pytest.mark.parametrize("allow_implicit", [False, True])
async def test_every_advertised_grant_type_works_and_no_other_does(allow_implicit: bool) -> None:
    meta = authorization_server_metadata(make_ctx(allow_implicit=allow_implicit).policy)
    advertised = meta["grant_types_supported"]
    assert isinstance(advertised, list)
    for grant_type in CANDIDATE_GRANTS:
        harness = Harness(make_ctx(allow_implicit=allow_implicit))
        if grant_type in VIA_AUTHORIZE:
            params = answered(await authorize_with(harness, VIA_AUTHORIZE[grant_type]))
            works = "access_token" in params
        elif grant_type in advertised:
            scenario = await SUCCESSFUL_REQUEST[grant_type](harness)
            response = await token_request(harness, grant_type, scenario)
            works = response.status == 200
        else:
            # the most capable confidential client there is: if it cannot use it, nobody can
            client, secret = await harness.client(
                grant_types=[g for g in GrantType if g is not GrantType.IMPLICIT]
            )
            assert secret is not None
            response = await harness.token(
                {"grant_type": grant_type}, basic(client.client_id, secret)
            )
            works = response.body.get("error") != "unsupported_grant_type"
        assert works == (grant_type in advertised), grant_type


def test_openid_configuration_extends_the_rfc8414_document() -> None:
    """OIDC Discovery 1.0 §3: every RFC 8414 field, plus the OpenID Provider ones, from policy."""
    policy = make_ctx().policy
    oauth = authorization_server_metadata(policy)
    oidc = openid_configuration(policy)
    assert {k: oidc[k] for k in oauth} == oauth
    assert oidc["userinfo_endpoint"] == "https://as.example/userinfo"
    assert oidc["subject_types_supported"] == ["public"]
    assert oidc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert oidc["response_types_supported"] == ["code"]
    for refused in (
        "claims_parameter_supported",
        "request_parameter_supported",
        "request_uri_parameter_supported",
    ):
        assert oidc[refused] is False, refused
    assert "acr_values_supported" not in oidc  # no acr is implemented
    claims = oidc["claims_supported"]
    assert isinstance(claims, list) and {"sub", "iss", "aud", "auth_time", "nonce"} <= set(claims)


def test_pairwise_is_offered_only_with_a_salt() -> None:
    """OIDC Core §8.1: pairwise subjects need the server secret; without it, public only."""
    salted = openid_configuration(make_ctx(pairwise_salt="s" * 32).policy)
    assert salted["subject_types_supported"] == ["public", "pairwise"]


def test_openid_configuration_follows_the_implicit_switch() -> None:
    oidc = openid_configuration(make_ctx(allow_implicit=True).policy)
    assert oidc["response_types_supported"] == ["code", "token", "id_token", "id_token token"]
    assert "code id_token" not in oidc["response_types_supported"]  # hybrid is refused
