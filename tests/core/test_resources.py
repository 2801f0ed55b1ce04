"""RFC 8707 resource indicators (``core/resources.py``) at ``/authorize`` and ``/token``: one
audience per token, scopes of that API only, a token per API from one grant."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.core.conftest import AUDIENCE, CB, ISSUER, VERIFIER, Harness, basic, fragment, query
from tokenpath.core.apis import add_api, delete_api
from tokenpath.core.introspection import introspect
from tokenpath.core.messages import BackchannelRequest, ErrorPage, Redirect
from tokenpath.core.pkce import s256
from tokenpath.core.records import Api, ApiScope, Client, ClientType, GrantType, Session

pytestmark = pytest.mark.anyio
BILLING = "https://billing.example/api"
CODE_AND_REFRESH = [GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN]


async def billing(harness: Harness, **options: Any) -> Api:
    api, _ = await add_api(
        harness.ctx,
        identifier=BILLING,
        scopes=[ApiScope(name="billing:read", description="Read your invoices")],
        **options,
    )
    return api


async def two_api_client(harness: Harness, **options: Any) -> tuple[Client, str]:
    await billing(harness)
    client, secret = await harness.client(
        scopes="openid notes:read billing:read",
        resources=[AUDIENCE, BILLING],
        grant_types=CODE_AND_REFRESH,
        **options,
    )
    assert secret is not None
    return client, secret


def authorize_pairs(client: Client, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [
        ("response_type", "code"),
        ("client_id", client.client_id),
        ("redirect_uri", CB),
        ("state", "st"),
        ("code_challenge", s256(VERIFIER)),
        ("code_challenge_method", "S256"),
        *extra,
    ]


async def code_for(harness: Harness, client: Client, session: Session, *extra: Any) -> str:
    decision = await harness.authorize_pairs(authorize_pairs(client, *extra), session, "approve")
    assert isinstance(decision, Redirect), decision
    return query(decision)["code"]


async def redeem(harness: Harness, client: Client, secret: str, code: str, **form: str) -> Any:
    return await harness.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CB,
            "code_verifier": VERIFIER,
            **form,
        },
        basic(client.client_id, secret),
    )


async def claims_of(harness: Harness, body: Any) -> dict[str, Any]:
    claims = await harness.ctx.signer.verify(str(body["access_token"]))
    assert claims is not None
    return dict(claims)


async def test_one_grant_mints_a_token_per_api(harness: Harness) -> None:
    """RFC 8707 §2.1-2.2: approved for two APIs, each token has exactly one of them as aud."""
    client, secret = await two_api_client(harness)
    session = await harness.session()
    code = await code_for(
        harness,
        client,
        session,
        ("scope", "openid notes:read billing:read"),
        ("resource", AUDIENCE),
        ("resource", BILLING),
    )
    grant = next(iter(harness.ctx.stores.grants.rows.values()))  # type: ignore[attr-defined]
    assert grant.resources == (AUDIENCE, BILLING)
    first = await redeem(harness, client, secret, code, resource=BILLING)
    assert first.status == 200, first.body
    assert first.body["scope"] == "openid billing:read"
    assert (await claims_of(harness, first.body))["aud"] == BILLING
    auth = basic(client.client_id, secret)
    notes = await harness.token(
        {
            "grant_type": "refresh_token",
            "refresh_token": str(first.body["refresh_token"]),
            "resource": AUDIENCE,
        },
        auth,
    )
    assert notes.status == 200, notes.body
    assert notes.body["scope"] == "openid notes:read"
    assert (await claims_of(harness, notes.body))["aud"] == AUDIENCE
    narrowed = await harness.token(
        {
            "grant_type": "refresh_token",
            "refresh_token": str(notes.body["refresh_token"]),
            "resource": BILLING,
            "scope": "billing:read",
        },
        auth,
    )
    assert narrowed.body["scope"] == "billing:read"


async def test_without_resource_the_default_api(harness: Harness) -> None:
    client, secret = await two_api_client(harness, default_resource=BILLING)
    session = await harness.session()
    code = await code_for(harness, client, session)  # no scope: the defaults for that API
    body = (await redeem(harness, client, secret, code)).body
    assert body["scope"] == "openid billing:read"
    assert (await claims_of(harness, body))["aud"] == BILLING


@pytest.mark.parametrize(
    "extra",
    [
        (("resource", "https://unknown.example"),),
        (("resource", "https://billing.example/api#x"),),
        (("resource", "/api"),),
        (("resource", "billing.example"),),
        (("resource", "https://billing .example"),),
        (("resource", "https://billing.example/\x07"),),
        (("resource", BILLING), ("resource", BILLING)),
        (("resource", "https://" + "a" * 3000 + ".example"),),
    ],
)
async def test_a_bad_resource_at_authorize_redirects_invalid_target(
    harness: Harness, extra: tuple[tuple[str, str], ...]
) -> None:
    client, _ = await two_api_client(harness)
    session = await harness.session()
    decision = await harness.authorize_pairs(authorize_pairs(client, *extra), session, None)
    assert isinstance(decision, Redirect)
    answer = query(decision)
    assert decision.location.startswith(CB)
    assert (answer["error"], answer["state"], answer["iss"]) == ("invalid_target", "st", ISSUER)


async def test_an_unpermitted_api_is_invalid_target_like_an_unknown_one(harness: Harness) -> None:
    await billing(harness)
    client, _ = await harness.client(scopes="openid notes:read")  # the default API only
    session = await harness.session()
    decision = await harness.authorize_pairs(
        authorize_pairs(client, ("resource", BILLING)), session, None
    )
    assert isinstance(decision, Redirect) and query(decision)["error"] == "invalid_target"


async def test_a_scope_of_another_api_is_invalid_scope(harness: Harness) -> None:
    client, _ = await two_api_client(harness)
    session = await harness.session()
    pairs = authorize_pairs(client, ("resource", BILLING), ("scope", "notes:read"))
    decision = await harness.authorize_pairs(pairs, session, None)
    assert isinstance(decision, Redirect) and query(decision)["error"] == "invalid_scope"


async def test_before_the_client_is_trusted_an_error_page(harness: Harness) -> None:
    pairs = [("client_id", "nobody"), ("resource", "#bad"), ("response_type", "code")]
    decision = await harness.authorize_pairs(pairs, None, None)
    assert isinstance(decision, ErrorPage) and decision.error.error == "invalid_request"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"resource": "https://unknown.example"}, "invalid_target"),
        ({"resource": "https://api.example#f"}, "invalid_target"),
        ({"resource": "relative/path"}, "invalid_target"),
        ({"resource": BILLING, "scope": "notes:read"}, "invalid_scope"),
    ],
)
async def test_client_credentials_checks_resource_and_scope(
    harness: Harness, form: dict[str, str], error: str
) -> None:
    await billing(harness)
    client, secret = await harness.client(
        scopes="notes:read billing:read",
        resources=[AUDIENCE, BILLING],
        grant_types=[GrantType.CLIENT_CREDENTIALS],
        redirect_uris=[],
    )
    assert secret is not None
    answer = await harness.token(
        {"grant_type": "client_credentials", **form}, basic(client.client_id, secret)
    )
    assert (answer.status, answer.body["error"]) == (400, error)
    ok = await harness.token(
        {"grant_type": "client_credentials", "resource": BILLING}, basic(client.client_id, secret)
    )
    assert ok.body["scope"] == "billing:read"
    assert (await claims_of(harness, ok.body))["aud"] == BILLING


async def test_two_resources_at_token_are_invalid_target(harness: Harness) -> None:
    client, secret = await two_api_client(harness)
    pairs = (
        ("grant_type", "client_credentials"),
        ("resource", AUDIENCE),
        ("resource", BILLING),
    )
    answer = await _token_pairs(harness, pairs, basic(client.client_id, secret))
    assert (answer.status, answer.body["error"]) == (400, "invalid_target")


async def _token_pairs(harness: Harness, pairs: tuple[tuple[str, str], ...], auth: str) -> Any:
    from tokenpath.core.token_endpoint import token

    return await token(BackchannelRequest(form=pairs, authorization=auth), ctx=harness.ctx)


async def test_a_bad_resource_on_refresh_changes_nothing(harness: Harness) -> None:
    """A failure the presenter could fake must not burn the family (RFC 9700 §4.14.2)."""
    client, secret = await two_api_client(harness)
    code = await code_for(harness, client, await harness.session(), ("resource", AUDIENCE))
    body = (await redeem(harness, client, secret, code)).body
    auth = basic(client.client_id, secret)
    refresh = str(body["refresh_token"])
    for resource in (BILLING, "https://unknown.example"):  # BILLING: not approved for the grant
        refused = await harness.token(
            {"grant_type": "refresh_token", "refresh_token": refresh, "resource": resource}, auth
        )
        assert refused.body["error"] == "invalid_target"
    again = await harness.token({"grant_type": "refresh_token", "refresh_token": refresh}, auth)
    assert again.status == 200


async def test_per_api_format_lifetime_and_claims(harness: Harness) -> None:
    await billing(harness, access_token_lifetime=120, claims={"tenant": "acme"})
    client, secret = await harness.client(
        scopes="billing:read",
        resources=[BILLING],
        grant_types=[GrantType.CLIENT_CREDENTIALS],
        redirect_uris=[],
    )
    assert secret is not None
    body = (
        await harness.token({"grant_type": "client_credentials"}, basic(client.client_id, secret))
    ).body
    claims = await claims_of(harness, body)
    assert body["expires_in"] == 120 and claims["exp"] - claims["iat"] == 120
    assert claims["tenant"] == "acme"
    api = await harness.ctx.stores.apis.get(BILLING)
    assert api is not None
    await harness.ctx.stores.apis.update(dataclasses.replace(api, token_format="opaque"))
    opaque = (
        await harness.token({"grant_type": "client_credentials"}, basic(client.client_id, secret))
    ).body
    assert str(opaque["access_token"]).count(".") != 2


async def test_implicit_token_is_for_the_first_api(harness: Harness) -> None:
    from tests.core.conftest import make_ctx

    harness = Harness(make_ctx(allow_implicit=True))
    client, _ = await harness.client(
        kind=ClientType.PUBLIC,
        grant_types=[GrantType.IMPLICIT],
        response_types=["token"],
        scopes="notes:read",
    )
    decision = await harness.authorize(
        await harness.session(),
        consent="approve",
        response_type="token",
        client_id=client.client_id,
        redirect_uri=CB,
        resource=AUDIENCE,
    )
    assert isinstance(decision, Redirect)
    claims = await harness.ctx.signer.verify(fragment(decision)["access_token"])
    assert claims is not None and claims["aud"] == AUDIENCE


async def test_deleting_an_api_makes_its_tokens_inactive(harness: Harness) -> None:
    client, secret = await two_api_client(harness)
    code = await code_for(harness, client, await harness.session(), ("resource", BILLING))
    body = (await redeem(harness, client, secret, code)).body
    auth = basic(client.client_id, secret)

    async def active() -> bool:
        form = (("token", str(body["access_token"])),)
        reply = await introspect(BackchannelRequest(form=form, authorization=auth), ctx=harness.ctx)
        return bool(reply.body["active"])

    assert await active()
    assert await delete_api(harness.ctx, BILLING)
    assert not await active()
    refused = await harness.token(
        {"grant_type": "refresh_token", "refresh_token": str(body["refresh_token"])}, auth
    )
    assert refused.body["error"] == "invalid_target"
