"""The guard alone: one decision table for every adapter, and the key-binding step."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from tokenpath.core.errors import InvalidToken
from tokenpath.resource.guard import (
    Denial,
    Guard,
    Presented,
    RequestFacts,
    SyncGuard,
    deny,
    read_credentials,
)
from tokenpath.resource.validation import AccessToken

pytestmark = pytest.mark.anyio
URL = "https://api.example/notes"


def facts(*headers: tuple[str, str], url: str = URL) -> RequestFacts:
    return RequestFacts.of("get", url, headers)


def token(scopes: str = "notes:read", **claims: Any) -> AccessToken:
    return AccessToken(
        subject="alice", client_id="app", scopes=frozenset(scopes.split()), expires_at=2**40,
        claims=MappingProxyType(claims), token="t0k3n",
    )  # fmt: skip


class Stub:
    def __init__(self, result: AccessToken | InvalidToken) -> None:
        self.result = result
        self.seen: list[str] = []

    async def validate(self, value: str) -> AccessToken | InvalidToken:
        self.seen.append(value)
        return self.result


class SyncStub(Stub):
    def validate(self, value: str) -> AccessToken | InvalidToken:  # type: ignore[override]
        self.seen.append(value)
        return self.result


def test_facts_normalise_the_method_and_header_names() -> None:
    read = RequestFacts.of("post", URL, [("Authorization", "Bearer a"), ("X-Other", "1")])
    assert read.method == "POST" and read.header_values("authorization") == ["Bearer a"]


@pytest.mark.parametrize(
    ("request_facts", "expected"),
    [
        (facts(), None),
        (facts(("authorization", "Bearer abc")), Presented(scheme="Bearer", token="abc")),
        (facts(("authorization", "Basic abc")), None),
        (facts(("authorization", "Bearer a b")), "invalid_request"),
        (facts(("authorization", "Bearer a"), ("authorization", "Bearer a")), "invalid_request"),
        (facts(url=URL + "?access_token=abc"), "invalid_request"),
        (facts(("authorization", "Bearer abc"), url=URL + "?access_token=abc"), "invalid_request"),
    ],
)
def test_reading_credentials(request_facts: RequestFacts, expected: object) -> None:
    presented = read_credentials(request_facts)
    if isinstance(expected, str):
        assert getattr(presented, "error", None) == expected
    else:
        assert presented == expected


def test_a_query_token_is_a_401_not_a_400() -> None:
    presented = read_credentials(facts(url=URL + "?access_token=abc"))
    assert getattr(presented, "status", None) == 401


async def test_the_four_steps() -> None:
    guard = Guard(Stub(token("notes:read")), realm="notes", dpop=False)
    assert isinstance(
        await guard.check(facts(("authorization", "Bearer abc")), "notes:read"), AccessToken
    )
    denied = await guard.check(facts(("authorization", "Bearer abc")), "notes:read", "notes:write")
    assert isinstance(denied, Denial) and denied.status == 403
    assert denied.headers["WWW-Authenticate"].endswith('scope="notes:read notes:write"')
    bare = await guard.check(facts(), "notes:read")
    assert isinstance(bare, Denial) and bare.status == 401
    assert bare.headers == {"WWW-Authenticate": 'Bearer realm="notes"', "Cache-Control": "no-store"}
    assert "error" not in bare.body


async def test_an_invalid_token_is_refused_with_its_reason() -> None:
    guard = Guard(Stub(InvalidToken("the access token has expired")), realm="r")
    denied = await guard.check(facts(("authorization", "Bearer abc")))
    assert isinstance(denied, Denial) and denied.status == 401
    assert denied.body == {
        "error": "invalid_token",
        "error_description": "the access token has expired",
    }


async def test_a_key_bound_token_presented_as_bearer_is_refused() -> None:
    """RFC 9449 §7.2: a DPoP-bound token (cnf.jkt) must come with its proof."""
    bound = token(cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})
    for guard in (Guard(Stub(bound)), SyncGuard(SyncStub(bound))):
        outcome = guard.authenticate(facts(("authorization", "Bearer abc")))
        if not isinstance(guard, SyncGuard):
            outcome = await outcome  # type: ignore[misc]
        assert isinstance(outcome, InvalidToken) and "bound to a key" in outcome.description
    other_cnf = token(cnf={"x5t#S256": "abc"})  # mTLS binding is not DPoP's business here
    assert isinstance(
        await Guard(Stub(other_cnf)).check(facts(("authorization", "Bearer abc"))), AccessToken
    )


def test_the_sync_guard_decides_the_same() -> None:
    stub = SyncStub(token("notes:read"))
    guard = SyncGuard(stub, realm="notes", dpop=False)
    assert isinstance(
        guard.check(facts(("authorization", "Bearer abc")), "notes:read"), AccessToken
    )
    denied = guard.check(facts(("authorization", "Bearer abc")), "notes:write")
    assert isinstance(denied, Denial) and denied.status == 403
    assert guard.check(facts()) == deny(None, realm="notes")
    assert stub.seen == ["abc", "abc"]  # no token, no validation
