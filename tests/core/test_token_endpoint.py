"""The token endpoint (RFC 6749 §3.2, §5): parsing, dispatch on the grant rows, the one
permission check, and the §5.2 error envelope. Each grant's own rules are tested in
``tests/core/grants/``."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.conftest import CB, VERIFIER, Harness, basic, make_ctx
from tests.core.grants.support import confidential, redeem_form
from tokenpath.core.grants.registry import GRANTS, GrantSpec
from tokenpath.core.messages import BackchannelRequest
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.token_endpoint import token

pytestmark = pytest.mark.anyio
SECTION_5_2 = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
}
OFFERED = [spec.grant_type for spec in GRANTS if spec.handler is not None]


@pytest.mark.parametrize(
    "grant_type",
    ["password", "implicit", "urn:ietf:params:oauth:grant-type:device_code", "CLIENT_CREDENTIALS"],
)
@pytest.mark.parametrize("allow_implicit", [False, True])
async def test_grants_without_a_handler_are_unsupported_before_client_auth(
    grant_type: str, allow_implicit: bool
) -> None:
    """ROPC has no row (RFC 9700 §2.4); implicit has a row but no token-endpoint handler. The
    client is not even looked up: an unknown client id still gets ``unsupported_grant_type``."""
    harness = Harness(make_ctx(allow_implicit=allow_implicit))
    response = await harness.token(
        {"grant_type": grant_type, "username": "alice", "password": "correct horse"},
        basic("nobody", "nothing"),
    )
    assert (response.status, response.body["error"]) == (400, "unsupported_grant_type")
    assert ("Cache-Control", "no-store") in response.headers


@pytest.mark.parametrize("grant_type", OFFERED)
async def test_a_client_without_the_grant_is_unauthorized(
    harness: Harness, grant_type: str
) -> None:
    """Checked once, from the row, before the handler reads anything: even with no other
    parameter the answer is ``unauthorized_client``, never the handler's ``invalid_request``."""
    implicit_only, _ = await harness.client(
        kind=ClientType.PUBLIC, grant_types=[GrantType.IMPLICIT]
    )
    response = await harness.token({"grant_type": grant_type, "client_id": implicit_only.client_id})
    assert (response.status, response.body["error"]) == (400, "unauthorized_client")
    assert ("Cache-Control", "no-store") in response.headers


@pytest.mark.parametrize(
    "spec",
    [
        s
        for s in GRANTS
        if s.handler is not None and not (s.public_clients and s.confidential_clients)
    ],
    ids=lambda s: str(s.grant_type),
)
async def test_a_client_of_a_type_the_row_forbids_is_unauthorized(
    harness: Harness, spec: GrantSpec
) -> None:
    """RFC 6749 §4.4 (client credentials: confidential clients only). Registration already
    refuses such a client; a record that lists the grant anyway (an older rule, a hand-edited
    database) still gets nothing from the token endpoint."""
    kind = ClientType.CONFIDENTIAL if spec.public_clients else ClientType.PUBLIC
    client, secret = await harness.client(kind=kind)
    listed = replace(client, grant_types=(*client.grant_types, GrantType(spec.grant_type)))
    await harness.ctx.stores.clients.update(listed)
    auth = basic(client.client_id, secret) if secret else None
    form = {"grant_type": spec.grant_type, "client_id": client.client_id}
    response = await harness.token(form, auth)
    assert (response.status, response.body["error"]) == (400, "unauthorized_client")


async def test_success_is_the_5_1_body_with_no_store(harness: Harness) -> None:
    client, secret = await harness.client()
    response = await harness.redeem(client, secret, await harness.session())
    assert response.status == 200
    # the client's default scopes include openid: OIDC Core §3.1.3.3 adds the id_token
    assert list(response.body) == ["access_token", "token_type", "expires_in", "scope", "id_token"]
    assert ("Cache-Control", "no-store") in response.headers
    assert ("Pragma", "no-cache") in response.headers


async def test_duplicate_parameters_and_malformed_basic(harness: Harness) -> None:
    client_id, secret, code = await confidential(harness)
    pairs = (*redeem_form(code).items(), ("code", code))
    dup = await token(
        BackchannelRequest(form=pairs, authorization=basic(client_id, secret)), ctx=harness.ctx
    )
    assert dup.body["error"] == "invalid_request"
    for header in [
        "Basic !!!",
        "Bearer abc",
        "Basic " + base64.b64encode(b"nocolon").decode(),
        "Basic",
    ]:
        response = await harness.token(redeem_form(code), header)
        assert response.status == 401 and response.body["error"] == "invalid_client"


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    form=st.dictionaries(
        st.sampled_from(
            [
                "grant_type",
                "code",
                "redirect_uri",
                "code_verifier",
                "client_id",
                "client_secret",
                "scope",
                "refresh_token",
            ]
        ),
        st.one_of(
            st.sampled_from(
                [
                    "authorization_code",
                    "password",
                    "CODE",
                    "CLIENT",
                    "SECRET",
                    CB,
                    VERIFIER,
                    "refresh_token",
                ]
            ),
            st.text(max_size=50),
        ),
        max_size=7,
    ),
    auth=st.sampled_from([None, "basic", "garbage"]),
)
async def test_any_token_request_gives_a_token_or_a_5_2_error(
    form: dict[str, str], auth: str | None
) -> None:
    harness = Harness(make_ctx())
    client_id, secret, code = await confidential(harness)
    replace = {"CODE": code, "CLIENT": client_id, "SECRET": secret}
    form = {k: replace.get(v, v) for k, v in form.items()}
    header = {None: None, "basic": basic(client_id, secret), "garbage": "Basic %%%"}[auth]
    response = await harness.token(form, header)
    assert ("Cache-Control", "no-store") in response.headers
    if response.status == 200:
        assert {"access_token", "token_type", "expires_in"} <= set(response.body)
    else:
        assert response.body["error"] in SECTION_5_2
        assert response.status == (401 if response.body["error"] == "invalid_client" else 400)
        json.dumps(response.body)
