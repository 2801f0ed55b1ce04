"""Client authentication (RFC 6749 §2.3, §3.2.1; RFC 7523): reading credentials, verifying them,
and the failure throttle (catalog A20)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from joserfc.jwk import ECKey

from tests.core.conftest import Harness, basic
from tests.core.grants.support import confidential, redeem_form
from tokenpath.core.client_assertion import ASSERTION_TYPE
from tokenpath.core.client_auth import (
    ClientAuthError,
    authenticate_client,
    hash_client_secret,
    read_credentials,
)
from tokenpath.core.errors import InvalidRequest, SlowDown
from tokenpath.core.messages import ClientCredentials
from tokenpath.core.records import ClientType, GrantType

pytestmark = pytest.mark.anyio
MACHINE = {"grant_types": [GrantType.CLIENT_CREDENTIALS], "redirect_uris": []}
CHALLENGE = ("WWW-Authenticate", 'Basic realm="tokenpath"')


def b64(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


def unsigned_assertion(sub: str) -> str:
    """Only the payload is read before verification; the signature is checked later."""
    payload = base64.urlsafe_b64encode(json.dumps({"sub": sub}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJFUzI1NiJ9.{payload}.c2ln"


# --- reading: which client, which method (nothing verified yet) -----------------------------


def test_basic_credentials_are_form_urlencoded_before_base64() -> None:
    """RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded, then joined by ':'."""
    client_id, secret = "app:one+two é/", "s3cr%t +x:y"
    credentials = read_credentials({}, basic(client_id, secret))
    assert credentials == ClientCredentials(
        client_id=client_id, client_secret=secret, method="client_secret_basic"
    )


def test_basic_splits_at_the_first_colon() -> None:
    credentials = read_credentials({}, b64(b"app:sec:ret"))
    assert (credentials.client_id, credentials.client_secret) == ("app", "sec:ret")


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!",
        "Bearer abc",
        "Basic",
        "Basic    ",
        b64(b"nocolon"),
        b64(b":secret-without-id"),
        b64(b"\xff\xfe:not-utf-8"),
    ],
)
def test_malformed_basic_is_invalid_client_with_a_challenge(header: str) -> None:
    with pytest.raises(ClientAuthError) as raised:
        read_credentials({}, header)
    assert raised.value.basic and raised.value.status == 401


@pytest.mark.parametrize(
    ("form", "header"),
    [
        ({"client_secret": "x"}, "basic"),
        ({"client_assertion_type": ASSERTION_TYPE, "client_assertion": "a.b.c"}, "basic"),
        (
            {
                "client_id": "app",
                "client_secret": "x",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": "a.b.c",
            },
            None,
        ),
    ],
)
def test_two_methods_at_once_are_refused(form: dict[str, str], header: str | None) -> None:
    """RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request."""
    with pytest.raises(InvalidRequest):
        read_credentials(form, basic("app", "secret") if header else None)


def test_client_id_must_match_the_basic_header() -> None:
    with pytest.raises(InvalidRequest):
        read_credentials({"client_id": "other"}, basic("app", "secret"))
    same = read_credentials({"client_id": "app"}, basic("app", "secret"))
    assert same.client_id == "app"


def test_post_none_and_missing() -> None:
    post = read_credentials({"client_id": "app", "client_secret": "s"}, None)
    assert (post.method, post.client_secret) == ("client_secret_post", "s")
    public = read_credentials({"client_id": "app"}, None)
    assert (public.method, public.client_secret) == ("none", None)
    with pytest.raises(ClientAuthError) as raised:
        read_credentials({}, None)
    assert not raised.value.basic


def test_assertion_reading() -> None:
    token = unsigned_assertion("app")
    form = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": token}
    credentials = read_credentials(form, None)
    assert (credentials.client_id, credentials.method) == ("app", "private_key_jwt")
    assert credentials.assertion == token
    with pytest.raises(ClientAuthError):
        read_credentials({**form, "client_assertion_type": "urn:example:saml"}, None)
    with pytest.raises(InvalidRequest):
        read_credentials({"client_assertion_type": ASSERTION_TYPE}, None)
    not_a_string = base64.urlsafe_b64encode(b'{"sub": 1}').decode()
    for malformed in ("nodots", "a.!!!.c", "a.W10.c", f"a.{not_a_string}.c"):
        with pytest.raises(ClientAuthError):
            read_credentials({**form, "client_assertion": malformed}, None)
    with pytest.raises(ClientAuthError):  # sub is not the client_id the form names
        read_credentials({**form, "client_id": "other"}, None)


# --- verifying -------------------------------------------------------------------------------


async def refused(harness: Harness, credentials: ClientCredentials) -> ClientAuthError:
    with pytest.raises(ClientAuthError) as raised:
        await authenticate_client(credentials, harness.ctx)
    return raised.value


def post(client_id: str, secret: str | None) -> ClientCredentials:
    method = "none" if secret is None else "client_secret_post"
    return ClientCredentials(client_id=client_id, client_secret=secret, method=method)


async def test_each_failure_has_its_own_reason_but_one_wire_answer(harness: Harness) -> None:
    confidential, secret = await harness.client(token_endpoint_auth_method="client_secret_post")
    basic_only, _ = await harness.client()
    public, _ = await harness.client(kind=ClientType.PUBLIC)
    keyed, _ = await harness.client(
        jwks=json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=False)]}), **MACHINE
    )
    assert secret is not None and keyed.token_endpoint_auth_method == "private_key_jwt"
    cases = {
        "bad secret": post(confidential.client_id, secret + "x"),
        "client is registered for client_secret_post": post(confidential.client_id, None),
        "client is registered for client_secret_basic": post(basic_only.client_id, "anything"),
        "public clients do not use a secret": post(public.client_id, "anything"),
        "client is registered for private_key_jwt": post(keyed.client_id, "anything"),
        "unknown client": post("nobody", secret),
    }
    answers = set()
    for reason, credentials in cases.items():
        error = await refused(harness, credentials)
        assert error.detail == reason and not error.basic
        answers.add(json.dumps(error.to_dict()))
    assert len(answers) == 1  # nothing on the wire tells one failure from another
    assert await authenticate_client(post(confidential.client_id, secret), harness.ctx) == (
        confidential
    )
    assert await authenticate_client(post(public.client_id, None), harness.ctx) == public


async def test_public_client_presenting_a_secret_at_the_token_endpoint(harness: Harness) -> None:
    public, _ = await harness.client(kind=ClientType.PUBLIC)
    form = {"grant_type": "authorization_code", "code": "x", "client_id": public.client_id}
    in_body = await harness.token({**form, "client_secret": "made-up"})
    assert (in_body.status, in_body.body["error"]) == (401, "invalid_client")
    assert CHALLENGE not in in_body.headers
    in_header = await harness.token(form, basic(public.client_id, "made-up"))
    assert (in_header.status, in_header.body["error"]) == (401, "invalid_client")
    assert CHALLENGE in in_header.headers  # §5.2: HTTP authentication was attempted


async def test_wrong_secret_at_the_token_endpoint(harness: Harness) -> None:
    client, secret = await harness.client(**MACHINE)
    assert secret is not None
    form = {"grant_type": "client_credentials"}
    wrong = await harness.token(form, basic(client.client_id, secret[:-1]))
    assert (wrong.status, wrong.body["error"]) == (401, "invalid_client")
    assert CHALLENGE in wrong.headers and ("Cache-Control", "no-store") in wrong.headers
    posted = await harness.token(
        {**form, "client_id": client.client_id, "client_secret": secret[:-1]}
    )
    assert posted.status == 401 and CHALLENGE not in posted.headers
    assert (await harness.token(form, basic(client.client_id, secret))).status == 200


async def test_a_client_id_with_reserved_characters_works_through_basic(harness: Harness) -> None:
    """Without form-urlencoding, the ':' in this id would end it early (RFC 6749 §2.3.1)."""
    client, _ = await harness.client(**MACHINE)
    odd = replace(
        client,
        client_id="app:one+two é/",
        secret_hash=hash_client_secret("p@ss:w0rd +%", salt="salt"),
    )
    await harness.ctx.stores.clients.add(odd)
    form = {"grant_type": "client_credentials"}
    assert (await harness.token(form, basic(odd.client_id, "p@ss:w0rd +%"))).status == 200
    raw = b64(f"{odd.client_id}:p@ss:w0rd +%".encode())
    assert (await harness.token(form, raw)).status == 401


# --- throttling ------------------------------------------------------------------------------


async def test_client_secret_guessing_is_throttled(harness: Harness) -> None:
    """Catalog A20: past 50 wrong secrets → 429 with Retry-After; the right secret still works."""
    client, secret = await harness.client(**MACHINE)
    assert secret is not None
    form = {"grant_type": "client_credentials"}
    for _ in range(harness.ctx.policy.client_auth_failures_per_minute):
        wrong = await harness.token(form, basic(client.client_id, "guess"))
        assert wrong.status == 401 and CHALLENGE in wrong.headers
    blocked = await harness.token(form, basic(client.client_id, "guess"))
    assert blocked.status == 429 and blocked.body["error"] == "invalid_client"
    assert ("Retry-After", "2") in blocked.headers  # a token comes back every 60/50 s
    # Knowing a client id is not enough to lock the client out.
    assert (await harness.token(form, basic(client.client_id, secret))).status == 200
    assert (await harness.token(form, basic(client.client_id, "guess"))).status == 429
    harness.clock.advance(60)
    assert (await harness.token(form, basic(client.client_id, "guess"))).status == 401


async def test_success_touches_no_counter(harness: Harness) -> None:
    client, secret = await harness.client(
        token_endpoint_auth_method="client_secret_post", **MACHINE
    )
    assert secret is not None
    for _ in range(3):
        assert await authenticate_client(post(client.client_id, secret), harness.ctx) == client
    assert harness.ctx.stores.rate_limits.rows == {}  # type: ignore[attr-defined]


async def test_unknown_ids_are_throttled_too(harness: Harness) -> None:
    """A search over client ids is shed the same way as a search over secrets."""
    limit = harness.ctx.policy.client_auth_failures_per_minute
    for _ in range(limit):
        await refused(harness, post("nobody", "x"))
    with pytest.raises(SlowDown) as raised:
        await authenticate_client(post("nobody", "x"), harness.ctx)
    assert raised.value.retry_after == 2


async def test_the_registered_auth_method_is_enforced(harness: Harness) -> None:
    """A client_secret_basic client may not send its secret in the body, and vice versa."""
    basic_id, basic_secret, code = await confidential(harness)
    in_body = await harness.token(redeem_form(code, client_id=basic_id, client_secret=basic_secret))
    assert in_body.status == 401 and in_body.body["error"] == "invalid_client"
    assert (await harness.token(redeem_form(code), basic(basic_id, basic_secret))).status == 200
    post, post_secret = await harness.client(token_endpoint_auth_method="client_secret_post")
    assert post_secret is not None
    session = await harness.ctx.stores.sessions.get(
        next(iter(harness.ctx.stores.sessions.rows)),  # type: ignore[attr-defined]
        harness.clock.now(),
    )
    assert session is not None
    code = await harness.code(post, session)
    as_basic = await harness.token(redeem_form(code), basic(post.client_id, post_secret))
    assert as_basic.status == 401 and as_basic.body["error"] == "invalid_client"
