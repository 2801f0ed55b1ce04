"""Hostile input at every form and JSON endpoint, generated with hypothesis (RFC 9700 §4.11,
RFC 6749 §5.2, OAuth 2.1 §7.13).

Bodies and query strings mix plausible requests with what a hostile client sends: repeated
parameters, values at and beyond the length limits, any Unicode including control characters,
empty names, JSON or raw bytes instead of a form, wrong content types, malformed ``Basic``
headers. Whatever arrives, four properties hold:

1. no answer is a 5xx;
2. every answer of a JSON endpoint is JSON, with an ``error`` member when it is a 4xx;
3. a ``Location`` only ever leads back into the AS (a relative path) or to a registered
   redirect URI (loopback: any port, RFC 8252 §7.3);
4. an error — a 4xx, or a redirect carrying ``error`` — changes nothing stored (failed-attempt
   counters of the throttle excepted: counting failures is their job).

Each test reuses one server for all its examples (the examples share its stores, so state left
by one example is input to the next) and runs derandomized with bounded ``max_examples``, so CI
sees the same inputs on every run.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import REGISTERED, VERIFIER, Lab, basic
from tokenpath.core.pkce import s256
from tokenpath.web.app import JSON_PATHS

pytestmark = pytest.mark.anyio

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- strategies -------------------------------------------------------------------------------

PARAM_NAMES = [
    "grant_type", "code", "redirect_uri", "code_verifier", "client_id", "client_secret",
    "refresh_token", "scope", "token", "token_type_hint", "client_assertion",
    "client_assertion_type", "response_type", "response_mode", "state", "nonce", "prompt",
    "code_challenge", "code_challenge_method", "username", "password", "return_to", "csrf",
    "decision", "post_logout_redirect_uri", "",
]  # fmt: skip
PLACEHOLDERS = ["@conf", "@spa", "@native", "@implicit", "@machine", "@secret", "@csrf"]
PLAUSIBLE = [
    *PLACEHOLDERS,
    "authorization_code", "refresh_token", "client_credentials", "password", "implicit",
    "code", "token", "id_token token", "query", "fragment", "form_post", "web_message",
    "openid", "openid notes:read profile", "S256", "plain", VERIFIER, s256(VERIFIER),
    "none", "login", "consent", "approve", "deny", "alice", "correct horse battery",
    *sorted(REGISTERED), "http://127.0.0.1:5000/cb", "https://evil.example/cb",
    "//evil.example", "/authorize?client_id=x", "javascript:alert(1)",
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "a.b.c", "",
]  # fmt: skip
names = st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=12))
values = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=40),  # any Unicode, control characters included
    st.text(alphabet="\x00\r\n\t\x7f\u202e\ufeff%&=+#?", max_size=20),
    st.sampled_from(["a" * 2048, "a" * 2049, "é" * 1500]),  # at and past the length limit
)
pairs = st.lists(st.tuples(names, values), max_size=10).flatmap(
    # sometimes repeat a parameter: RFC 6749 §3.1 forbids duplicates
    lambda ps: st.just(ps) | st.just(ps + ps[:1])
)
FORM = "application/x-www-form-urlencoded"
content_types = st.sampled_from(
    [FORM, FORM, FORM + "; charset=UTF-8", FORM + "; charset=latin-1", "application/json",
     "text/plain", "multipart/form-data; boundary=x", None]
)  # fmt: skip
encodings = st.sampled_from(["form", "form", "json", "raw"])
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
authorizations = st.one_of(
    st.none(),
    st.sampled_from(["@basic", "@basic-wrong", "Basic", "Basic ", "Basic !!!", "Bearer x"]),
    st.sampled_from(["nocolon", ":", "a:b:c", "%zz:%zz", "\x00:\x00"]).map(
        lambda raw: "Basic " + base64.b64encode(raw.encode()).decode()
    ),
    header_text.map(lambda s: "Basic " + s),
    header_text,
)


# --- substitution and invariants ----------------------------------------------------------------


def resolve(lab: Lab, value: str, csrf: str) -> str:
    """Turn a placeholder into a live value: real client ids, secrets and the CSRF token."""
    if value == "@secret":
        return lab.secrets["conf"]
    if value == "@csrf":
        return csrf
    if value.startswith("@") and value[1:] in lab.clients:
        return lab.id(value[1:])
    return value


def resolve_all(lab: Lab, ps: list[tuple[str, str]], csrf: str = "") -> list[tuple[str, str]]:
    return [(k, resolve(lab, v, csrf)) for k, v in ps]


def encode(ps: list[tuple[str, str]], encoding: str, raw: bytes) -> bytes:
    if encoding == "json":
        return json.dumps(dict(ps)).encode()
    if encoding == "raw":
        return raw
    return urlencode(ps).encode()


def auth_header(lab: Lab, value: str | None) -> dict[str, str]:
    if value is None:
        return {}
    if value == "@basic":
        return lab.auth("conf")
    if value == "@basic-wrong":
        return {"Authorization": basic(lab.id("conf"), "wrong")}
    return {"Authorization": value}


def snapshot(lab: Lab) -> dict[str, Any]:
    """Everything stored, except the throttle's failure counters."""
    stores = lab.server.ctx.stores
    return {
        f.name: copy.deepcopy(vars(getattr(stores, f.name)))
        for f in dataclasses.fields(stores)
        if f.name != "rate_limits"
    }


def allowed_location(location: str) -> bool:
    parts = urlsplit(location)
    if not parts.scheme and not parts.netloc:
        return location.startswith("/") and not location.startswith("//")
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    loopback = parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.path == "/cb"
    return base in REGISTERED or loopback


def is_error(response: httpx.Response) -> bool:
    if response.status_code >= 400:
        return True
    location = response.headers.get("location", "")
    parts = urlsplit(location)
    return "error" in dict(parse_qsl(parts.query)) or "error" in dict(parse_qsl(parts.fragment))


def check(response: httpx.Response, path: str, before: dict[str, Any], lab: Lab) -> None:
    assert response.status_code < 500, (path, response.status_code, response.text[:300])
    if path in JSON_PATHS:
        assert response.headers["content-type"].startswith("application/json"), path
        body = response.json()
        if 400 <= response.status_code < 500:
            assert isinstance(body.get("error"), str) and body["error"], body
    if "location" in response.headers:
        assert allowed_location(response.headers["location"]), response.headers["location"]
    if is_error(response):
        assert snapshot(lab) == before, (path, response.status_code)


async def prepared(lab: Lab) -> str:
    """Sign alice in, give consent once, load the signing key; return the CSRF token."""
    if not lab.session():
        await lab.code("conf")
        await lab.http.get("/jwks")
    return next(c.value for c in lab.http.cookies.jar if c.name.endswith("tp_csrf"))


# --- the JSON endpoints -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect"])
@FUZZ
@given(
    ps=pairs,
    content_type=content_types,
    encoding=encodings,
    raw=st.binary(max_size=200),
    authorization=authorizations,
)
async def test_fuzz_backchannel_endpoints(
    lab: Lab,
    path: str,
    ps: list[tuple[str, str]],
    content_type: str | None,
    encoding: str,
    raw: bytes,
    authorization: str | None,
) -> None:
    await prepared(lab)
    headers = auth_header(lab, authorization)
    if content_type is not None:
        headers["Content-Type"] = content_type
    before = snapshot(lab)
    body = encode(resolve_all(lab, ps), encoding, raw)
    response = await lab.http.post(path, content=body, headers=headers)
    check(response, path, before, lab)


@pytest.mark.parametrize("path", ["/jwks", "/.well-known/oauth-authorization-server"])
@FUZZ
@given(ps=pairs, method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]))
async def test_fuzz_documents(lab: Lab, path: str, ps: list[tuple[str, str]], method: str) -> None:
    await prepared(lab)
    before = snapshot(lab)
    response = await lab.http.request(method, f"{path}?{urlencode(ps)}")
    assert response.status_code < 500
    if method != "HEAD":
        check(response, path, before, lab)
    if method == "GET":
        assert response.status_code == 200


# --- the browser endpoints ----------------------------------------------------------------------


@FUZZ
@given(ps=pairs, method=st.sampled_from(["GET", "POST"]), signed_in=st.booleans())
async def test_fuzz_authorize(
    lab: Lab, ps: list[tuple[str, str]], method: str, signed_in: bool
) -> None:
    await prepared(lab)
    if not signed_in:
        lab.http.cookies.clear()
    before = snapshot(lab)
    ps = resolve_all(lab, ps)
    if method == "GET":
        response = await lab.http.get(f"/authorize?{urlencode(ps)}")
    else:
        response = await lab.server.post_form("/authorize", ps)
    check(response, "/authorize", before, lab)


@FUZZ
@given(
    base=st.sampled_from(["conf", "spa", "native", "implicit"]),
    overrides=st.lists(st.tuples(names, values), max_size=4),
)
async def test_fuzz_authorize_near_valid(
    lab: Lab, base: str, overrides: list[tuple[str, str]]
) -> None:
    """Valid requests with a few parameters changed, added or repeated: the deep paths."""
    await prepared(lab)
    before = snapshot(lab)
    ps = list(lab.authorize_params(base).items()) + resolve_all(lab, overrides)
    response = await lab.http.get(f"/authorize?{urlencode(ps)}")
    check(response, "/authorize", before, lab)


@pytest.mark.parametrize("path", ["/login", "/consent", "/logout"])
@FUZZ
@given(
    ps=pairs,
    content_type=content_types,
    encoding=encodings,
    raw=st.binary(max_size=200),
    origin=st.sampled_from([None, "null", "https://as.example", "https://evil.example"]),
)
async def test_fuzz_forms(
    lab: Lab,
    path: str,
    ps: list[tuple[str, str]],
    content_type: str | None,
    encoding: str,
    raw: bytes,
    origin: str | None,
) -> None:
    csrf = await prepared(lab)
    headers = {"Content-Type": content_type} if content_type else {}
    if origin is not None:
        headers["Origin"] = origin
    before = snapshot(lab)
    body = encode(resolve_all(lab, ps, csrf), encoding, raw)
    response = await lab.http.post(path, content=body, headers=headers)
    check(response, path, before, lab)
    assert response.status_code not in (307, 308)
