"""The web app's own ID token and logout token checks: every failure is refused by name."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from tokenpath.clients.webapp.id_tokens import (
    BACKCHANNEL_EVENT,
    LEEWAY,
    TokenRejected,
    check_id_token,
    check_logout_token,
    half_hash,
)

ISSUER = "https://as.example"
CLIENT = "app-1"
NOW = 1_700_000_000
ACCESS_TOKEN = "access-token-value"
KEY = ECKey.generate_key("P-256", private=True, parameters={"kid": "k1"})
OTHER_KEY = ECKey.generate_key("P-256", private=True, parameters={"kid": "k1"})
KEYS = KeySet([ECKey.import_key(KEY.as_dict(private=False))])


def sign(claims: dict[str, Any], *, typ: str | None = "JWT", key: ECKey = KEY) -> str:
    header: dict[str, Any] = {"alg": "ES256", "kid": "k1"}
    if typ is not None:
        header["typ"] = typ
    return jwt.encode(header, {k: v for k, v in claims.items() if v is not None}, key)


def id_claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT,
        "iat": NOW,
        "exp": NOW + 300,
        "nonce": "n-1",
        "at_hash": half_hash(ACCESS_TOKEN),
        "sid": "sid-1",
    }
    return {**claims, **changes}


def check(token: str, **changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "keys": KEYS,
        "issuer": ISSUER,
        "client_id": CLIENT,
        "nonce": "n-1",
        "access_token": ACCESS_TOKEN,
        "now": NOW,
    }
    return check_id_token(token, **(facts | changes))


def test_a_good_id_token_gives_its_claims() -> None:
    assert check(sign(id_claims()))["sid"] == "sid-1"
    assert check(sign(id_claims(), typ=None))["sub"] == "user-1"
    assert check(sign(id_claims(at_hash=None)))["sub"] == "user-1"
    several = id_claims(aud=[CLIENT, "api"], azp=CLIENT)
    assert check(sign(several))["azp"] == CLIENT


def test_at_hash_is_the_left_half_of_sha256() -> None:
    # OIDC Core §3.1.3.6; expected value from: openssl dgst -sha256 -binary | head -c 16 | base64url
    assert half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNFaG6_9T9Wo1RvORq8Y") == "qB91BhzDssbBkF_MVT-H2w"


@pytest.mark.parametrize(
    ("token", "overrides", "reason"),
    [
        (sign(id_claims(), key=OTHER_KEY), {}, "signature"),
        (sign(id_claims())[:-4] + "AAAA", {}, "signature"),
        ("not-a-jwt", {}, "signature"),
        (sign(id_claims(), typ="at+jwt"), {}, "typ"),
        (sign(id_claims(), typ="logout+jwt"), {}, "typ"),
        (sign(id_claims(iss="https://evil.example")), {}, "iss"),
        (sign(id_claims(aud="someone-else")), {}, "aud"),
        (sign(id_claims(aud=[CLIENT, "api"])), {}, "azp"),
        (sign(id_claims(aud=[CLIENT, "api"], azp="api")), {}, "azp"),
        (sign(id_claims(exp=NOW - LEEWAY)), {}, "expired"),
        (sign(id_claims(exp=None)), {}, "exp"),
        (sign(id_claims(iat=NOW + LEEWAY + 1)), {}, "future"),
        (sign(id_claims(sub=None)), {}, "sub"),
        (sign(id_claims(nonce=None)), {}, "nonce"),
        (sign(id_claims()), {"nonce": "n-2"}, "nonce"),
        (sign(id_claims(at_hash="x" * 22)), {}, "at_hash"),
        (sign(id_claims()), {"access_token": "another"}, "at_hash"),
        (sign(id_claims()), {"access_token": None}, "at_hash"),
    ],
)
def test_each_bad_id_token_is_refused(token: str, overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(TokenRejected, match=reason):
        check(token, **overrides)


@pytest.mark.filterwarnings('ignore:JWS algorithm "none" is deprecated')
def test_alg_none_is_refused() -> None:
    unsigned = jwt.encode({"alg": "none"}, id_claims(), None, algorithms=["none"])
    with pytest.raises(TokenRejected, match="signature"):
        check(unsigned)


# --- logout tokens ------------------------------------------------------------------------------


def logout_claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "iss": ISSUER,
        "aud": CLIENT,
        "iat": NOW,
        "exp": NOW + 120,
        "jti": "j-1",
        "sub": "user-1",
        "sid": "sid-1",
        "events": {BACKCHANNEL_EVENT: {}},
    }
    return {**claims, **changes}


def check_logout(token: str) -> Any:
    return check_logout_token(token, keys=KEYS, issuer=ISSUER, client_id=CLIENT, now=NOW)


def test_a_good_logout_token_gives_its_facts() -> None:
    facts = check_logout(sign(logout_claims(), typ="logout+jwt"))
    assert (facts.jti, facts.sid, facts.sub, facts.exp) == ("j-1", "sid-1", "user-1", NOW + 120)
    only_sub = check_logout(sign(logout_claims(sid=None), typ="logout+jwt"))
    assert only_sub.sid is None and only_sub.sub == "user-1"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (sign(logout_claims(), typ="logout+jwt", key=OTHER_KEY), "signature"),
        (sign(logout_claims(), typ="JWT"), "typ"),
        (sign(logout_claims(), typ=None), "typ"),
        (sign(logout_claims(iss="https://evil.example"), typ="logout+jwt"), "iss"),
        (sign(logout_claims(aud="other"), typ="logout+jwt"), "aud"),
        (sign(logout_claims(iat=None), typ="logout+jwt"), "iat"),
        (sign(logout_claims(iat=NOW + LEEWAY + 1), typ="logout+jwt"), "future"),
        (sign(logout_claims(exp=NOW - LEEWAY), typ="logout+jwt"), "expired"),
        (sign(logout_claims(events=None), typ="logout+jwt"), "events"),
        (sign(logout_claims(events={"other": {}}), typ="logout+jwt"), "events"),
        (sign(logout_claims(events={BACKCHANNEL_EVENT: "x"}), typ="logout+jwt"), "events"),
        (sign(logout_claims(nonce="n"), typ="logout+jwt"), "nonce"),
        (sign(logout_claims(jti=None), typ="logout+jwt"), "jti"),
        (sign(logout_claims(sid=None, sub=None), typ="logout+jwt"), "neither sid nor sub"),
    ],
)
def test_each_bad_logout_token_is_refused(token: str, reason: str) -> None:
    with pytest.raises(TokenRejected, match=reason):
        check_logout(token)


def test_an_id_token_is_never_a_logout_token() -> None:
    with pytest.raises(TokenRejected):
        check_logout(sign(id_claims() | {"events": {BACKCHANNEL_EVENT: {}}, "jti": "j"}))
