"""Query and form parsing: syntax only, every failure an ``invalid_request``."""

from __future__ import annotations

import pytest

from tokenpath.core.errors import InvalidRequest
from tokenpath.web.forms import (
    BodyTooLarge,
    authorize_url,
    parse_urlencoded,
    safe_return_to,
    single,
)


def test_pairs_keep_order_duplicates_and_blank_values() -> None:
    raw = b"b=2&a=1&b=3&empty=&flag&plus=a+b&pct=%2B%26"
    assert parse_urlencoded(raw, limit=1000) == [
        ("b", "2"),
        ("a", "1"),
        ("b", "3"),
        ("empty", ""),
        ("flag", ""),
        ("plus", "a b"),
        ("pct", "+&"),
    ]


@pytest.mark.parametrize("raw", [b"a=\xff", b"a=%ff", b"%c3%28=x", b"a=%ED%A0%80"])
def test_invalid_utf8_is_invalid_request(raw: bytes) -> None:
    with pytest.raises(InvalidRequest, match="UTF-8"):
        parse_urlencoded(raw, limit=1000)


def test_invalid_percent_escapes_stay_literal() -> None:
    assert parse_urlencoded(b"a=%zz&b=%", limit=100) == [("a", "%zz"), ("b", "%")]


def test_size_and_field_count_limits() -> None:
    with pytest.raises(BodyTooLarge) as raised:
        parse_urlencoded(b"a=" + b"x" * 100, limit=50)
    assert raised.value.status == 413 and raised.value.error == "invalid_request"
    with pytest.raises(InvalidRequest, match="parameters"):
        parse_urlencoded(b"&".join(b"a%d=1" % i for i in range(101)), limit=10_000)


def test_single_refuses_repeated_control_fields() -> None:
    assert single([("a", "1")], "a") == "1"
    assert single([("a", "1")], "b") is None
    with pytest.raises(InvalidRequest, match="repeated"):
        single([("a", "1"), ("a", "2")], "a")


def test_authorize_url_round_trips_pairs() -> None:
    pairs = [("state", "a b&c=d"), ("scope", "openid notes:read"), ("x", "é")]
    url = authorize_url(pairs)
    assert url.startswith("/authorize?") and url.isascii()
    assert parse_urlencoded(url.split("?", 1)[1].encode(), limit=1000) == pairs
    assert safe_return_to(url) == url


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "/",
        "//evil.example/authorize?x",
        "https://evil.example/authorize?x",
        "/\\evil.example",
        "/authorize?x=\\",
        "/authorize",
        "/authorize/?x=1",
        "/authorizeX?x=1",
        "/authorize?x=1#f",
        "/authorize?x=1 y",
        "/authorize?x=\t1",
        "/authorize?é",
        "/authorize?" + "a" * 20_000,
    ],
)
def test_unsafe_return_to_becomes_home(value: str | None) -> None:
    assert safe_return_to(value) == "/"


def test_safe_return_to_keeps_our_authorize_urls() -> None:
    assert (
        safe_return_to("/authorize?client_id=a&state=b%20c") == "/authorize?client_id=a&state=b%20c"
    )
