"""The DPoP proof checker (RFC 9449 §4.3): the RFC's examples, each way a proof can be wrong, and
fuzzing that finds no input that escapes as anything but the two DPoP errors."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.jwk import OctKey

from tests.support.dpop import Prover, b64
from tokenpath.core.dpop import (
    DPOP_ALGS,
    MAX_PROOF_LENGTH,
    access_token_hash,
    normalize_htu,
    refuse_replay,
    single_proof,
    verify_proof,
)
from tokenpath.core.errors import InvalidDpopProof, UseDpopNonce
from tokenpath.storage.memory import MemoryReplayCache

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "rfc9449.json").read_text())
URL = "https://as.example/token"
NOW = 1_700_000_000
ES256 = Prover("ES256")


def check(proof: str, **options: Any) -> Any:
    arguments: dict[str, Any] = {"method": "POST", "url": URL, "now": NOW, **options}
    return verify_proof(proof, **arguments)


def refused(proof: str, reason: str, **options: Any) -> None:
    with pytest.raises(InvalidDpopProof) as caught:
        check(proof, **options)
    assert caught.value.error == "invalid_dpop_proof" and caught.value.status == 400
    assert reason in caught.value.description


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    encode = lambda value: b64(json.dumps(value).encode())  # noqa: E731
    return f"{encode(header)}.{encode(claims)}.{signature}"


# --- RFC 9449 examples ----------------------------------------------------------------------


def test_the_rfc_example_proof_verifies_and_names_its_key() -> None:
    """§4.2 Figure 2 (the proof) and §6.1 Figure 9 (its key's thumbprint in ``cnf.jkt``)."""
    example = VECTORS["token_request_proof"]
    proof = check(example["proof"], method="POST", url=example["htu"], now=example["iat"])
    assert proof.jkt == example["jkt"]
    assert (proof.htm, proof.htu, proof.jti) == ("POST", example["htu"], example["jti"])


def test_the_rfc_example_proof_is_only_good_where_it_was_made() -> None:
    example = VECTORS["token_request_proof"]
    with pytest.raises(InvalidDpopProof):
        check(example["proof"], url="https://server.example.com/other", now=example["iat"])
    with pytest.raises(InvalidDpopProof, match="expired"):
        check(example["proof"], url=example["htu"], now=example["iat"] + 61)


def test_ath_is_the_rfc_example_hash() -> None:
    """§7.1 Figure 13: ``ath`` of the example access token."""
    example = VECTORS["access_token_hash"]
    assert access_token_hash(example["access_token"]) == example["ath"]


# --- a good proof ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", DPOP_ALGS)
def test_each_offered_algorithm_verifies(alg: str) -> None:
    prover = Prover(alg)
    proof = check(prover.proof("POST", URL, iat=NOW))
    assert proof.jkt == prover.jkt and proof.iat == NOW


def test_ath_binds_the_proof_to_one_access_token() -> None:
    proof = ES256.proof("GET", "https://api.example/notes", iat=NOW, access_token="token-a")
    accepted = check(proof, method="GET", url="https://api.example/notes", access_token="token-a")
    assert accepted.ath == access_token_hash("token-a")
    refused(proof, "ath", method="GET", url="https://api.example/notes", access_token="token-b")
    without = ES256.proof("GET", "https://api.example/notes", iat=NOW)
    refused(without, "ath", method="GET", url="https://api.example/notes", access_token="token-a")


@pytest.mark.parametrize(
    ("proof_url", "request_url"),
    [
        ("https://AS.Example/token", "https://as.example/token"),
        ("HTTPS://as.example:443/token", "https://as.example/token"),
        ("http://127.0.0.1:80/token", "http://127.0.0.1/token"),
        ("https://as.example/token", "https://as.example/token?x=1#f"),
        ("https://as.example/to%6Ben", "https://as.example/token"),
        ("https://as.example/a%2fb", "https://as.example/a%2Fb"),
        ("https://[::1]:8443/token", "https://[::1]:8443/token"),
    ],
)
def test_htu_is_compared_after_normalisation(proof_url: str, request_url: str) -> None:
    """§4.3 point 9 with RFC 3986 §6.2.2-6.2.3: case, default ports, percent-encoding, query."""
    check(ES256.proof("POST", proof_url, iat=NOW), url=request_url)


@pytest.mark.parametrize(
    "url",
    [
        "https://as.example:8443/token",
        "http://as.example/token",
        "https://as.example/Token",
        "https://evil.example/token",
        "https://as.example/token/",
        "https://user@as.example/token",
        "ftp://as.example/token",
        "/token",
        "https://as.example:99999/token",
    ],
)
def test_htu_for_another_url_is_refused(url: str) -> None:
    refused(ES256.proof("POST", url, iat=NOW), "htu")


def test_normalize_htu_refuses_what_is_no_http_url() -> None:
    assert normalize_htu("https://AS.example") == "https://as.example/"
    assert normalize_htu("mailto:a@b") is None and normalize_htu("https://[::1") is None


# --- each way a proof is wrong --------------------------------------------------------------


def test_the_method_must_match() -> None:
    refused(ES256.proof("GET", URL, iat=NOW), "htm")
    refused(ES256.proof("post", URL, iat=NOW), "htm")


@pytest.mark.parametrize(
    ("iat", "reason"),
    [(NOW - 61, "expired"), (NOW + 6, "future"), ("1700000000", "iat"), (True, "iat")],
)
def test_iat_must_be_recent_and_a_number(iat: Any, reason: str) -> None:
    refused(ES256.proof("POST", URL, iat=iat), reason)


def test_iat_window_edges_and_the_max_age_knob() -> None:
    check(ES256.proof("POST", URL, iat=NOW - 60))
    check(ES256.proof("POST", URL, iat=NOW + 5))
    refused(ES256.proof("POST", URL, iat=NOW - 11), "expired", max_age=10)


@pytest.mark.parametrize("claim", ["jti", "htm", "htu", "iat"])
def test_every_required_claim_must_be_present(claim: str) -> None:
    refused(ES256.proof("POST", URL, iat=NOW, drop=(claim,)), claim)


def test_an_overlong_jti_is_refused() -> None:
    refused(ES256.proof("POST", URL, iat=NOW, jti="j" * 257), "jti")


@pytest.mark.parametrize("typ", ["JWT", "at+jwt", None])
def test_typ_must_be_dpop_jwt(typ: str | None) -> None:
    header = {} if typ is None else {"typ": typ}
    drop = ("typ",) if typ is None else ()
    refused(ES256.proof("POST", URL, iat=NOW, header=header, drop=drop), "typ")


def test_alg_none_is_refused() -> None:
    header = {"typ": "dpop+jwt", "alg": "none", "jwk": ES256.public_jwk()}
    refused(unsigned(header, {"jti": "j", "htm": "POST", "htu": URL, "iat": NOW}), "alg")


def test_an_hmac_proof_is_refused() -> None:
    """§4.3 point 5: a symmetric algorithm proves nothing the server could not forge."""
    key = OctKey.generate_key(256)
    header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": dict(key.as_dict(private=True))}
    claims = json.dumps({"jti": "j", "htm": "POST", "htu": URL, "iat": NOW}).encode()
    proof = jws.serialize_compact(header, claims, key, algorithms=["HS256"])
    refused(proof, "alg")
    refused(proof, "asymmetric", algorithms=("ES256", "HS256"))


def test_a_private_key_in_the_header_is_refused() -> None:
    private = dict(ES256.key.as_dict(private=True))
    refused(ES256.proof("POST", URL, iat=NOW, header={"jwk": private}), "private")


def test_a_missing_or_broken_jwk_is_refused() -> None:
    refused(ES256.proof("POST", URL, iat=NOW, drop=("jwk",)), "jwk")
    broken = {**ES256.public_jwk(), "x": "AAAA"}
    refused(ES256.proof("POST", URL, iat=NOW, header={"jwk": broken}), "jwk")


def test_a_proof_signed_by_another_key_is_refused() -> None:
    """The header names one key, the signature is another's: possession is not shown."""
    other = Prover("ES256")
    proof = other.proof("POST", URL, iat=NOW, header={"jwk": ES256.public_jwk()})
    refused(proof, "signature")


def test_a_tampered_proof_is_refused() -> None:
    head, _, signature = ES256.proof("POST", URL, iat=NOW).split(".")
    forged = b64(json.dumps({"jti": "x", "htm": "POST", "htu": URL, "iat": NOW}).encode())
    refused(f"{head}.{forged}.{signature}", "signature")


@pytest.mark.parametrize(
    "proof",
    ["", "abc", "a.b", "a.b.c", "...", "a.b.c.d", "x" * (MAX_PROOF_LENGTH + 1), "é.é.é"],
)
def test_malformed_proofs_are_refused(proof: str) -> None:
    with pytest.raises(InvalidDpopProof):
        check(proof)


def test_claims_that_are_not_an_object_are_refused() -> None:
    body = b'["jti"]'
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": ES256.public_jwk()}
    refused(jws.serialize_compact(header, body, ES256.key, algorithms=["ES256"]), "object")


# --- nonces, replay, the header -------------------------------------------------------------


def test_a_nonce_check_asks_for_a_nonce_last() -> None:
    accept_n1 = lambda nonce: nonce == "n1"  # noqa: E731
    with pytest.raises(UseDpopNonce) as caught:
        check(ES256.proof("POST", URL, iat=NOW), nonce=accept_n1)
    assert caught.value.error == "use_dpop_nonce" and caught.value.status == 400
    with pytest.raises(UseDpopNonce):
        check(ES256.proof("POST", URL, iat=NOW, nonce="old"), nonce=accept_n1)
    assert check(ES256.proof("POST", URL, iat=NOW, nonce="n1"), nonce=accept_n1).nonce == "n1"
    # a bad proof is refused as such, never answered with a nonce
    refused(ES256.proof("GET", URL, iat=NOW), "htm", nonce=accept_n1)


@pytest.mark.anyio
async def test_a_proof_is_accepted_once() -> None:
    cache = MemoryReplayCache()
    proof = check(ES256.proof("POST", URL, iat=NOW, jti="once"))
    await refuse_replay(proof, cache, now=NOW)
    with pytest.raises(InvalidDpopProof, match="already used"):
        await refuse_replay(proof, cache, now=NOW + 30)
    other_key = check(Prover("ES256").proof("POST", URL, iat=NOW, jti="once"))
    await refuse_replay(other_key, cache, now=NOW)  # a jti is scoped to its key


def test_one_dpop_header_only() -> None:
    assert single_proof(()) is None
    assert single_proof(("p",)) == "p"
    with pytest.raises(InvalidDpopProof, match="exactly one"):
        single_proof(("p", "q"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- fuzzing --------------------------------------------------------------------------------

_segment = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=60).map(lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")),
    st.dictionaries(
        st.sampled_from(["typ", "alg", "jwk", "jti", "htm", "htu", "iat", "nonce", "ath", "crit"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=True),
            st.text(max_size=20),
            st.just(ES256.public_jwk()),
            st.just({"kty": "oct", "k": "AAAA"}),
            st.just("dpop+jwt"),
            st.sampled_from(["ES256", "none", "HS256", "RS256"]),
        ),
        max_size=8,
    ).map(lambda value: b64(json.dumps(value).encode())),
)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(_segment, min_size=1, max_size=4))
def test_no_input_escapes_as_anything_but_a_dpop_error(parts: list[str]) -> None:
    with contextlib.suppress(InvalidDpopProof, UseDpopNonce):
        check(".".join(parts))


@settings(max_examples=200, deadline=None)
@given(
    claims=st.dictionaries(
        st.sampled_from(["jti", "htm", "htu", "iat", "nonce", "ath"]),
        st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=30), st.booleans()),
    )
)
def test_signed_proofs_with_any_claims_never_escape(claims: dict[str, Any]) -> None:
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": ES256.public_jwk()}
    proof = jws.serialize_compact(header, json.dumps(claims).encode(), ES256.key)
    try:
        accepted = check(proof, access_token="t", nonce=lambda n: True)
    except (InvalidDpopProof, UseDpopNonce):
        return
    assert accepted.htm == "POST" and accepted.jkt == ES256.jkt
