"""Standard claims (OIDC Core §5.1): what may be stored, and what each scope releases (§5.4)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenpath.core.claims import (
    MAX_CLAIMS_JSON,
    SCOPE_CLAIMS,
    STANDARD_CLAIMS,
    SUPPORTED_CLAIMS,
    claims_for,
    parse_stored,
    released_by,
    validate_claims,
)
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.records import User

ALICE: dict[str, object] = {
    "name": "Alice Liddell",
    "given_name": "Alice",
    "family_name": "Liddell",
    "nickname": "al",
    "picture": "https://img.example/alice.png",
    "birthdate": "1852-05-04",
    "locale": "en-GB",
    "zoneinfo": "Europe/London",
    "updated_at": 1700000000,
    "email": "alice@example.com",
    "email_verified": True,
    "address": {"street_address": "Christ Church\nSt Aldate's", "locality": "Oxford"},
    "phone_number": "+44 1865 000000",
    "phone_number_verified": False,
}


def user(claims: dict[str, object]) -> User:
    return User(user_id="u1", username="alice", password_hash="h", claims=validate_claims(claims))


def test_scope_map_is_the_one_of_core_5_4() -> None:
    assert set(SCOPE_CLAIMS) == {"profile", "email", "address", "phone"}
    assert SCOPE_CLAIMS["email"] == ("email", "email_verified")
    assert SCOPE_CLAIMS["address"] == ("address",)
    assert SCOPE_CLAIMS["phone"] == ("phone_number", "phone_number_verified")
    assert len(SCOPE_CLAIMS["profile"]) == 14 and "updated_at" in SCOPE_CLAIMS["profile"]
    released = {name for names in SCOPE_CLAIMS.values() for name in names}
    assert released == set(STANDARD_CLAIMS)  # every storable claim is released by some scope
    assert SUPPORTED_CLAIMS[0] == "sub" and set(SUPPORTED_CLAIMS) == {"sub", *STANDARD_CLAIMS}


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        (("openid",), set()),
        (("openid", "email"), {"email", "email_verified"}),
        (("openid", "phone", "notes:read"), {"phone_number", "phone_number_verified"}),
        (("openid", "address"), {"address"}),
        (
            ("profile",),
            {"name", "given_name", "family_name", "nickname", "picture", "birthdate"}
            | {"locale", "zoneinfo", "updated_at"},
        ),
    ],
)
def test_claims_for_releases_only_what_the_scopes_ask_for(
    scopes: tuple[str, ...], expected: set[str]
) -> None:
    released = claims_for(user(ALICE), scopes)
    assert set(released) == expected
    assert all(released[name] == ALICE[name] for name in released)
    assert "sub" not in released


def test_claims_for_keeps_json_types() -> None:
    released = claims_for(user(ALICE), ("openid", "email", "address", "profile"))
    assert released["email_verified"] is True and released["updated_at"] == 1700000000
    assert released["address"] == {
        "locality": "Oxford",
        "street_address": "Christ Church\nSt Aldate's",
    }


def test_claims_for_tolerates_an_unreadable_stored_text() -> None:
    for stored in ("", "[1]", "not json", '"x"'):
        broken = User(user_id="u", username="u", password_hash="h", claims=stored)
        assert claims_for(broken, ("openid", "profile", "email")) == {}
    assert parse_stored('{"name": "A"}') == {"name": "A"}


def test_validate_claims_is_canonical_json() -> None:
    text = validate_claims({"name": "Ünïcode", "email": "a@b.example", "email_verified": False})
    assert text == '{"email":"a@b.example","email_verified":false,"name":"Ünïcode"}'
    assert validate_claims({}) == "{}"
    assert validate_claims(json.loads(validate_claims(ALICE))) == validate_claims(ALICE)


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"sub": "x"}, "sub is assigned by the server"),
        ({"favourite_colour": "blue"}, "unknown claim favourite_colour"),
        ({"name": 5}, "name must be a string"),
        ({"name": ""}, "name must not be empty"),
        ({"name": "   "}, "name must not be empty"),
        ({"name": None}, "name must not be null"),
        ({"name": "x" * 257}, "longer than 256"),
        ({"name": "a\x00b"}, "control characters"),
        ({"name": "a\nb"}, "control characters"),
        ({"email_verified": "true"}, "email_verified must be true or false"),
        ({"phone_number_verified": 1}, "must be true or false"),
        ({"updated_at": True}, "whole number"),
        ({"updated_at": -1}, "whole number"),
        ({"updated_at": 1.5}, "whole number"),
        ({"picture": "javascript:alert(1)"}, "http or https URL"),
        ({"website": "//evil.example"}, "http or https URL"),
        ({"profile": "https://a.example/x y"}, "spaces"),
        ({"profile": "https://[::1"}, "http or https URL"),
        ({"birthdate": "4 May 1852"}, "YYYY-MM-DD"),
        ({"email": "alice"}, "email address"),
        ({"email": "a @b.example"}, "email address"),
        ({"address": "Oxford"}, "address must be a JSON object"),
        ({"address": {}}, "at least one member"),
        ({"address": {"city": "Oxford"}}, "unknown address member city"),
        ({"address": {"locality": 1}}, "address.locality must be a string"),
        ({"address": {"formatted": "x" * 1025}}, "longer than 1024"),
        ({"address": {"locality": "a\nb"}}, "control characters"),
    ],
)
def test_validate_claims_refuses_with_a_clear_description(
    claims: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        validate_claims(claims)
    assert message in refused.value.description


def test_validate_claims_accepts_the_forms_the_spec_allows() -> None:
    for birthdate in ("1852-05-04", "1852", "0000-05-04"):
        validate_claims({"birthdate": birthdate})
    validate_claims({"address": {"formatted": "Christ Church\r\nOxford\r\nUK"}})
    validate_claims({"website": "http://127.0.0.1:8000/alice", "updated_at": 0})


def test_validate_claims_bounds_the_total_size() -> None:
    big = {"address": {k: "x" * 256 for k in ("street_address", "locality", "region")}}
    validate_claims(big)
    many = {name: "y" * 256 for name, kind in STANDARD_CLAIMS.items() if kind == "string"}
    many["email"] = "e" * 240 + "@b.example"
    many["address"] = {"formatted": "z" * 1024, "street_address": "w" * 256}
    urls = {name: "https://a.example/" + "p" * 1900 for name in ("profile", "picture", "website")}
    with pytest.raises(InvalidRequest, match="larger than 8192 bytes"):
        validate_claims({**many, **urls})
    assert MAX_CLAIMS_JSON == 8192


@given(st.dictionaries(st.text(max_size=20), st.none() | st.booleans() | st.text(max_size=30)))
def test_validate_claims_never_fails_other_than_invalid_request(raw: dict[str, object]) -> None:
    try:
        text = validate_claims(raw)
    except InvalidRequest:
        return
    assert set(json.loads(text)) <= set(STANDARD_CLAIMS)


def test_released_by_ignores_unknown_scopes() -> None:
    assert released_by(("notes:read", "openid")) == frozenset()
    assert released_by(("email", "email")) == {"email", "email_verified"}
