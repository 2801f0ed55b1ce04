"""Catalog A7: redirect URI manipulation (RFC 9700 §4.1.3, §2.1; OAuth 2.1 §10; RFC 8252 §7.3).

A requested ``redirect_uri`` is compared with the registered ones as plain strings (RFC 3986
§6.2.1): every near miss below is an error page at the AS, not a redirect. The only variation
allowed is the port of a loopback IP literal for native clients. Registration refuses ``http``
off loopback, wildcards and fragments.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import NATIVE_CB, Lab, assert_not_redirected, location_params
from tokenpath.core.records import ClientType
from tokenpath.core.registration import InvalidRedirectUri

pytestmark = pytest.mark.anyio

NEAR_MISSES = {
    "trailing_slash": "https://client.example/cb/",
    "extra_query": "https://client.example/cb?x=1",
    "fragment": "https://client.example/cb#x",
    "path_case": "https://client.example/CB",
    "host_case": "https://CLIENT.example/cb",
    "port": "https://client.example:8443/cb",
    "http_scheme": "http://client.example/cb",
    "dot_segments": "https://client.example/cb/../evil",
    "encoded_dot_segments": "https://client.example/cb%2F..%2Fevil",
    "suffix_host": "https://client.example.evil.example/cb",
    "host_in_path": "https://evil.example/.client.example/cb",
    "userinfo": "https://client.example@evil.example/cb",
    "subdomain": "https://sub.client.example/cb",
    "longer_path": "https://client.example/cb2",
}


@pytest.mark.parametrize("uri", list(NEAR_MISSES.values()), ids=list(NEAR_MISSES))
async def test_a07_near_miss_is_rejected(lab: Lab, uri: str) -> None:
    await lab.sign_in()
    assert_not_redirected(await lab.authz("conf", redirect_uri=uri))


async def test_a07_exact_uri_is_accepted(lab: Lab) -> None:
    assert "code" in location_params(await lab.redirect("conf"))


@pytest.mark.parametrize("port", ["51004", "1", "65535"])
async def test_a07_loopback_any_port_is_accepted(lab: Lab, port: str) -> None:
    response = await lab.redirect("native", redirect_uri=f"http://127.0.0.1:{port}/cb")
    assert response.headers["location"].startswith(f"http://127.0.0.1:{port}/cb?")
    assert "code" in location_params(response)


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:51004/cb2",
        "http://127.0.0.1:51004/cb/",
        "http://127.0.0.2:51004/cb",
        "https://127.0.0.1:51004/cb",
        "http://127.0.0.1:51004/cb?x=1",
    ],
)
async def test_a07_loopback_path_and_host_must_match(lab: Lab, uri: str) -> None:
    await lab.sign_in()
    assert_not_redirected(await lab.authz("native", redirect_uri=uri))


async def test_a07_localhost_is_not_127_0_0_1(lab: Lab) -> None:
    """NICE (OAuth 2.1 §8.4.2): ``localhost`` does not match a registered IP literal."""
    await lab.sign_in()
    assert_not_redirected(await lab.authz("native", redirect_uri="http://localhost:51004/cb"))
    assert NATIVE_CB.startswith("http://127.0.0.1/")


@pytest.mark.parametrize(
    ("kind", "uri"),
    [
        (ClientType.CONFIDENTIAL, "http://client.example/cb"),
        (ClientType.PUBLIC, "http://client.example/cb"),
        (ClientType.CONFIDENTIAL, "https://*.client.example/cb"),
        (ClientType.CONFIDENTIAL, "https://client.example/*"),
        (ClientType.CONFIDENTIAL, "https://client.example/cb#frag"),
        (ClientType.CONFIDENTIAL, "https://client.example/cb#"),
        (ClientType.CONFIDENTIAL, "https://user@client.example/cb"),
        (ClientType.CONFIDENTIAL, "/cb"),
    ],
)
async def test_a07_registration_refuses_loose_redirect_uris(
    lab: Lab, kind: ClientType, uri: str
) -> None:
    """The one registration gate (CLI today, dynamic registration later)."""
    with pytest.raises(InvalidRedirectUri) as raised:
        await lab.server.client(kind, redirect_uris=(uri,))
    assert raised.value.error == "invalid_redirect_uri"
