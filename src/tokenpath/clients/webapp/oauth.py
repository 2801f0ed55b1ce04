"""The web app's half of the protocol, done by its server: discovery, PKCE, token requests.

Everything here runs on the app's server, so nothing in it ever reaches the browser:

* discovery (RFC 8414 §3): the metadata document's ``issuer`` must equal the configured issuer
  exactly (§3.3), or the app refuses to talk to that server;
* PKCE S256 (RFC 7636) even though the client is confidential (RFC 9700 §2.1.1);
* pushed authorization requests (RFC 9126) when the server offers them: the request goes to
  ``/par`` over the back channel and the browser is sent with ``client_id`` and the
  ``request_uri`` alone, so scope, redirect URI, state, nonce and the PKCE challenge never
  appear in its address bar or history;
* client authentication with HTTP Basic (RFC 6749 §2.3.1: the id and the secret are
  form-urlencoded *before* base64, so a ``:`` or ``%`` in either survives);
* code redemption, refresh and revocation (RFC 6749 §4.1.3, §6; RFC 7009);
* calls to the protected API with ``Authorization: Bearer`` (RFC 6750 §2.1);
* the issuer's JWK Set (``jwks_uri``), to verify ID and logout tokens (``id_tokens.py``):
  fetched once, fetched again when a token names a key the cached set lacks (rotation), at most
  once per :data:`JWKS_REFETCH` seconds;
* the RP-Initiated Logout 1.0 §2 URL (``end_session_endpoint``).

Nothing here logs: a request line or body may hold a code or a token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote_plus, urlencode

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tokenpath.clients.webapp.id_tokens import TokenRejected

__all__ = [
    "JWKS_REFETCH",
    "ApiAnswer",
    "OAuthClient",
    "ProviderError",
    "ServerMetadata",
    "TokenError",
    "TokenSet",
    "basic_auth",
    "new_pkce",
]


T = TypeVar("T")
JWKS_REFETCH = 60
"""Seconds between two fetches of the issuer's JWK Set: unknown key ids cannot make us hammer it."""


class ProviderError(Exception):
    """The authorization server or the API could not be reached or answered nonsense."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str | None = None
    jwks_uri: str | None = None
    end_session_endpoint: str | None = None
    pushed_authorization_request_endpoint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_in: int | None
    scope: str | None
    id_token: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenError:
    """An OAuth error answer from the token endpoint (RFC 6749 §5.2)."""

    error: str
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiAnswer:
    status: int
    body: Any

    def pretty(self) -> str:
        return json.dumps(self.body, indent=2, sort_keys=True)


def basic_auth(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: form-urlencode id and secret, join with ``:``, then base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def new_pkce() -> tuple[str, str]:
    """A fresh ``code_verifier`` (64 characters, RFC 7636 §4.1) and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _with_query(endpoint: str, query: dict[str, str]) -> str:
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


def _endpoint(document: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = document.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ProviderError(f"the discovery document has no usable {name}")
    return value


class OAuthClient:
    """One confidential client of one authorization server, over one shared ``httpx`` client."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        http: httpx.AsyncClient,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self._authorization = basic_auth(client_id, client_secret)
        self._http = http
        self._metadata: ServerMetadata | None = None
        self._keys: KeySet | None = None
        self._keys_fetched = 0.0

    async def metadata(self) -> ServerMetadata:
        """Fetched once and kept; a failure is not cached, so a later request retries."""
        if self._metadata is None:
            url = f"{self.issuer}/.well-known/oauth-authorization-server"
            document = await self._json("GET", url)
            if not isinstance(document, dict):
                raise ProviderError("the discovery document is not a JSON object")
            if document.get("issuer") != self.issuer:
                raise ProviderError(
                    "the discovery document names another issuer than the one configured "
                    "(RFC 8414 §3.3); refusing to use it"
                )
            self._metadata = ServerMetadata(
                issuer=self.issuer,
                authorization_endpoint=str(_endpoint(document, "authorization_endpoint")),
                token_endpoint=str(_endpoint(document, "token_endpoint")),
                revocation_endpoint=_endpoint(document, "revocation_endpoint", required=False),
                jwks_uri=_endpoint(document, "jwks_uri", required=False),
                end_session_endpoint=_endpoint(document, "end_session_endpoint", required=False),
                pushed_authorization_request_endpoint=_endpoint(
                    document, "pushed_authorization_request_endpoint", required=False
                ),
            )
        return self._metadata

    async def authorization_url(
        self, *, scope: str, state: str, code_challenge: str, nonce: str
    ) -> str:
        """Where to send the browser: with PAR, only ``client_id`` and ``request_uri``."""
        metadata = await self.metadata()
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "nonce": nonce,
        }
        if metadata.pushed_authorization_request_endpoint is not None:
            request_uri = await self._push(metadata.pushed_authorization_request_endpoint, query)
            query = {"client_id": self.client_id, "request_uri": request_uri}
        return _with_query(metadata.authorization_endpoint, query)

    async def _push(self, endpoint: str, request: dict[str, str]) -> str:
        """RFC 9126 §2: the request, authenticated as at /token; the ``request_uri`` (201)."""
        try:
            response = await self._http.post(
                endpoint, data=request, headers={"Authorization": self._authorization}
            )
            body = response.json()
        except httpx.HTTPError as error:
            raise ProviderError(
                "the pushed authorization request endpoint is unreachable"
            ) from error
        except ValueError as error:
            raise ProviderError("the pushed authorization request got no JSON answer") from error
        request_uri = body.get("request_uri") if isinstance(body, dict) else None
        if response.status_code != 201 or not isinstance(request_uri, str):
            code = body.get("error") if isinstance(body, dict) else None
            raise ProviderError(f"the server refused the pushed authorization request ({code})")
        return request_uri

    async def end_session_url(
        self, *, id_token: str, post_logout_redirect_uri: str, state: str
    ) -> str | None:
        """RP-Initiated Logout 1.0 §2; None when the server offers no end-session endpoint."""
        endpoint = (await self.metadata()).end_session_endpoint
        if endpoint is None:
            return None
        query = {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "state": state,
            "client_id": self.client_id,
        }
        return _with_query(endpoint, query)

    async def key_set(self, *, refresh: bool = False) -> KeySet:
        """The issuer's JWK Set; ``refresh`` asks for a new copy (at most every JWKS_REFETCH s)."""
        stale = time.monotonic() - self._keys_fetched >= JWKS_REFETCH
        if self._keys is None or (refresh and stale):
            uri = (await self.metadata()).jwks_uri
            if uri is None:
                raise ProviderError("the discovery document names no jwks_uri")
            document = await self._json("GET", uri)
            try:
                self._keys = KeySet.import_key_set(document)
            except (JoseError, ValueError, TypeError, KeyError) as error:
                raise ProviderError("the issuer's JWK Set could not be read") from error
            self._keys_fetched = time.monotonic()
        return self._keys

    async def redeem(self, code: str, code_verifier: str) -> TokenSet | TokenError:
        return await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    async def refresh(self, refresh_token: str) -> TokenSet | TokenError:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def revoke(self, token: str, hint: str) -> None:
        """Best effort (RFC 7009 §2): signing out must work even when the server is down."""
        endpoint = (await self.metadata()).revocation_endpoint
        if endpoint is None:
            return
        try:
            await self._http.post(
                endpoint,
                data={"token": token, "token_type_hint": hint},
                headers={"Authorization": self._authorization},
            )
        except httpx.HTTPError:
            return

    async def verified(self, check: Callable[..., T], token: str, **facts: Any) -> T:
        """Run an ``id_tokens`` check with the issuer's keys; once more with fresh keys if the
        signature did not verify (the server may have rotated its key since the last fetch)."""
        common = {"issuer": self.issuer, "client_id": self.client_id, **facts}
        try:
            return check(token, keys=await self.key_set(), **common)
        except TokenRejected as error:
            if not str(error).startswith("signature"):
                raise
        return check(token, keys=await self.key_set(refresh=True), **common)

    async def call_api(self, url: str, access_token: str) -> ApiAnswer:
        try:
            response = await self._http.get(
                url, headers={"Authorization": f"Bearer {access_token}"}
            )
        except httpx.HTTPError as error:
            raise ProviderError(f"the API at {url} could not be reached") from error
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        return ApiAnswer(status=response.status_code, body=body)

    async def _token(self, form: dict[str, str]) -> TokenSet | TokenError:
        endpoint = (await self.metadata()).token_endpoint
        try:
            response = await self._http.post(
                endpoint, data=form, headers={"Authorization": self._authorization}
            )
            body = response.json()
        except httpx.HTTPError as error:
            raise ProviderError("the token endpoint could not be reached") from error
        except ValueError:
            return TokenError(error="invalid_response", description="the answer was not JSON")
        if not isinstance(body, dict):
            return TokenError(error="invalid_response", description="the answer was not an object")
        access_token = body.get("access_token")
        if response.status_code != 200 or not isinstance(access_token, str):
            return TokenError(
                error=str(body.get("error", f"HTTP {response.status_code}")),
                description=str(body.get("error_description", "")),
            )
        if str(body.get("token_type", "")).lower() != "bearer":
            return TokenError(error="invalid_response", description="token_type is not Bearer")
        refresh = body.get("refresh_token")
        expires_in = body.get("expires_in")
        scope = body.get("scope")
        id_token = body.get("id_token")
        return TokenSet(
            access_token=access_token,
            refresh_token=refresh if isinstance(refresh, str) else None,
            expires_in=expires_in if isinstance(expires_in, int) else None,
            scope=scope if isinstance(scope, str) else None,
            id_token=id_token if isinstance(id_token, str) else None,
        )

    async def _json(self, method: str, url: str) -> Any:
        try:
            response = await self._http.request(method, url)
            response.raise_for_status()
            return response.json()
        except httpx.HTTPError as error:
            raise ProviderError(f"{url} could not be fetched") from error
        except ValueError as error:
            raise ProviderError(f"{url} did not answer with JSON") from error
