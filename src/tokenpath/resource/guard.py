"""One decision for every framework: a request in, an access token or the RFC 6750 §3 denial out.

Every adapter (Starlette middleware, FastAPI dependency, Flask decorator, Django middleware)
only turns its request into :class:`RequestFacts` and a :class:`Denial` into its response; what
is accepted, and how a refusal reads on the wire, is decided here alone.

The steps, in order:

1. **read** the credentials (:func:`read_credentials`): the ``Authorization`` header only,
   scheme ``Bearer`` (RFC 6750 §2.1) or ``DPoP`` (RFC 9449 §7.1); a token in the URI query is
   refused (RFC 9700 §4.3.2, catalog A8.3), two ``Authorization`` headers or a token sent two
   ways are ``invalid_request``;
2. **validate** the token: the one I/O step, run by :class:`Guard` (``await``) or
   :class:`SyncGuard` (WSGI);
3. **bind** (:func:`check_binding`, :func:`tokenpath.resource.dpop.prove`): a token bound to a
   key (``cnf.jkt``, RFC 9449 §6) is refused when presented as Bearer (§7.2); presented as DPoP
   it needs a proof of its key for this method and URL, seen once (replay cache);
4. **authorize** (:func:`authorize`): every needed scope granted, else 403
   ``insufficient_scope`` naming them.

The denial table (RFC 6750 §3, RFC 9449 §7.1): no credentials → 401 with bare challenges
(§3.1); a token that fails validation → 401 ``invalid_token``; a bad, replayed or other-key
proof → 401 ``invalid_dpop_proof``; a proof without the current resource-server nonce → 401
``use_dpop_nonce`` with ``DPoP-Nonce``; a missing scope → 403 ``insufficient_scope`` with
``scope``; a malformed request → 400 ``invalid_request``. ``WWW-Authenticate`` names every
accepted scheme (``Bearer realm=...``, ``DPoP realm=..., algs="..."``), the error in the
challenge of the scheme the token came with. Every denial carries a JSON body
(``error``/``error_description``, the bare one only the description) and ``no-store``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from tokenpath.core.bearer import QueryTokenRefused, quote
from tokenpath.core.dpop import DpopProof
from tokenpath.core.errors import (
    InsufficientScope,
    InvalidDpopProof,
    InvalidRequest,
    InvalidToken,
    OAuthError,
    UseDpopNonce,
)
from tokenpath.resource.dpop import (
    DpopInvalidToken,
    DpopOptions,
    bound_key,
    is_dpop_error,
    prove,
    replay_entry,
    replayed,
)
from tokenpath.resource.validation import AccessToken, SyncTokenValidator, TokenValidator

__all__ = [
    "Authenticated",
    "Denial",
    "DpopOptions",
    "Guard",
    "Presented",
    "RequestFacts",
    "SyncGuard",
    "authorize",
    "check_binding",
    "deny",
    "read_credentials",
]

# RFC 6750 §2.1, RFC 9449 §7.1: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_SCHEMES = {"bearer": "Bearer", "dpop": "DPoP"}


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFacts:
    """What the guard reads of a request: method, full URL, headers (names lower-case).

    The method and URL are unused by Bearer; a DPoP proof is bound to both (RFC 9449 §4.3), so
    adapters pass the URL the request was made to, scheme and host included.
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
    """Credentials as presented: the scheme (``Bearer`` or ``DPoP``) and the token."""

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


def _challenges(params: list[str], realm: str, dpop: DpopOptions | None, in_dpop: bool) -> str:
    """``WWW-Authenticate``: one challenge per accepted scheme, ``params`` (the error) in the
    one the token came with (RFC 9449 §7.1; RFC 9110 §11.6.1 allows several in one header)."""
    bare = [f'realm="{quote(realm)}"']
    challenges = []
    if dpop is None or not dpop.required:
        challenges.append("Bearer " + ", ".join(bare + ([] if in_dpop else params)))
    if dpop is not None:
        own = params if in_dpop or dpop.required else []
        algs = f'algs="{" ".join(dpop.algorithms)}"'
        challenges.append("DPoP " + ", ".join([*bare, *own, algs]))
    return ", ".join(challenges)


def deny(
    error: OAuthError | None,
    *,
    realm: str,
    scope: str | None = None,
    dpop: DpopOptions | None = None,
    in_dpop: bool = False,
) -> Denial:
    """The RFC 6750 §3 / RFC 9449 §7.1 response for ``error`` (None: no credentials).

    ``dpop``: the API also accepts DPoP (its challenge is added); ``in_dpop``: the token came
    with the DPoP scheme, so the error goes in the DPoP challenge."""
    params: list[str] = []
    body: dict[str, str]
    extra: dict[str, str] = {}
    if error is None:
        status = 401
        kind = "a bearer" if dpop is None else "an"
        body = {"error_description": f"this API needs {kind} access token"}
    else:
        in_dpop = in_dpop or is_dpop_error(error)
        status = 401 if isinstance(error, InvalidDpopProof | UseDpopNonce) else error.status
        body = dict(error.to_dict())
        params.append(f'error="{error.error}"')
        if error.description:
            params.append(f'error_description="{quote(error.description)}"')
        if isinstance(error, UseDpopNonce) and dpop is not None and dpop.nonces is not None:
            extra["DPoP-Nonce"] = dpop.nonces.current(dpop.clock())
    if scope:
        params.append(f'scope="{quote(scope)}"')
        body["scope"] = scope
    headers = {
        "WWW-Authenticate": _challenges(params, realm, dpop, in_dpop),
        "Cache-Control": "no-store",
        **extra,
    }
    return Denial(status=status, headers=headers, body=body)


def _header_credentials(value: str) -> Presented | OAuthError | None:
    """One ``Authorization`` value: Bearer or DPoP and one token68; another scheme is none."""
    scheme, _, rest = value.partition(" ")
    name = _SCHEMES.get(scheme.lower())
    if name is None:
        return None
    token = rest.strip(" ")
    if not _TOKEN68.fullmatch(token):
        return InvalidRequest(f"the Authorization header must be {name} and one token")
    return Presented(scheme=name, token=token)


def read_credentials(facts: RequestFacts) -> Presented | OAuthError | None:
    """Step 1: the presented credentials, None when there are none, or why it is malformed."""
    headers = facts.header_values("authorization")
    query = urlsplit(facts.url).query
    in_query = any(name == "access_token" for name, _ in parse_qsl(query, keep_blank_values=True))
    if len(headers) > 1:
        return InvalidRequest("send one Authorization header")
    presented = _header_credentials(headers[0]) if headers else None
    if isinstance(presented, OAuthError):
        return presented
    if in_query:
        if presented is not None:
            return InvalidRequest("send the access token one way only")
        return QueryTokenRefused(
            "access tokens in the URI query are not accepted; use the Authorization header"
        )
    return presented


def check_binding(
    facts: RequestFacts, presented: Presented, token: AccessToken
) -> OAuthError | None:
    """Step 3 for Bearer: a key-bound token needs its proof; as a Bearer token it is refused."""
    if presented.scheme == "Bearer" and bound_key(token.claims) is not None:
        return InvalidToken("this access token is bound to a key (DPoP) and needs its proof")
    return None


def authorize(
    outcome: Authenticated,
    needed: Iterable[str],
    *,
    realm: str,
    dpop: DpopOptions | None = None,
) -> AccessToken | Denial:
    """Step 4: the token if it holds every scope in ``needed``, else the denial to send."""
    if outcome is None or isinstance(outcome, OAuthError):
        return deny(outcome, realm=realm, dpop=dpop)
    wanted = list(needed)
    if not outcome.allows(*wanted):
        scope = " ".join(wanted)
        error = InsufficientScope(f"this call needs scope {scope}")
        bound = bound_key(outcome.claims) is not None
        return deny(error, realm=realm, scope=scope, dpop=dpop, in_dpop=bound)
    return outcome


def _options(dpop: DpopOptions | bool) -> DpopOptions | None:
    if isinstance(dpop, DpopOptions):
        return dpop
    return DpopOptions() if dpop else None


class _Steps:
    def __init__(self, *, realm: str, dpop: DpopOptions | bool) -> None:
        self.realm = realm
        self.dpop = _options(dpop)

    def _read(self, facts: RequestFacts) -> Presented | Authenticated:
        presented = read_credentials(facts)
        if not isinstance(presented, Presented):
            return presented
        if presented.scheme == "DPoP" and self.dpop is None:
            return None  # a scheme this API does not speak: no credentials it knows
        if presented.scheme == "Bearer" and self.dpop is not None and self.dpop.required:
            return DpopInvalidToken("this API accepts DPoP-bound access tokens only")
        return presented

    def _bound(
        self, facts: RequestFacts, presented: Presented, result: AccessToken | OAuthError
    ) -> AccessToken | OAuthError | DpopProof:
        """Step 3 up to the replay check: the token, why it is refused, or the proof to record."""
        if isinstance(result, OAuthError):
            in_dpop = presented.scheme == "DPoP" and isinstance(result, InvalidToken)
            return DpopInvalidToken(result.description) if in_dpop else result
        if presented.scheme == "Bearer" or self.dpop is None:
            return check_binding(facts, presented, result) or result
        return prove(
            self.dpop,
            method=facts.method,
            url=facts.url,
            proofs=facts.header_values("dpop"),
            token=presented.token,
            claims=result.claims,
            now=self.dpop.clock(),
        )

    def authorize(self, outcome: Authenticated, *needed: str) -> AccessToken | Denial:
        return authorize(outcome, needed, realm=self.realm, dpop=self.dpop)


class Guard(_Steps):
    """The steps with an async validator (``JwtValidator``, ``IntrospectionValidator``).

    ``dpop``: True (the default) accepts DPoP-bound tokens with default :class:`DpopOptions`
    next to Bearer; False accepts Bearer only; or the options themselves."""

    def __init__(
        self,
        validator: TokenValidator,
        *,
        realm: str = "tokenpath",
        dpop: DpopOptions | bool = True,
    ) -> None:
        super().__init__(realm=realm, dpop=dpop)
        self.validator = validator

    async def authenticate(self, facts: RequestFacts) -> Authenticated:
        """Steps 1 to 3, once per request, whatever the route needs."""
        presented = self._read(facts)
        if not isinstance(presented, Presented):
            return presented
        result = await self.validator.validate(presented.token)
        bound = self._bound(facts, presented, result)
        if not isinstance(bound, DpopProof):
            return bound
        assert self.dpop is not None and isinstance(result, AccessToken)
        now = self.dpop.clock()
        first = self.dpop.replay.first_use(*replay_entry(bound, self.dpop, now), now)
        if inspect.isawaitable(first):
            first = await first
        return result if first else replayed()

    async def check(self, facts: RequestFacts, *needed: str) -> AccessToken | Denial:
        """All four steps."""
        return self.authorize(await self.authenticate(facts), *needed)


class SyncGuard(_Steps):
    """The steps with a synchronous validator (:class:`~tokenpath.resource.SyncJwtValidator`);
    its DPoP replay cache must be synchronous too (the in-process default is)."""

    def __init__(
        self,
        validator: SyncTokenValidator,
        *,
        realm: str = "tokenpath",
        dpop: DpopOptions | bool = True,
    ) -> None:
        super().__init__(realm=realm, dpop=dpop)
        self.validator = validator

    def authenticate(self, facts: RequestFacts) -> Authenticated:
        """Steps 1 to 3, once per request, whatever the view needs."""
        presented = self._read(facts)
        if not isinstance(presented, Presented):
            return presented
        result = self.validator.validate(presented.token)
        bound = self._bound(facts, presented, result)
        if not isinstance(bound, DpopProof):
            return bound
        assert self.dpop is not None and isinstance(result, AccessToken)
        now = self.dpop.clock()
        first = self.dpop.replay.first_use(*replay_entry(bound, self.dpop, now), now)
        if inspect.isawaitable(first):
            if inspect.iscoroutine(first):
                first.close()
            raise TypeError("a synchronous guard needs a synchronous DPoP replay cache")
        return result if first else replayed()

    def check(self, facts: RequestFacts, *needed: str) -> AccessToken | Denial:
        """All four steps."""
        return self.authorize(self.authenticate(facts), *needed)
