"""Catalog A7: exact matching, and the RFC 8252 §7.3 loopback port exception only."""

import pytest

from tokenpath.core.redirect_uris import (
    InvalidRedirectUri,
    match_redirect_uri,
    validate_registered_redirect_uri,
)

REGISTERED = ("https://client.example/cb",)


@pytest.mark.parametrize(
    "requested",
    [
        "https://client.example/cb/",
        "https://client.example/cb?x=1",
        "https://client.example/cb#x",
        "https://client.example/CB",
        "https://CLIENT.example/cb",
        "https://client.example:8443/cb",
        "https://client.example:443/cb",
        "http://client.example/cb",
        "https://client.example/cb/../evil",
        "https://client.example/cb%2F..%2Fevil",
        "https://client.example.evil.example/cb",
        "https://evil.example/.client.example/cb",
        "https://client.example@evil.example/cb",
        "https://sub.client.example/cb",
        "https://client.example/cb2",
        " https://client.example/cb",
    ],
)
def test_near_misses_do_not_match(requested: str) -> None:
    assert not match_redirect_uri(requested, REGISTERED)


def test_exact_match() -> None:
    assert match_redirect_uri("https://client.example/cb", REGISTERED)


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_loopback_any_port(host: str) -> None:
    registered = (f"http://{host}/cb",)
    assert match_redirect_uri(f"http://{host}:51004/cb", registered)
    assert match_redirect_uri(f"http://{host}/cb", registered)
    assert not match_redirect_uri(f"http://{host}:51004/cb2", registered)
    assert not match_redirect_uri(f"http://{host}:51004/cb?x=1", registered)
    assert not match_redirect_uri(f"https://{host}:51004/cb", registered)
    assert not match_redirect_uri(f"http://user@{host}:51004/cb", registered)


def test_loopback_port_exception_is_not_extended() -> None:
    assert not match_redirect_uri("http://localhost:51004/cb", ("http://127.0.0.1/cb",))
    # A registered port is exact: the exception covers only URIs registered without one.
    assert not match_redirect_uri("http://127.0.0.1:9003/cb", ("http://127.0.0.1:9002/cb",))
    assert not match_redirect_uri("http://127.0.0.1:99999/cb", ("http://127.0.0.1/cb",))


@pytest.mark.parametrize(
    "uri",
    [
        "http://client.example/cb",
        "https://*.client.example/cb",
        "https://client.example/cb#frag",
        "/relative/cb",
        "javascript:alert(1)",
        "https://user:pw@client.example/cb",
        "http://localhost/cb",
        "https:///cb",
        "custom:/cb",
    ],
)
def test_registration_refuses(uri: str) -> None:
    with pytest.raises(InvalidRedirectUri):
        validate_registered_redirect_uri(uri, native=True)


def test_registration_accepts() -> None:
    for uri in ["https://client.example/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb"]:
        assert validate_registered_redirect_uri(uri) == uri
    assert validate_registered_redirect_uri("com.example.app:/cb", native=True)
    with pytest.raises(InvalidRedirectUri):
        validate_registered_redirect_uri("com.example.app:/cb", native=False)


def test_registration_default_is_not_native() -> None:
    """Private-use schemes (RFC 8252 §7.1) only when the caller says the client is native."""
    with pytest.raises(InvalidRedirectUri):
        validate_registered_redirect_uri("com.example.app:/cb")


@pytest.mark.parametrize(
    ("uri", "description"),
    [
        ("/relative/cb", "redirect URI must be an absolute URI"),
        ("https://client.example:99999/cb", "redirect URI must be an absolute URI"),
        (
            "https://client.example/cb#frag",
            "redirect URI must not contain a fragment (RFC 6749 §3.1.2)",
        ),
        ("https://*.client.example/cb", "wildcards are not allowed; URIs are matched exactly"),
        ("https://user@client.example/cb", "redirect URI must not contain user information"),
        ("https://:pw@client.example/cb", "redirect URI must not contain user information"),
        ("https:///cb", "https redirect URI needs a host"),
        ("http://client.example/cb", "http redirect URIs are allowed only for 127.0.0.1 or [::1]"),
        ("custom:/cb", "scheme 'custom' is not allowed for redirect URIs"),
    ],
)
def test_each_refusal_names_its_reason(uri: str, description: str) -> None:
    """Every refusal is ``invalid_redirect_uri`` (RFC 7591 §3.2.2), never a crash.

    The message is compared as written; on the wire, characters outside the RFC 6749 §5.2
    ``error_description`` set (the section sign) are replaced.
    """
    with pytest.raises(InvalidRedirectUri) as caught:
        validate_registered_redirect_uri(uri, native=True)
    assert str(caught.value) == description


def test_a_malformed_registered_uri_does_not_stop_the_loopback_search() -> None:
    """A registered URI that does not parse is skipped, and later ones are still compared."""
    registered = ("http://127.0.0.1:99999/cb", "https://client.example/cb", "http://127.0.0.1/cb")
    assert match_redirect_uri("http://127.0.0.1:51004/cb", registered)
