"""A native (CLI) client: authorization code + PKCE with a loopback redirect (RFC 8252).

How it works, and why each step is there:

* The client is public (RFC 8252 §8.4: a secret shipped in an app is not a secret), so PKCE S256
  is what binds the code to this process (RFC 7636).
* It listens on ``127.0.0.1`` on an ephemeral port the OS picks (RFC 8252 §7.3); the client is
  registered with ``http://127.0.0.1/callback`` and the server accepts any port for it.
* The user signs in in the system browser, never in a view the app controls (RFC 8252 §8.12).
* ``state`` defends the loopback listener against requests from other local pages (CSRF), and
  ``iss`` (RFC 9207) against mix-up: both are checked before the code is used.
* When the server advertises ES256 for DPoP (RFC 9449), the tokens are bound to a key this
  process holds (``dpop_jkt`` binds the code too, §10): a token copied from a log or a terminal
  is useless without the key. API calls then carry a proof each (:meth:`NativeClient.call_api`).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import secrets
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tokenpath.clients.dpop import ClientKey, send_with_proof

__all__ = ["LoginError", "LoginResult", "NativeClient", "pkce_pair"]

_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>tokenpath</title>"
    b"<p>You can close this window and return to the terminal.</p>"
)


class LoginError(Exception):
    """The flow stopped; the message says why (never contains a code or token)."""


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginResult:
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    claims: dict[str, Any]
    refresh_token: str | None = None
    dpop_jkt: str | None = None
    """The thumbprint of the key the tokens are bound to (None: bearer tokens)."""


@dataclass
class _Callback:
    """What the loopback listener received: the first request to the callback path only."""

    path: str
    params: dict[str, str] | None = None
    arrived: threading.Event = field(default_factory=threading.Event)


def _listener(callback: _Callback) -> http.server.HTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != callback.path or callback.arrived.is_set():
                self.send_error(404)
                return
            callback.params = dict(parse_qsl(parts.query))
            callback.arrived.set()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(_PAGE)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the request line carries the authorization code."""

    return http.server.HTTPServer(("127.0.0.1", 0), Handler)


class NativeClient:
    """``dpop``: bind tokens to a key when the server offers DPoP (True, the default); False
    for bearer tokens. ``dpop_key``: the key to use (default: a fresh one per login)."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        http: httpx.Client | None = None,
        dpop: bool = True,
        dpop_key: ClientKey | None = None,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._http = http or httpx.Client(timeout=10)
        self._metadata: dict[str, Any] | None = None
        self._dpop = dpop
        self._key_given = dpop_key
        self.dpop_key: ClientKey | None = None
        """The key the last login's tokens are bound to; None for bearer tokens."""
        self._nonces: dict[str, str] = {}

    def offers_dpop(self) -> bool:
        """Whether the server advertises ES256 proofs (RFC 9449 §5.1)."""
        return "ES256" in (self.metadata().get("dpop_signing_alg_values_supported") or [])

    def metadata(self) -> dict[str, Any]:
        """RFC 8414 discovery; the document's ``issuer`` must be exactly ours (§3.3)."""
        if self._metadata is None:
            url = f"{self.issuer}/.well-known/oauth-authorization-server"
            document = self._http.get(url).raise_for_status().json()
            if document.get("issuer") != self.issuer:
                raise LoginError("discovery document names a different issuer")
            self._metadata = document
        return self._metadata

    def login(
        self,
        scope: str = "openid notes:read",
        *,
        open_browser: Callable[[str], object] = webbrowser.open,
        timeout: float = 300,
        callback_path: str = "/callback",
    ) -> LoginResult:
        meta = self.metadata()
        use_dpop = self._dpop and self.offers_dpop()
        key = (self._key_given or ClientKey.generate()) if use_dpop else None
        callback = _Callback(path=callback_path)
        server = _listener(callback)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            redirect_uri = f"http://127.0.0.1:{server.server_address[1]}{callback_path}"
            verifier, challenge = pkce_pair()
            state = secrets.token_urlsafe(24)
            params = {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
            if key is not None:
                params["dpop_jkt"] = key.jkt
            query = urlencode(params)
            open_browser(f"{meta['authorization_endpoint']}?{query}")
            if not callback.arrived.wait(timeout):
                raise LoginError("timed out waiting for the browser to come back")
        finally:
            server.shutdown()
            server.server_close()
        code = self._check_response(callback.params or {}, state)
        return self._redeem(code, redirect_uri, verifier, key)

    def _check_response(self, params: dict[str, str], state: str) -> str:
        if not secrets.compare_digest(params.get("state", ""), state):
            raise LoginError("state does not match: the response was not for this login")
        if params.get("iss") != self.issuer:
            raise LoginError("iss does not match the issuer (possible mix-up, RFC 9207)")
        if "error" in params:
            raise LoginError(f"{params['error']}: {params.get('error_description', '')}")
        if "code" not in params:
            raise LoginError("the response carries no code")
        return params["code"]

    def _redeem(
        self, code: str, redirect_uri: str, verifier: str, key: ClientKey | None
    ) -> LoginResult:
        endpoint = self.metadata()["token_endpoint"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "code_verifier": verifier,
        }
        if key is None:
            response = self._http.post(endpoint, data=form)
        else:
            response = send_with_proof(
                key,
                self._nonces,
                "POST",
                endpoint,
                lambda headers: self._http.post(endpoint, data=form, headers=headers),
            )
        body = response.json()
        if response.status_code != 200:
            raise LoginError(f"{body.get('error')}: {body.get('error_description', '')}")
        if key is not None and body.get("token_type") != "DPoP":
            raise LoginError("a DPoP proof was sent, but the token is not DPoP-bound")
        self.dpop_key = key
        return LoginResult(
            dpop_jkt=None if key is None else key.jkt,
            access_token=body["access_token"],
            token_type=body["token_type"],
            expires_in=int(body["expires_in"]),
            scope=body.get("scope", ""),
            refresh_token=body.get("refresh_token"),
            claims=self.verify(body["access_token"]),
        )

    def verify(self, access_token: str) -> dict[str, Any]:
        """Check the token's signature with the issuer's JWKS before showing its claims."""
        jwks = self._http.get(self.metadata()["jwks_uri"]).raise_for_status().json()
        token = jwt.decode(access_token, KeySet.import_key_set(jwks), algorithms=["ES256"])
        if token.claims.get("iss") != self.issuer:
            raise LoginError("access token has another issuer")
        return dict(token.claims)

    def call_api(self, url: str, access_token: str) -> httpx.Response:
        """``GET url`` with the token: with a fresh proof of the login's key when the token is
        DPoP-bound (retried once for a resource-server nonce), else as Bearer."""
        key = self.dpop_key
        if key is None:
            return self._http.get(url, headers={"Authorization": f"Bearer {access_token}"})
        return send_with_proof(
            key,
            self._nonces,
            "GET",
            url,
            lambda headers: self._http.get(url, headers=headers),
            access_token=access_token,
        )
