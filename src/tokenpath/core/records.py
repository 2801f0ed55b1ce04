"""What the authorization server remembers, as immutable values the stores read and write.

Storage adapters map these to rows at their boundary; nothing above ``storage/`` sees an ORM
object. Every secret-bearing field holds a hash (``*_hash``), never the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "AccessTokenRecord",
    "AdminToken",
    "Api",
    "ApiScope",
    "AuthorizationCode",
    "Client",
    "ClientType",
    "Grant",
    "GrantType",
    "InitialAccessToken",
    "PushedRequest",
    "RefreshTokenRecord",
    "ResponseType",
    "RevocationEvent",
    "Session",
    "SigningKey",
    "User",
]


class ClientType(StrEnum):
    """RFC 6749 §2.1."""

    CONFIDENTIAL = "confidential"
    PUBLIC = "public"


class GrantType(StrEnum):
    """RFC 7591 §2 grant_types vocabulary."""

    AUTHORIZATION_CODE = "authorization_code"
    IMPLICIT = "implicit"
    REFRESH_TOKEN = "refresh_token"
    CLIENT_CREDENTIALS = "client_credentials"


class ResponseType(StrEnum):
    """RFC 6749 §3.1.1 response types this server knows (OIDC Core §3.2 adds the ``id_token``
    ones; the order of space-separated values does not matter, Multiple Response Types §2)."""

    CODE = "code"
    TOKEN = "token"
    ID_TOKEN = "id_token"
    ID_TOKEN_TOKEN = "id_token token"


@dataclass(frozen=True, slots=True, kw_only=True)
class Client:
    """A registered client (RFC 6749 §2; metadata names from RFC 7591 §2)."""

    client_id: str
    client_name: str
    client_type: ClientType
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    """Every scope the client may ask for."""
    default_scopes: tuple[str, ...] = ()
    """Scopes granted when a request has no ``scope`` (RFC 6749 §3.3); empty: all ``scopes``."""
    grant_types: tuple[GrantType, ...] = (GrantType.AUTHORIZATION_CODE,)
    response_types: tuple[ResponseType, ...] = (ResponseType.CODE,)
    token_endpoint_auth_method: str = "client_secret_basic"
    require_pkce: bool = False
    """PKCE is always required for public clients; this adds it for a confidential one."""
    access_token_format: str = "jwt"
    """``jwt`` (RFC 9068, validated locally) or ``opaque`` (validated by introspection)."""
    jwks: str | None = None
    """JSON text of the client's public JWK Set, for ``private_key_jwt`` (RFC 7523)."""
    jwks_uri: str | None = None
    """Where the client publishes that JWK Set instead (RFC 7591 §2: never both)."""
    post_logout_redirect_uris: tuple[str, ...] = ()
    """Where RP-Initiated Logout 1.0 §3 may send the browser after logout (exact match)."""
    backchannel_logout_uri: str | None = None
    """Where Back-Channel Logout 1.0 §2.2 delivers logout tokens; None: the client gets none."""
    subject_type: str = "public"
    """OIDC Core §8: ``public`` (one ``sub`` for every client) or ``pairwise`` (one per client)."""
    dynamic: bool = False
    """Registered over HTTP (RFC 7591), not by an operator: early errors get an interstitial."""
    registration_access_token_hash: str | None = None
    """SHA-256 of the RFC 7592 registration access token of a dynamically registered client."""
    application_type: str = "web"
    """OIDC Registration §2: ``web`` or ``native`` (which redirect URI schemes it may use)."""
    require_pushed_authorization_requests: bool = False
    """RFC 9126 §6: ``/authorize`` takes this client's requests only through ``/par``."""
    dpop_bound_access_tokens: bool = False
    """RFC 9449 §5.2: the client always uses DPoP; a token request without a proof is refused."""
    resources: tuple[str, ...] = ()
    """Identifiers of the APIs (:class:`Api`) the client may get access tokens for (RFC 8707)."""
    default_resource: str | None = None
    """The API a request naming no ``resource`` is for; None: the first of ``resources``."""
    created_at: int = 0
    disabled_at: int | None = None
    """Set by an operator: the client cannot authenticate, authorize or refresh, and its tokens
    are inactive, until enabled again (``core/lifecycle``)."""
    previous_secret_hash: str | None = None
    """The secret replaced by a rotation, still accepted until ``previous_secret_expires_at``."""
    previous_secret_expires_at: int | None = None

    @property
    def is_public(self) -> bool:
        return self.client_type is ClientType.PUBLIC


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    user_id: str
    username: str
    password_hash: str
    claims: str = "{}"
    """JSON object of the user's OpenID Connect standard claims (OIDC Core §5.1), e.g. ``name``,
    ``email``, ``email_verified``; ``sub`` is never stored here."""
    created_at: int = 0
    disabled_at: int | None = None
    """Set by an operator: the user cannot sign in until enabled again; grants stay."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """One authorization a user gave a client; codes and tokens descend from it.

    Revoking the grant revokes every token that names it, whenever it was issued: that is
    what makes code-replay and (later) refresh-reuse revocation race-free.
    """

    grant_id: str
    client_id: str
    user_id: str | None
    scope: tuple[str, ...]
    created_at: int
    auth_time: int | None = None
    revoked_at: int | None = None
    sid: str | None = None
    """The browser session it was given in (OIDC ``sid``), so logout can find it."""
    resources: tuple[str, ...] = ()
    """The APIs the user approved it for (RFC 8707 §2.1); the refresh token can mint a token
    for each of them in turn (§2.2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationCode:
    """RFC 6749 §4.1.2 code, bound to everything §4.1.3 checks on redemption."""

    code_hash: str
    grant_id: str
    client_id: str
    user_id: str
    redirect_uri: str
    redirect_uri_in_request: bool
    """§4.1.3: redirect_uri is required at /token only if it was sent to /authorize."""
    scope: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    auth_time: int
    issued_at: int
    expires_at: int
    consumed_at: int | None = None
    sid: str | None = None
    """The browser session the code was issued in (the id_token's ``sid``)."""
    dpop_jkt: str | None = None
    """RFC 9449 §10: the thumbprint of the key the token request must prove possession of."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessTokenRecord:
    """The server's memory of an issued access token, keyed by its ``jti`` (RFC 9068 §2.2)."""

    jti: str
    grant_id: str | None
    client_id: str
    subject: str
    scope: tuple[str, ...]
    audience: str
    grant_type: GrantType
    issued_at: int
    expires_at: int
    revoked_at: int | None = None
    token_hash: str | None = None
    """SHA-256 of an opaque access token; None for JWTs, which are found by ``jti``."""
    jkt: str | None = None
    """RFC 9449 §6: the thumbprint of the DPoP key the token is bound to (``cnf.jkt``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshTokenRecord:
    """An opaque refresh token (RFC 6749 §1.5), one link of its grant's rotation chain."""

    token_hash: str
    grant_id: str
    client_id: str
    user_id: str
    scope: tuple[str, ...]
    issued_at: int
    expires_at: int
    """Absolute end of the family: rotation never extends it."""
    idle_expires_at: int
    """Unused for this long, the token dies (RFC 9700 §4.14.2 SHOULD expire after inactivity)."""
    used_at: int | None = None
    revoked_at: int | None = None
    jkt: str | None = None
    """RFC 9449 §5: a public client's refresh token is bound to its DPoP key; None: unbound."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A signed-in browser at the AS (the cookie holds the id; we store only its hash)."""

    session_hash: str
    user_id: str
    auth_time: int
    expires_at: int
    sid: str = ""
    """A public identifier of this session (OIDC ``sid`` claim, Back-Channel Logout 1.0 §2.4);
    unlike the cookie value it grants nothing, so it may appear in tokens."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningKey:
    """A JWS signing key; ``private_jwk`` is the JSON text of the private JWK (RFC 7517)."""

    kid: str
    alg: str
    private_jwk: str
    created_at: int
    retired_at: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InitialAccessToken:
    """An operator's permission to register clients over HTTP (RFC 7591 §1.2, §3).

    Only the SHA-256 of the token is kept. ``uses_left`` None means any number of registrations,
    ``expires_at`` None means no expiry.
    """

    token_hash: str
    uses_left: int | None
    expires_at: int | None
    created_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PushedRequest:
    """An authorization request pushed to ``/par`` (RFC 9126 §2), kept until ``/authorize``
    takes it once; also the hand-over between the sign-in and consent steps of such a request.

    Only the SHA-256 of its ``request_uri`` is kept: the URI is a bearer handle to the request.
    """

    uri_hash: str
    client_id: str
    parameters: str
    """JSON text: the list of ``[name, value]`` pairs of the authorization request."""
    created_at: int
    expires_at: int
    used_at: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminToken:
    """An operator's credential for the admin API; only the SHA-256 of the token is kept.

    ``expires_at`` None means no expiry; a revoked token never authenticates again.
    """

    token_id: str
    token_hash: str
    name: str
    created_at: int
    expires_at: int | None = None
    revoked_at: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiScope:
    """A scope an API defines, with the words the consent page shows for it."""

    name: str
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Api:
    """A registered resource server: the audience of its access tokens (RFC 8707 ``resource``,
    RFC 9068 §3 ``aud``), the scopes it defines and how its tokens are made.

    ``client_id`` names a confidential client record holding the API's own credentials: with
    them it introspects its tokens (RFC 7662 §2.1) and reads the revocation feed. That client has
    no grant types, so the credentials get no tokens of their own.
    """

    identifier: str
    """An absolute ``https`` URI (``http`` on a loopback host), without a fragment."""
    scopes: tuple[ApiScope, ...]
    client_id: str
    token_format: str = "jwt"
    """``jwt`` (RFC 9068, validated locally) or ``opaque`` (validated by introspection)."""
    access_token_lifetime: int | None = None
    """Seconds its access tokens live; None: the server's ``access_token_lifetime``."""
    claims: str = "{}"
    """JSON object of static claims added to each of its access tokens (never a reserved one)."""
    created_at: int = 0

    @property
    def scope_names(self) -> tuple[str, ...]:
        return tuple(scope.name for scope in self.scopes)


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationEvent:
    """One entry of the revocation feed: a revoked JWT (``jti``) or grant, for one API.

    ``event_id`` is assigned by the store, increasing: it is the feed's cursor. ``expires_at``
    is when the entry stops mattering (the token's ``exp``, or for a grant the revocation time
    plus the API's access-token lifetime); clean-up deletes it then.
    """

    event_id: int = 0
    audience: str
    jti: str | None = None
    grant_id: str | None = None
    expires_at: int
    created_at: int
