"""Property: whatever the policy combination, tokens go only where policy allows, never in a query.

Client type, allowed grants, server implicit switch, requested response type and mode.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.conftest import VERIFIER, Harness, make_ctx
from tokenpath.core.messages import FormPost, Redirect
from tokenpath.core.pkce import s256
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import InvalidClientMetadata

pytestmark = pytest.mark.anyio

grant_sets = st.sets(
    st.sampled_from([GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT, GrantType.REFRESH_TOKEN]),
    min_size=1,
)


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(list(ClientType)),
    grants=grant_sets,
    server_allows_implicit=st.booleans(),
    response_type=st.sampled_from(["code", "token", "code token", "token code", "id_token token"]),
    response_mode=st.sampled_from([None, "query", "fragment", "form_post"]),
)
async def test_tokens_only_where_policy_allows(
    kind: ClientType,
    grants: set[GrantType],
    server_allows_implicit: bool,
    response_type: str,
    response_mode: str | None,
) -> None:
    harness = Harness(make_ctx(allow_implicit=server_allows_implicit))
    try:
        client, _ = await harness.client(kind=kind, grant_types=sorted(grants))
    except InvalidClientMetadata:
        assume_invalid = GrantType.IMPLICIT in grants and kind is ClientType.CONFIDENTIAL
        assert assume_invalid or (
            GrantType.REFRESH_TOKEN in grants and GrantType.AUTHORIZATION_CODE not in grants
        )
        return
    session = await harness.session()
    params = {
        "response_type": response_type,
        "client_id": client.client_id,
        "state": "s",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    if response_mode:
        params["response_mode"] = response_mode
    decision = await harness.authorize(session, consent="approve", **params)
    if isinstance(decision, FormPost):
        fields = dict(decision.fields)
    else:
        assert isinstance(decision, Redirect)
        parts = urlsplit(decision.location)
        assert "access_token" not in dict(parse_qsl(parts.query)), "a token in a query string"
        fields = dict(parse_qsl(parts.query)) | dict(parse_qsl(parts.fragment))
    token_allowed = (
        server_allows_implicit
        and kind is ClientType.PUBLIC
        and GrantType.IMPLICIT in grants
        and response_type == "token"
        and response_mode != "query"
    )
    code_allowed = GrantType.AUTHORIZATION_CODE in grants and response_type == "code"
    assert ("access_token" in fields) == token_allowed
    assert ("code" in fields) == code_allowed
    assert "refresh_token" not in fields
    if "error" in fields:
        assert fields["error"] in {
            "unsupported_response_type",
            "unauthorized_client",
            "invalid_request",
        }
