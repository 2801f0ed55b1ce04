"""The response-type rows: tied to their grants, delivered in their modes, and the way
``/authorize`` actually answers agrees with them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.core.conftest import VERIFIER, Harness, fragment, make_ctx, query
from tokenpath.core.messages import FormPost, Redirect
from tokenpath.core.pkce import s256
from tokenpath.core.records import ClientType, GrantType, ResponseType
from tokenpath.core.response_modes import ResponseMode
from tokenpath.core.response_types import (
    RESPONSE_TYPES,
    ResponseTypeSpec,
    response_type_spec,
    supported_response_types,
)

pytestmark = pytest.mark.anyio
ANSWER = {
    ResponseType.CODE: "code",
    ResponseType.TOKEN: "access_token",
    ResponseType.ID_TOKEN: "id_token",
    ResponseType.ID_TOKEN_TOKEN: "id_token",
}
"""The parameter that carries each response type's answer."""
IMPLICIT_TYPES = ["token", "id_token", "id_token token"]


def test_rows_and_vocabulary_agree() -> None:
    assert [s.response_type for s in RESPONSE_TYPES] == list(ResponseType)
    for spec in RESPONSE_TYPES:
        assert spec.grant.grant_type == spec.grant_type
        assert spec.default_mode in spec.modes
    for hybrid in ("code token", "code id_token", "code id_token token", "id_token code"):
        assert response_type_spec(hybrid) is None, hybrid


def test_value_order_does_not_matter_and_values_count_once() -> None:
    """OAuth 2.0 Multiple Response Type Encoding Practices §2: a space-separated set."""
    spec = response_type_spec("token id_token")
    assert spec is not None and spec.response_type == ResponseType.ID_TOKEN_TOKEN
    for bogus in ("token token", "id_token id_token token", "", " token", "token "):
        assert response_type_spec(bogus) is None, bogus


def test_id_token_rows_never_use_the_query_and_say_what_they_return() -> None:
    """OIDC Core §3.2.2.5: implicit responses use the fragment; ``returns`` drives delivery."""
    returns = {str(s.response_type): s.returns for s in RESPONSE_TYPES}
    assert returns == {
        "code": ("code",),
        "token": ("access_token",),
        "id_token": ("id_token",),
        "id_token token": ("access_token", "id_token"),
    }
    for spec in RESPONSE_TYPES:
        if spec.returns_id_token or "access_token" in spec.returns:
            assert spec.grant_type == GrantType.IMPLICIT
            assert ResponseMode.QUERY not in spec.modes


def test_tokens_never_travel_in_the_query() -> None:
    """OAuth 2.0 Multiple Response Type Encoding Practices §3.0; RFC 6749 §4.2.2."""
    token = response_type_spec(ResponseType.TOKEN)
    assert token is not None and token.default_mode is ResponseMode.FRAGMENT
    assert ResponseMode.QUERY not in token.modes


def test_token_follows_the_implicit_switch() -> None:
    policy = make_ctx().policy
    assert supported_response_types(policy) == ["code"]
    implicit = replace(policy, allow_implicit=True)
    assert supported_response_types(implicit) == ["code", *IMPLICIT_TYPES]


async def test_token_is_for_public_implicit_clients_only(harness: Harness) -> None:
    token = response_type_spec(ResponseType.TOKEN)
    code = response_type_spec(ResponseType.CODE)
    assert token is not None and code is not None
    spa, _ = await harness.client(
        kind=ClientType.PUBLIC, grant_types=[GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT]
    )
    assert token.permits(spa) and code.permits(spa)
    web, _ = await harness.client()
    assert code.permits(web) and not token.permits(web)
    # a record listing what registration would refuse still gets nothing
    assert not token.permits(replace(web, response_types=(ResponseType.CODE, ResponseType.TOKEN)))
    code_only = replace(spa, grant_types=(GrantType.AUTHORIZATION_CODE,))
    assert not token.permits(code_only)


async def answer(harness: Harness, spec: ResponseTypeSpec, mode: ResponseMode | None) -> object:
    client, _ = await harness.client(
        kind=ClientType.PUBLIC, grant_types=[GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT]
    )
    params = {
        "response_type": str(spec.response_type),
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "state": "s1",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    if spec.response_type is not ResponseType.CODE:
        del params["code_challenge"], params["code_challenge_method"]
    if spec.returns_id_token:
        params.update(scope="openid", nonce="n-1")
    if mode is not None:
        params["response_mode"] = str(mode)
    return await harness.authorize(await harness.session(), consent="approve", **params)


@pytest.mark.parametrize("spec", RESPONSE_TYPES, ids=lambda s: str(s.response_type))
async def test_authorize_delivers_in_the_rows_modes(spec: ResponseTypeSpec) -> None:
    harness = Harness(make_ctx(allow_implicit=True))
    decision = await answer(harness, spec, None)
    assert isinstance(decision, Redirect)
    read = query if spec.default_mode is ResponseMode.QUERY else fragment
    assert ANSWER[ResponseType(spec.response_type)] in read(decision)
    for mode in ResponseMode:
        harness = Harness(make_ctx(allow_implicit=True))
        decision = await answer(harness, spec, mode)
        if mode not in spec.modes:
            assert isinstance(decision, Redirect) and "access_token" not in decision.location
            assert fragment(decision)["error"] == "invalid_request"
        elif mode is ResponseMode.FORM_POST:
            assert isinstance(decision, FormPost)
            assert ANSWER[ResponseType(spec.response_type)] in dict(decision.fields)
        else:
            assert isinstance(decision, Redirect)
            read = query if mode is ResponseMode.QUERY else fragment
            assert ANSWER[ResponseType(spec.response_type)] in read(decision)
