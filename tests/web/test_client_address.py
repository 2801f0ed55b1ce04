"""Which address a request comes from: the peer, or the rightmost hop no trusted proxy added."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from tokenpath.settings import Settings
from tokenpath.web.client_address import client_address, forwarded_client, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "192.0.2.1"])


def request(peer: str | None, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/login",
        "headers": headers,
        "client": (peer, 4711) if peer else None,
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.9", [], "198.51.100.9"),
        # An untrusted peer's header is the client's own claim: ignored.
        ("198.51.100.9", ["203.0.113.5"], "198.51.100.9"),
        # Behind one trusted proxy: the hop it appended.
        ("10.1.2.3", ["203.0.113.5"], "203.0.113.5"),
        # A spoofed left part is skipped: the rightmost untrusted hop wins.
        ("10.1.2.3", ["1.1.1.1, 203.0.113.5"], "203.0.113.5"),
        # Two trusted proxies in a row, headers split over lines.
        ("10.1.2.3", ["6.6.6.6, 203.0.113.5", "192.0.2.1"], "203.0.113.5"),
        # Garbage from a trusted proxy stops at that proxy (clients share its bucket).
        ("10.1.2.3", ["203.0.113.5, not-an-ip"], "10.1.2.3"),
        # Every hop trusted: the leftmost one is the best we know.
        ("10.1.2.3", ["10.9.9.9"], "10.9.9.9"),
        ("::ffff:198.51.100.9", [], "198.51.100.9"),
        (None, ["203.0.113.5"], None),
        ("testclient", [], None),
    ],
)
def test_rightmost_untrusted_hop(peer: str | None, forwarded: list[str], expected: str) -> None:
    found = forwarded_client(peer, forwarded, PROXIES)
    assert (str(found) if found else None) == expected


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_address(request("10.1.2.3", "203.0.113.5"), ()) == "10.1.2.3"
    assert client_address(request("10.1.2.3", "203.0.113.5"), PROXIES) == "203.0.113.5"


def test_ipv6_clients_are_grouped_by_their_slash_64() -> None:
    one = client_address(request("2001:db8:1:2::1"), ())
    other = client_address(request("2001:db8:1:2:ffff::9"), ())
    assert one == other == "2001:db8:1:2::/64"
    assert client_address(request("2001:db8:1:3::1"), ()) != one


def test_trusted_proxies_setting_is_comma_separated_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOKENPATH_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1,,::1")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "192.0.2.1", "::1"]
    monkeypatch.setenv("TOKENPATH_TRUSTED_PROXIES", "10.0.0.0/8,proxy.example")
    with pytest.raises(ValueError, match=r"proxy\.example"):
        Settings()
    monkeypatch.delenv("TOKENPATH_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == []
