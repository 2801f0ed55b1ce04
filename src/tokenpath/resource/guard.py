"""One decision for every framework: a request in, an access token or the RFC 6750 §3 denial out.

Every adapter (Starlette middleware, FastAPI dependency, Flask decorator, Django middleware)
only turns its request into :class:`RequestFacts` and a :class:`Denial` into its response; what
is accepted, and how a refusal reads on the wire, is decided here alone.

The steps, in order:

1. **read** the credentials (:func:`read_credentials`): the ``Authorization`` header only, by
   ``core/bearer.py``'s grammar; a token in the URI query is refused (RFC 9700 §4.3.2, catalog
   A8.3), two ``Authorization`` headers or a token sent two ways are ``invalid_request``;
2. **validate** the token: the one I/O step, run by :class:`Guard` (``await``) or
   :class:`SyncGuard` (WSGI);
3. **bind** (:func:`check_binding`): a token bound to a key (``cnf.jkt``, RFC 9449 §6) is
   refused when presented as Bearer (§7.2). The proof-of-possession check for
   ``Authorization: DPoP`` is the step that will sit here, with the request's method and URL;
4. **authorize** (:func:`authorize`): every needed scope granted, else 403
   ``insufficient_scope`` naming them.

The denial table (RFC 6750 §3): no credentials → 401 with a bare challenge (§3.1); a token that
fails validation → 401 ``invalid_token``; a missing scope → 403 ``insufficient_scope`` with
``scope``; a malformed request → 400 ``invalid_request``. Every denial carries a JSON body
(``error``/``error_description``, the bare one only the description) and ``no-store``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tokenpath.core.bearer import QueryTokenRefused, header_token, quote
from tokenpath.core.errors import InsufficientScope, InvalidRequest, InvalidToken, OAuthError
from tokenpath.resource.validation import AccessToken, SyncTokenValidator, TokenValidator

__all__ = [
    "Authenticated",
    "Denial",
    "Guard",
    "Presented",
    "RequestFacts",
    "SyncGuard",
    "authorize",
    "check_binding",
    "deny",
    "read_credentials",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFacts:
    """What the guard reads of a request: method, full URL, headers (names lower-case).

    The method and URL are unused by Bearer; a DPoP proof is bound to both (RFC 9449 §4.3).
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, method: str, url: str, headers: Iterable[tuple[str, str]]) -> RequestFacts:
        return cls(
            method=method.upper(),
            url=url,
            headers=tuple((name.lower(), value) for name, value in headers),
        )

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


@dataclass(frozen=True, slots=True, kw_only=True)
class Presented:
    """Credentials as presented: the scheme (``Bearer``) and the token."""

    scheme: str
    token: str = field(repr=False)


Authenticated = AccessToken | OAuthError | None
"""A request's state after steps 1 to 3: a token, the reason it has none, or no credentials."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Denial:
    """The response an adapter sends when the call is not allowed."""

    status: int
    headers: Mapping[str, str]
    body: Mapping[str, str]


def deny(error: OAuthError | None, *, realm: str, scope: str | None = None) -> Denial:
    """The RFC 6750 §3 response for ``error`` (None: no credentials were presented)."""
    params = [f'realm="{quote(realm)}"']
    body: dict[str, str]
    if error is None:
        status = 401
        body = {"error_description": "this API needs a bearer access token"}
    else:
        status = error.status
        body = dict(error.to_dict())
        params.append(f'error="{error.error}"')
        if error.description:
            params.append(f'error_description="{quote(error.description)}"')
    if scope:
        params.append(f'scope="{quote(scope)}"')
        body["scope"] = scope
    headers = {"WWW-Authenticate": "Bearer " + ", ".join(params), "Cache-Control": "no-store"}
    return Denial(status=status, headers=headers, body=body)


def read_credentials(facts: RequestFacts) -> Presented | OAuthError | None:
    """Step 1: the presented credentials, None when there are none, or why it is malformed."""
    headers = facts.header_values("authorization")
    query = urlsplit(facts.url).query
    in_query = any(name == "access_token" for name, _ in parse_qsl(query, keep_blank_values=True))
    if len(headers) > 1:
        return InvalidRequest("send one Authorization header")
    token = None
    if headers:
        try:
            token = header_token(headers[0])
        except InvalidRequest as error:
            return error
    if in_query:
        if token is not None:
            return InvalidRequest("send the access token one way only")
        return QueryTokenRefused(
            "access tokens in the URI query are not accepted; use the Authorization header"
        )
    return None if token is None else Presented(scheme="Bearer", token=token)


def check_binding(
    facts: RequestFacts, presented: Presented, token: AccessToken
) -> OAuthError | None:
    """Step 3: a key-bound token needs its proof; as a Bearer token it is refused."""
    confirmation: Any = token.claims.get("cnf")
    if isinstance(confirmation, Mapping) and "jkt" in confirmation and presented.scheme == "Bearer":
        return InvalidToken("this access token is bound to a key (DPoP) and needs its proof")
    return None


def authorize(outcome: Authenticated, needed: Iterable[str], *, realm: str) -> AccessToken | Denial:
    """Step 4: the token if it holds every scope in ``needed``, else the denial to send."""
    if outcome is None or isinstance(outcome, OAuthError):
        return deny(outcome, realm=realm)
    wanted = list(needed)
    if not outcome.allows(*wanted):
        scope = " ".join(wanted)
        return deny(InsufficientScope(f"this call needs scope {scope}"), realm=realm, scope=scope)
    return outcome


class _Steps:
    def __init__(self, *, realm: str) -> None:
        self.realm = realm

    def _bound(
        self, facts: RequestFacts, presented: Presented, result: AccessToken | OAuthError
    ) -> Authenticated:
        if isinstance(result, OAuthError):
            return result
        return check_binding(facts, presented, result) or result

    def authorize(self, outcome: Authenticated, *needed: str) -> AccessToken | Denial:
        return authorize(outcome, needed, realm=self.realm)


class Guard(_Steps):
    """The steps with an async validator (``JwtValidator``, ``IntrospectionValidator``)."""

    def __init__(self, validator: TokenValidator, *, realm: str = "tokenpath") -> None:
        super().__init__(realm=realm)
        self.validator = validator

    async def authenticate(self, facts: RequestFacts) -> Authenticated:
        """Steps 1 to 3, once per request, whatever the route needs."""
        presented = read_credentials(facts)
        if not isinstance(presented, Presented):
            return presented
        return self._bound(facts, presented, await self.validator.validate(presented.token))

    async def check(self, facts: RequestFacts, *needed: str) -> AccessToken | Denial:
        """All four steps."""
        return self.authorize(await self.authenticate(facts), *needed)


class SyncGuard(_Steps):
    """The steps with a synchronous validator (:class:`~tokenpath.resource.SyncJwtValidator`)."""

    def __init__(self, validator: SyncTokenValidator, *, realm: str = "tokenpath") -> None:
        super().__init__(realm=realm)
        self.validator = validator

    def authenticate(self, facts: RequestFacts) -> Authenticated:
        """Steps 1 to 3, once per request, whatever the view needs."""
        presented = read_credentials(facts)
        if not isinstance(presented, Presented):
            return presented
        return self._bound(facts, presented, self.validator.validate(presented.token))

    def check(self, facts: RequestFacts, *needed: str) -> AccessToken | Denial:
        """All four steps."""
        return self.authorize(self.authenticate(facts), *needed)
