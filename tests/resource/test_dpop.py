"""DPoP at the resource server (RFC 9449 §7): the guard's key-binding step, with real proofs."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest

from tests.support.dpop import Prover
from tokenpath.core.dpop_nonces import DpopNonces
from tokenpath.core.errors import InvalidToken
from tokenpath.resource.dpop import DpopOptions, MemoryReplayCache, target_url
from tokenpath.resource.guard import Denial, Guard, RequestFacts, SyncGuard
from tokenpath.resource.validation import AccessToken

pytestmark = pytest.mark.anyio
URL = "https://api.example/notes"
TOKEN = "t0k3n"
ALGS = 'algs="ES256 EdDSA RS256 PS256"'
KEY = Prover()


def token(jkt: str | None = KEY.jkt, scopes: str = "notes:read") -> AccessToken:
    claims: dict[str, Any] = {} if jkt is None else {"cnf": {"jkt": jkt}}
    return AccessToken(
        subject="alice", client_id="app", scopes=frozenset(scopes.split()), expires_at=2**40,
        claims=MappingProxyType(claims), token=TOKEN,
    )  # fmt: skip


class Stub:
    def __init__(self, result: AccessToken | InvalidToken) -> None:
        self.result = result

    async def validate(self, value: str) -> AccessToken | InvalidToken:
        return self.result


class SyncStub:
    def __init__(self, result: AccessToken | InvalidToken) -> None:
        self.result = result

    def validate(self, value: str) -> AccessToken | InvalidToken:
        return self.result


def dpop(proof: str | None, *, scheme: str = "DPoP", url: str = URL, method: str = "GET") -> Any:
    headers = [("authorization", f"{scheme} {TOKEN}")]
    if proof is not None:
        headers.append(("dpop", proof))
    return RequestFacts.of(method, url, headers)


async def denied(guard: Guard, facts: RequestFacts, *needed: str) -> Denial:
    decision = await guard.check(facts, *needed)
    assert isinstance(decision, Denial), decision
    return decision


async def test_a_proof_by_the_tokens_key_is_accepted_once() -> None:
    guard = Guard(Stub(token()), realm="notes")
    proof = KEY.proof("GET", URL, access_token=TOKEN)
    assert isinstance(await guard.check(dpop(proof), "notes:read"), AccessToken)
    again = await denied(guard, dpop(proof))
    assert again.status == 401 and again.body["error"] == "invalid_dpop_proof"
    assert again.headers["WWW-Authenticate"] == (
        'Bearer realm="notes", DPoP realm="notes", error="invalid_dpop_proof", '
        f'error_description="the DPoP proof was already used", {ALGS}'
    )


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: None, "a DPoP proof is required"),
        (lambda: Prover().proof("GET", URL, access_token=TOKEN), "another key"),
        (lambda: KEY.proof("GET", "https://api.example/other", access_token=TOKEN), "htu"),
        (lambda: KEY.proof("POST", URL, access_token=TOKEN), "htm"),
        (lambda: KEY.proof("GET", URL, access_token="another"), "ath"),
        (lambda: KEY.proof("GET", URL), "ath"),
        (lambda: KEY.proof("GET", URL, access_token=TOKEN, iat=time.time() - 600), "expired"),
        (lambda: KEY.proof("GET", URL, access_token=TOKEN, iat=time.time() + 600), "future"),
        (lambda: KEY.proof("GET", URL, access_token=TOKEN, header={"typ": "JWT"}), "typ"),
        (lambda: KEY.proof("GET", URL, access_token=TOKEN, drop=("jti",)), "jti"),
        (lambda: "not.a.proof", "malformed"),
    ],
)
async def test_bad_proofs_are_invalid_dpop_proof(make: Callable[[], str | None], why: str) -> None:
    """Each proof is made when its case runs (a proof made at collection could expire first)."""
    refused = await denied(Guard(Stub(token()), realm="notes"), dpop(make()))
    assert refused.status == 401 and refused.body["error"] == "invalid_dpop_proof"
    assert why in refused.body["error_description"]
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="notes", DPoP realm="notes", error="invalid_dpop_')
    assert challenge.endswith(ALGS)


async def test_two_dpop_headers_are_refused() -> None:
    facts = RequestFacts.of(
        "GET", URL, [("authorization", f"DPoP {TOKEN}"), ("dpop", "a.b.c"), ("dpop", "a.b.c")]
    )
    refused = await denied(Guard(Stub(token())), facts)
    assert refused.body["error"] == "invalid_dpop_proof"


async def test_a_bound_token_as_bearer_and_an_unbound_one_as_dpop_are_invalid_token() -> None:
    as_bearer = await denied(Guard(Stub(token()), realm="r"), dpop(None, scheme="Bearer"))
    assert as_bearer.status == 401 and as_bearer.body["error"] == "invalid_token"
    assert as_bearer.headers["WWW-Authenticate"].startswith('Bearer realm="r", error="invalid_')
    unbound = Guard(Stub(token(jkt=None)), realm="r")
    proof = KEY.proof("GET", URL, access_token=TOKEN)
    as_dpop = await denied(unbound, dpop(proof))
    assert as_dpop.body["error"] == "invalid_token" and "send it as Bearer" in str(as_dpop.body)
    assert as_dpop.headers["WWW-Authenticate"].startswith(
        'Bearer realm="r", DPoP realm="r", error="invalid_token"'
    )


async def test_an_invalid_token_with_dpop_is_answered_in_the_dpop_challenge() -> None:
    guard = Guard(Stub(InvalidToken("the access token has expired")), realm="r")
    refused = await denied(guard, dpop(KEY.proof("GET", URL, access_token=TOKEN)))
    assert refused.headers["WWW-Authenticate"] == (
        'Bearer realm="r", DPoP realm="r", error="invalid_token", '
        f'error_description="the access token has expired", {ALGS}'
    )


async def test_a_missing_scope_of_a_bound_token_is_named_in_the_dpop_challenge() -> None:
    guard = Guard(Stub(token()), realm="r")
    refused = await denied(guard, dpop(KEY.proof("GET", URL, access_token=TOKEN)), "notes:write")
    assert refused.status == 403
    assert refused.headers["WWW-Authenticate"] == (
        'Bearer realm="r", DPoP realm="r", error="insufficient_scope", '
        f'error_description="this call needs scope notes:write", scope="notes:write", {ALGS}'
    )


async def test_resource_server_nonces() -> None:
    """§9: with nonces on, a proof without the current one gets use_dpop_nonce and the nonce."""
    nonces = DpopNonces([b"k" * 32], window=300)
    guard = Guard(Stub(token()), dpop=DpopOptions(nonces=nonces))
    first = await denied(guard, dpop(KEY.proof("GET", URL, access_token=TOKEN)))
    assert first.status == 401 and first.body["error"] == "use_dpop_nonce"
    assert 'error="use_dpop_nonce"' in first.headers["WWW-Authenticate"]
    nonce = first.headers["DPoP-Nonce"]
    assert nonces.accepts(nonce, int(time.time()))
    retried = dpop(KEY.proof("GET", URL, access_token=TOKEN, nonce=nonce))
    assert isinstance(await guard.check(retried), AccessToken)
    stale = dpop(KEY.proof("GET", URL, access_token=TOKEN, nonce="made-up"))
    assert (await denied(guard, stale)).body["error"] == "use_dpop_nonce"


async def test_behind_a_proxy_the_public_url_is_what_proofs_name() -> None:
    inside = "http://10.0.0.7:8000/notes?page=2"
    assert target_url(inside, "https://api.example/") == URL
    proof = KEY.proof("GET", URL, access_token=TOKEN)
    plain = Guard(Stub(token()))
    assert (await denied(plain, dpop(proof, url=inside))).body["error"] == "invalid_dpop_proof"
    proxied = Guard(Stub(token()), dpop=DpopOptions(public_url="https://api.example"))
    assert isinstance(await proxied.check(dpop(proof, url=inside)), AccessToken)


async def test_dpop_only_and_bearer_only_apis() -> None:
    only_dpop = Guard(Stub(token(jkt=None)), realm="r", dpop=DpopOptions(required=True))
    bare = await denied(only_dpop, RequestFacts.of("GET", URL, []))
    assert bare.headers["WWW-Authenticate"] == f'DPoP realm="r", {ALGS}'
    bearer = await denied(only_dpop, dpop(None, scheme="Bearer"))
    assert bearer.body["error"] == "invalid_token"
    assert bearer.headers["WWW-Authenticate"].startswith('DPoP realm="r", error="invalid_token"')
    only_bearer = Guard(Stub(token()), realm="r", dpop=False)
    ignored = await denied(only_bearer, dpop(KEY.proof("GET", URL, access_token=TOKEN)))
    assert ignored.headers["WWW-Authenticate"] == 'Bearer realm="r"' and ignored.status == 401


def test_the_sync_guard_checks_proofs_the_same() -> None:
    guard = SyncGuard(SyncStub(token()), realm="notes")
    proof = KEY.proof("GET", URL, access_token=TOKEN)
    assert isinstance(guard.check(dpop(proof)), AccessToken)
    again = guard.check(dpop(proof))
    assert isinstance(again, Denial) and again.body["error"] == "invalid_dpop_proof"
    other = guard.check(dpop(Prover().proof("GET", URL, access_token=TOKEN)))
    assert isinstance(other, Denial) and "another key" in other.body["error_description"]


class SharedCache:
    """An async replay cache two API processes would share (Redis, SQL): one dict here."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    async def first_use(self, key: str, expires_at: int, now: int) -> bool:
        if self.seen.get(key, 0) > now:
            return False
        self.seen[key] = expires_at
        return True


async def test_a_shared_replay_cache_refuses_a_proof_replayed_to_another_process() -> None:
    shared = SharedCache()
    one, two = (Guard(Stub(token()), dpop=DpopOptions(replay=shared)) for _ in range(2))
    proof = KEY.proof("GET", URL, access_token=TOKEN)
    assert isinstance(await one.check(dpop(proof)), AccessToken)
    assert (await denied(two, dpop(proof))).body["error"] == "invalid_dpop_proof"
    with pytest.raises(TypeError, match="synchronous"):
        SyncGuard(SyncStub(token()), dpop=DpopOptions(replay=shared)).check(dpop(proof))


def test_the_memory_replay_cache_is_bounded_and_expires() -> None:
    cache = MemoryReplayCache(max_entries=2)
    assert cache.first_use("a", 100, 0) and not cache.first_use("a", 100, 50)
    assert cache.first_use("a", 200, 100)  # expired: a new entry
    cache.first_use("b", 300, 100)
    cache.first_use("c", 300, 100)
    assert cache.first_use("a", 300, 100)  # the oldest went first
