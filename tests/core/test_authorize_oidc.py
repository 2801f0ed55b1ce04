"""OpenID Connect at the authorization endpoint (Core §3.1.2, §3.2.2): nonce, prompt, max_age,
login_hint, and the ``id_token`` / ``id_token token`` responses."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.core.conftest import CB, ISSUER, VERIFIER, Harness, fragment, make_ctx, query
from tokenpath.core import authorize as authorize_module
from tokenpath.core.clock import hash_token
from tokenpath.core.login import login
from tokenpath.core.messages import ConsentPrompt, FormPost, LoginPrompt, Redirect
from tokenpath.core.pkce import s256
from tokenpath.core.records import Client, ClientType, GrantType, Session

pytestmark = pytest.mark.anyio
IMPLICIT_CB = "https://spa.example/cb"


async def id_claims(harness: Harness, token: str) -> dict[str, Any]:
    jwks = KeySet.import_key_set(await harness.ctx.signer.jwks())  # type: ignore[arg-type]
    decoded = jwt.decode(token, jwks, algorithms=["ES256"])
    assert decoded.header["typ"] == "JWT"
    return dict(decoded.claims)


def code_params(client: Client, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": CB,
        "scope": "openid",
        "state": "st",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        **extra,
    }


async def consented(harness: Harness) -> tuple[Client, Session]:
    """A client the signed-in user has already approved for ``openid``."""
    client, _ = await harness.client()
    session = await harness.session()
    decision = await harness.authorize(session, consent="approve", **code_params(client))
    assert isinstance(decision, Redirect)
    return client, session


async def sign_in_again(harness: Harness) -> Session:
    result = await login("alice", "correct horse", ctx=harness.ctx)
    assert isinstance(result, tuple)
    return result[1]


async def implicit() -> tuple[Harness, Client, Session]:
    harness = Harness(make_ctx(allow_implicit=True))
    client, _ = await harness.client(
        kind=ClientType.PUBLIC, redirect_uris=[IMPLICIT_CB], grant_types=[GrantType.IMPLICIT]
    )
    return harness, client, await harness.session()


def implicit_params(client: Client, response_type: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": response_type,
        "client_id": client.client_id,
        "scope": "openid profile",
        "state": "st",
        "nonce": "n-0S6_WzA2Mj",
        **extra,
    }


# --- nonce -------------------------------------------------------------------------------------


@pytest.mark.parametrize("response_type", ["id_token", "id_token token", "token id_token"])
async def test_nonce_is_required_when_an_id_token_comes_from_authorize(response_type: str) -> None:
    """Core §3.2.2.1: without it an intercepted ID token could be replayed into the client."""
    harness, client, session = await implicit()
    params = implicit_params(client, response_type)
    del params["nonce"]
    decision = await harness.authorize(session, consent="approve", **params)
    assert isinstance(decision, Redirect) and urlsplit(decision.location).query == ""
    got = fragment(decision)
    assert got["error"] == "invalid_request" and "nonce" in got["error_description"]
    assert got["state"] == "st" and got["iss"] == ISSUER


async def test_nonce_is_optional_for_code_and_kept_on_the_code(harness: Harness) -> None:
    client, session = await consented(harness)
    decision = await harness.authorize(session, **code_params(client, nonce="abc"))
    assert isinstance(decision, Redirect)
    stored = await harness.ctx.stores.codes.get(hash_token(query(decision)["code"]))
    assert stored is not None and stored.nonce == "abc"


async def test_an_over_long_nonce_is_invalid_request(harness: Harness) -> None:
    client, session = await consented(harness)
    decision = await harness.authorize(session, **code_params(client, nonce="n" * 513))
    assert isinstance(decision, Redirect) and query(decision)["error"] == "invalid_request"
    decision = await harness.authorize(session, **code_params(client, nonce="n" * 512))
    assert isinstance(decision, Redirect) and "code" in query(decision)


@pytest.mark.parametrize("response_type", ["id_token", "id_token token"])
async def test_an_id_token_needs_the_openid_scope(response_type: str) -> None:
    harness, client, session = await implicit()
    params = implicit_params(client, response_type, scope="profile")
    decision = await harness.authorize(session, consent="approve", **params)
    assert isinstance(decision, Redirect)
    assert fragment(decision)["error"] == "invalid_request"
    assert "id_token" not in fragment(decision)


# --- the id_token responses --------------------------------------------------------------------


async def test_id_token_alone_carries_the_user_claims_and_no_at_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Core §5.4: with no access token to call userinfo with, the claims ride in the ID token."""
    harness, client, session = await implicit()
    asked: list[tuple[str, ...]] = []

    def claims_for(user: object, scopes: tuple[str, ...]) -> dict[str, object]:
        asked.append(tuple(scopes))
        return {"name": "Alice Example"}

    monkeypatch.setattr(authorize_module, "claims_for", claims_for)
    decision = await harness.authorize(
        session, consent="approve", **implicit_params(client, "id_token")
    )
    assert isinstance(decision, Redirect) and decision.location.startswith(IMPLICIT_CB + "#")
    got = fragment(decision)
    assert set(got) == {"id_token", "state", "iss"}
    claims = await id_claims(harness, got["id_token"])
    assert claims["nonce"] == "n-0S6_WzA2Mj" and claims["aud"] == client.client_id
    assert claims["sub"] == session.user_id and claims["auth_time"] == session.auth_time
    assert claims["name"] == "Alice Example" and "at_hash" not in claims
    assert asked == [("openid", "profile")]


async def test_id_token_token_binds_the_access_token_by_at_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Core §3.2.2.9-10: ``at_hash`` is what makes an injected access token detectable."""
    harness, client, session = await implicit()
    monkeypatch.setattr(authorize_module, "claims_for", lambda user, scopes: {"name": "A"})
    decision = await harness.authorize(
        session, consent="approve", **implicit_params(client, "id_token token")
    )
    assert isinstance(decision, Redirect)
    got = fragment(decision)
    assert set(got) == {
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "id_token",
        "state",
        "iss",
    }
    assert got["token_type"] == "Bearer" and got["scope"] == "openid profile"
    claims = await id_claims(harness, got["id_token"])
    digest = hashlib.sha256(got["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")
    assert claims["nonce"] == "n-0S6_WzA2Mj" and claims["sid"] == session.sid
    assert "name" not in claims  # the access token reaches userinfo (§5.4)
    assert await harness.ctx.signer.verify(got["access_token"]) is not None


async def test_id_token_in_form_post_and_never_in_the_query() -> None:
    harness, client, session = await implicit()
    params = implicit_params(client, "id_token", response_mode="form_post")
    decision = await harness.authorize(session, consent="approve", **params)
    assert isinstance(decision, FormPost) and decision.action == IMPLICIT_CB
    assert [name for name, _ in decision.fields] == ["id_token", "state", "iss"]
    params = implicit_params(client, "id_token", response_mode="query")
    decision = await harness.authorize(session, consent="approve", **params)
    assert isinstance(decision, Redirect) and urlsplit(decision.location).query == ""
    assert fragment(decision)["error"] == "invalid_request"


@pytest.mark.parametrize("response_type", ["id_token", "id_token token"])
async def test_id_token_responses_follow_the_implicit_switch(response_type: str) -> None:
    harness = Harness(make_ctx())
    client, _ = await harness.client(kind=ClientType.PUBLIC)
    decision = await harness.authorize(
        await harness.session(), consent="approve", **implicit_params(client, response_type)
    )
    assert isinstance(decision, Redirect)
    assert fragment(decision)["error"] == "unsupported_response_type"


@pytest.mark.parametrize("response_type", ["code id_token", "code token", "code id_token token"])
async def test_hybrid_is_refused_in_the_fragment(response_type: str) -> None:
    harness, client, session = await implicit()
    decision = await harness.authorize(
        session, consent="approve", **implicit_params(client, response_type)
    )
    assert isinstance(decision, Redirect) and urlsplit(decision.location).query == ""
    assert fragment(decision)["error"] == "unsupported_response_type"


async def test_acr_values_are_accepted_and_no_acr_is_claimed(harness: Harness) -> None:
    """Core §5.5.1.1: voluntary acr_values are best effort; we implement no acr at all."""
    client, session = await consented(harness)
    decision = await harness.authorize(session, **code_params(client, acr_values="urn:mace:x"))
    assert isinstance(decision, Redirect) and "code" in query(decision)


# --- prompt ------------------------------------------------------------------------------------


async def test_prompt_none_matrix(harness: Harness) -> None:
    """Core §3.1.2.6: each reason the user would be asked is its own error, with state and iss."""
    client, _ = await harness.client()
    anonymous = await harness.authorize(None, **code_params(client, prompt="none"))
    assert isinstance(anonymous, Redirect)
    assert query(anonymous) == {
        "error": "login_required",
        "error_description": "the user is not signed in",
        "state": "st",
        "iss": ISSUER,
    }
    session = await harness.session()
    no_consent = await harness.authorize(session, **code_params(client, prompt="none"))
    assert isinstance(no_consent, Redirect) and query(no_consent)["error"] == "consent_required"
    await harness.authorize(session, consent="approve", **code_params(client))
    harness.clock.advance(61)
    stale = await harness.authorize(session, **code_params(client, prompt="none", max_age="60"))
    assert isinstance(stale, Redirect) and query(stale)["error"] == "login_required"
    assert query(stale)["state"] == "st" and query(stale)["iss"] == ISSUER
    silent = await harness.authorize(session, **code_params(client, prompt="none", max_age="61"))
    assert isinstance(silent, Redirect) and "code" in query(silent)


async def test_prompt_login_asks_again_and_resumes_without_looping(harness: Harness) -> None:
    client, session = await consented(harness)
    params = code_params(client, prompt="login")
    prompt = await harness.authorize(session, **params)
    assert isinstance(prompt, LoginPrompt) and prompt.resume is not None
    resumed = dict(prompt.resume)
    assert "prompt" not in resumed
    assert resumed == {k: v for k, v in params.items() if k != "prompt"}
    harness.clock.advance(5)
    fresh = await sign_in_again(harness)
    decision = await harness.authorize_pairs(prompt.resume, fresh, None)
    assert isinstance(decision, Redirect) and "code" in query(decision)
    stored = await harness.ctx.stores.codes.get(hash_token(query(decision)["code"]))
    assert stored is not None and stored.auth_time == fresh.auth_time > session.auth_time


@pytest.mark.parametrize(
    ("prompt", "kept"),
    [("login consent", "consent"), ("login select_account", None), ("consent login", "consent")],
)
async def test_prompt_login_keeps_the_other_prompts(
    harness: Harness, prompt: str, kept: str | None
) -> None:
    client, session = await consented(harness)
    decision = await harness.authorize(session, **code_params(client, prompt=prompt))
    assert isinstance(decision, LoginPrompt) and decision.resume is not None
    assert dict(decision.resume).get("prompt") == kept
    after = await harness.authorize_pairs(decision.resume, await sign_in_again(harness), None)
    assert isinstance(after, ConsentPrompt if kept == "consent" else Redirect)


@pytest.mark.parametrize("prompt", ["select_account", "select_account consent"])
async def test_select_account_without_login_is_account_selection_required(
    harness: Harness, prompt: str
) -> None:
    client, session = await consented(harness)
    decision = await harness.authorize(session, **code_params(client, prompt=prompt))
    assert isinstance(decision, Redirect)
    got = query(decision)
    assert got["error"] == "account_selection_required"
    assert got["state"] == "st" and got["iss"] == ISSUER


async def test_prompt_login_without_a_session_is_the_ordinary_login(harness: Harness) -> None:
    client, _ = await harness.client()
    decision = await harness.authorize(None, **code_params(client, prompt="login"))
    assert isinstance(decision, LoginPrompt)


# --- max_age -----------------------------------------------------------------------------------


async def test_max_age_exceeded_asks_for_sign_in_once(harness: Harness) -> None:
    client, session = await consented(harness)
    harness.clock.advance(100)
    within = await harness.authorize(session, **code_params(client, max_age="100"))
    assert isinstance(within, Redirect) and "code" in query(within)
    prompt = await harness.authorize(session, **code_params(client, max_age="99"))
    assert isinstance(prompt, LoginPrompt) and prompt.resume is not None
    assert "max_age" not in dict(prompt.resume)
    harness.clock.advance(3)  # the user types slowly; max_age=99 is still met by the new sign-in
    fresh = await sign_in_again(harness)
    decision = await harness.authorize_pairs(prompt.resume, fresh, None)
    assert isinstance(decision, Redirect) and "code" in query(decision)


async def test_max_age_zero_always_asks(harness: Harness) -> None:
    client, session = await consented(harness)
    harness.clock.advance(1)
    decision = await harness.authorize(session, **code_params(client, max_age="0"))
    assert isinstance(decision, LoginPrompt)


@pytest.mark.parametrize("value", ["-1", "1.5", "abc", " 5", "\uff15", "1" * 11])
async def test_max_age_must_be_a_non_negative_integer(harness: Harness, value: str) -> None:
    client, session = await consented(harness)
    decision = await harness.authorize(session, **code_params(client, max_age=value))
    assert isinstance(decision, Redirect)
    assert query(decision)["error"] == "invalid_request"


# --- login_hint --------------------------------------------------------------------------------


async def test_login_hint_reaches_the_sign_in_prompt(harness: Harness) -> None:
    client, _ = await harness.client()
    decision = await harness.authorize(None, **code_params(client, login_hint="alice"))
    assert isinstance(decision, LoginPrompt) and decision.login_hint == "alice"
    unhinted = await harness.authorize(None, **code_params(client))
    assert isinstance(unhinted, LoginPrompt) and unhinted.login_hint is None


async def test_an_over_long_login_hint_is_invalid_request(harness: Harness) -> None:
    client, _ = await harness.client()
    decision = await harness.authorize(None, **code_params(client, login_hint="a" * 256))
    assert isinstance(decision, Redirect) and query(decision)["error"] == "invalid_request"


async def test_the_resumed_request_keeps_everything_else_in_order(harness: Harness) -> None:
    """Only ``prompt=login`` goes; the sign-in page replays the rest through validation again."""
    client, session = await consented(harness)
    decision = await harness.authorize(session, **code_params(client, prompt="login"))
    assert isinstance(decision, LoginPrompt) and decision.resume is not None
    names = [name for name, _ in decision.resume]
    assert names == [n for n in code_params(client) if n != "prompt"]
