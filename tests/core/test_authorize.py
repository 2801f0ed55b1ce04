"""The authorization endpoint pipeline: where errors go, and what a success carries."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.conftest import ISSUER, VERIFIER, Harness, fragment, make_ctx, query
from tokenpath.core import authorization_request as request_module
from tokenpath.core import authorize as authorize_module
from tokenpath.core.clock import hash_token
from tokenpath.core.messages import ConsentPrompt, ErrorPage, FormPost, LoginPrompt, Redirect
from tokenpath.core.pkce import s256
from tokenpath.core.records import ClientType, GrantType

pytestmark = pytest.mark.anyio
CB = "https://client.example/cb"


def test_check_order_is_pinned() -> None:
    """Reordering these changes which errors may redirect: a deliberate, reviewed change only."""
    assert [c.__name__ for c in request_module.UNTRUSTED_CHECKS] == [
        "check_client_id",
        "check_request_uri",
        "check_redirect_uri_syntax",
        "check_client_registered",
        "check_redirect_uri_registered",
        "load_client_apis",
    ]
    assert [c.__name__ for c in request_module.TRUSTED_CHECKS] == [
        "check_pushed_required",
        "check_response_type_supported",
        "check_response_type_allowed",
        "check_response_mode",
        "check_resource",
        "check_scope",
        "check_openid_scope",
        "check_pkce",
        "check_nonce",
        "check_prompt",
        "check_max_age",
        "check_login_hint",
        "check_dpop_jkt",
    ]


async def test_code_flow_success_carries_code_state_iss_in_query(harness: Harness) -> None:
    client, _ = await harness.client()
    session = await harness.session()
    decision = await harness.authorize(
        session,
        consent="approve",
        response_type="code",
        client_id=client.client_id,
        redirect_uri=CB,
        state="abc def+/",
        scope="openid notes:read",
    )
    assert isinstance(decision, Redirect)
    assert decision.location.startswith(CB + "?")
    params = query(decision)
    assert set(params) == {"code", "state", "iss"}
    assert params["state"] == "abc def+/"
    assert params["iss"] == ISSUER
    assert len(params["code"]) >= 43  # 256 bits, base64url
    stored = await harness.ctx.stores.codes.get(hash_token(params["code"]))
    assert stored is not None and stored.scope == ("openid", "notes:read")
    assert stored.expires_at - stored.issued_at == 60
    # the plain code is nowhere in the store
    assert params["code"] not in repr(harness.ctx.stores.codes.rows)  # type: ignore[attr-defined]


async def test_redirect_uri_query_is_kept(harness: Harness) -> None:
    client, _ = await harness.client(redirect_uris=["https://client.example/cb?tenant=1"])
    session = await harness.session()
    decision = await harness.authorize(
        session,
        consent="approve",
        response_type="code",
        client_id=client.client_id,
    )
    assert isinstance(decision, Redirect)
    assert decision.location.startswith("https://client.example/cb?tenant=1&code=")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://client.example/cb/",
        "https://client.example:8443/cb",
        "https://client.example/cb/x",
        "https://client.example/cb?x=1",
        "https://evil.example/",
        "https://client.example/cb#f",
    ],
)
async def test_unregistered_redirect_uri_is_an_error_page(
    harness: Harness, redirect_uri: str
) -> None:
    client, _ = await harness.client()
    session = await harness.session()
    decision = await harness.authorize(
        session, response_type="code", client_id=client.client_id, redirect_uri=redirect_uri
    )
    assert isinstance(decision, ErrorPage)
    assert decision.error.error == "invalid_request"


async def test_unknown_client_and_missing_client_id_are_error_pages(harness: Harness) -> None:
    for params in (
        {"client_id": "nope", "redirect_uri": "https://evil.example/"},
        {"redirect_uri": CB},
    ):
        decision = await harness.authorize(None, response_type="code", prompt="none", **params)
        assert isinstance(decision, ErrorPage)


async def test_redirect_uri_required_when_several_registered(harness: Harness) -> None:
    client, _ = await harness.client(redirect_uris=[CB, "https://client.example/other"])
    decision = await harness.authorize(None, response_type="code", client_id=client.client_id)
    assert isinstance(decision, ErrorPage)
    assert "redirect_uri is required" in decision.error.description


async def test_duplicate_parameters_are_an_error_page(harness: Harness) -> None:
    client, _ = await harness.client()
    pairs = [
        ("client_id", client.client_id),
        ("response_type", "code"),
        ("state", "a"),
        ("state", "b"),
    ]
    decision = await authorize_module.authorize(pairs, ctx=harness.ctx, session=None)
    assert isinstance(decision, ErrorPage)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "invalid_request"),  # no response_type
        ({"response_type": "id_token"}, "unsupported_response_type"),
        ({"response_type": "code token"}, "unsupported_response_type"),
        ({"response_type": "token"}, "unsupported_response_type"),  # implicit off by default
        ({"response_type": "code", "scope": "admin"}, "invalid_scope"),
        ({"response_type": "code", "scope": "notes:write"}, "invalid_scope"),  # not the client's
        ({"response_type": "code", "response_mode": "weird"}, "invalid_request"),
        (
            {
                "response_type": "code",
                "code_challenge": s256(VERIFIER),
                "code_challenge_method": "plain",
            },
            "invalid_request",
        ),
        ({"response_type": "code", "code_challenge": s256(VERIFIER)}, "invalid_request"),
        ({"response_type": "code", "prompt": "none login"}, "invalid_request"),
        ({"response_type": "code", "prompt": "bogus"}, "invalid_request"),
        ({"response_type": "code id_token", "nonce": "n"}, "unsupported_response_type"),
        ({"response_type": "code id_token token"}, "unsupported_response_type"),
        ({"response_type": "code", "prompt": "select_account"}, "account_selection_required"),
        ({"response_type": "code", "max_age": "-1"}, "invalid_request"),
        ({"response_type": "code", "nonce": "n" * 513}, "invalid_request"),
        ({"response_type": "code", "login_hint": "a" * 256}, "invalid_request"),
    ],
)
async def test_errors_after_trust_redirect_with_state_and_iss(
    harness: Harness, params: dict[str, str], error: str
) -> None:
    client, _ = await harness.client()
    decision = await harness.authorize(None, client_id=client.client_id, state="s1", **params)
    assert isinstance(decision, Redirect), decision
    assert decision.location.startswith(CB)
    front_channel_tokens = {"token", "id_token"} & set(params.get("response_type", "").split())
    got = fragment(decision) if front_channel_tokens else query(decision)
    assert got["error"] == error
    assert got["state"] == "s1"
    assert got["iss"] == ISSUER
    assert set(got) <= {"error", "error_description", "state", "iss"}


async def test_public_client_must_use_pkce(harness: Harness) -> None:
    client, secret = await harness.client(kind=ClientType.PUBLIC)
    assert secret is None
    decision = await harness.authorize(None, response_type="code", client_id=client.client_id)
    assert isinstance(decision, Redirect)
    assert query(decision)["error"] == "invalid_request"
    assert "PKCE" in query(decision)["error_description"]


async def test_oauth21_mode_requires_pkce_for_confidential_clients() -> None:
    harness = Harness(make_ctx(require_pkce_for_confidential=True))
    client, _ = await harness.client()
    decision = await harness.authorize(None, response_type="code", client_id=client.client_id)
    assert isinstance(decision, Redirect) and query(decision)["error"] == "invalid_request"


async def test_login_then_consent_then_remembered(harness: Harness) -> None:
    client, _ = await harness.client()
    params = {"response_type": "code", "client_id": client.client_id, "scope": "openid profile"}
    assert isinstance(await harness.authorize(None, **params), LoginPrompt)
    session = await harness.session()
    prompt = await harness.authorize(session, **params)
    assert isinstance(prompt, ConsentPrompt)
    assert prompt.scopes == ("openid", "profile") and prompt.redirect_host == "client.example"
    assert isinstance(await harness.authorize(session, consent="approve", **params), Redirect)
    # remembered for these scopes...
    assert isinstance(await harness.authorize(session, **params), Redirect)
    # ...but a new scope asks again, and prompt=consent always asks
    wider = dict(params, scope="openid profile notes:read")
    assert isinstance(await harness.authorize(session, **wider), ConsentPrompt)
    assert isinstance(await harness.authorize(session, prompt="consent", **params), ConsentPrompt)


async def test_default_scopes_apply_when_scope_absent(harness: Harness) -> None:
    client, _ = await harness.client(scopes="openid notes:read")
    session = await harness.session()
    prompt = await harness.authorize(session, response_type="code", client_id=client.client_id)
    assert isinstance(prompt, ConsentPrompt) and prompt.scopes == ("openid", "notes:read")


async def test_deny_is_access_denied(harness: Harness) -> None:
    client, _ = await harness.client()
    session = await harness.session()
    decision = await harness.authorize(
        session, consent="deny", response_type="code", client_id=client.client_id, state="q"
    )
    assert isinstance(decision, Redirect)
    assert query(decision) == {
        "error": "access_denied",
        "error_description": "the user denied the request",
        "state": "q",
        "iss": ISSUER,
    }
    assert harness.ctx.stores.codes.rows == {}  # type: ignore[attr-defined]


async def test_prompt_none(harness: Harness) -> None:
    client, _ = await harness.client()
    params = {"response_type": "code", "client_id": client.client_id, "prompt": "none"}
    assert query(await harness.authorize(None, **params))["error"] == "login_required"  # type: ignore[arg-type]
    session = await harness.session()
    assert query(await harness.authorize(session, **params))["error"] == "consent_required"  # type: ignore[arg-type]


async def test_form_post_response_mode(harness: Harness) -> None:
    client, _ = await harness.client()
    session = await harness.session()
    decision = await harness.authorize(
        session,
        consent="approve",
        response_type="code",
        client_id=client.client_id,
        response_mode="form_post",
        state="st",
    )
    assert isinstance(decision, FormPost)
    assert decision.action == CB
    assert [name for name, _ in decision.fields] == ["code", "state", "iss"]


class TestImplicit:
    async def test_token_in_fragment_never_query(self) -> None:
        harness = Harness(make_ctx(allow_implicit=True))
        client, _ = await harness.client(kind=ClientType.PUBLIC, grant_types=[GrantType.IMPLICIT])
        session = await harness.session()
        decision = await harness.authorize(
            session, consent="approve", response_type="token", client_id=client.client_id, state="s"
        )
        assert isinstance(decision, Redirect)
        assert urlsplit(decision.location).query == ""
        got = fragment(decision)
        assert got["token_type"] == "Bearer" and got["state"] == "s" and got["iss"] == ISSUER
        assert int(got["expires_in"]) == 300
        assert "refresh_token" not in got and "code" not in got
        claims = await harness.ctx.signer.verify(got["access_token"])
        assert claims is not None and claims["gty"] == GrantType.IMPLICIT.value

    async def test_query_mode_refused_for_tokens(self) -> None:
        harness = Harness(make_ctx(allow_implicit=True))
        client, _ = await harness.client(kind=ClientType.PUBLIC, grant_types=[GrantType.IMPLICIT])
        decision = await harness.authorize(
            None, response_type="token", response_mode="query", client_id=client.client_id
        )
        assert isinstance(decision, Redirect)
        assert fragment(decision)["error"] == "invalid_request"
        assert "?" not in decision.location

    async def test_code_only_client_is_unauthorized_in_fragment(self) -> None:
        harness = Harness(make_ctx(allow_implicit=True))
        client, _ = await harness.client()
        session = await harness.session()
        decision = await harness.authorize(
            session, consent="approve", response_type="token", client_id=client.client_id
        )
        assert isinstance(decision, Redirect)
        assert fragment(decision)["error"] == "unauthorized_client"
        assert "access_token" not in decision.location


REGISTERED = {"https://client.example/cb", "https://client.example/other"}
param_names = st.sampled_from(
    [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "response_mode",
        "prompt",
        "nonce",
        "max_age",
        "login_hint",
    ]
)
param_values = st.one_of(
    st.sampled_from(
        [
            *sorted(REGISTERED),
            "code",
            "token",
            "id_token",
            "id_token token",
            "login",
            "select_account",
            "0",
            "openid",
            "S256",
            "plain",
            "none",
            "query",
            "fragment",
            "form_post",
            "CLIENT",
            "https://evil.example/cb",
            "https://client.example/cb/",
            "http://127.0.0.1:5/cb",
        ]
    ),
    st.text(max_size=30),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pairs=st.lists(st.tuples(param_names, param_values), max_size=8),
    logged_in=st.booleans(),
    consent=st.sampled_from([None, "approve", "deny"]),
    implicit=st.booleans(),
)
async def test_never_redirects_to_an_unregistered_uri(
    pairs: list[tuple[str, str]], logged_in: bool, consent: str | None, implicit: bool
) -> None:
    """Property: whatever the input, a redirect only ever targets a registered URI."""
    harness = Harness(make_ctx(allow_implicit=implicit))
    client, _ = await harness.client(redirect_uris=sorted(REGISTERED))
    pairs = [(n, client.client_id if v == "CLIENT" else v) for n, v in pairs]
    session = await harness.session() if logged_in else None
    decision = await harness.authorize_pairs(pairs, session, consent)
    if isinstance(decision, Redirect):
        target = decision.location.split("#")[0].split("?")[0]
        assert target in REGISTERED
        assert "access_token" not in urlsplit(decision.location).query
        assert "id_token" not in dict(parse_qsl(urlsplit(decision.location).query))
        params = dict(
            parse_qsl(urlsplit(decision.location).query or urlsplit(decision.location).fragment)
        )
        assert params["iss"] == ISSUER
    elif isinstance(decision, FormPost):
        assert decision.action in REGISTERED
