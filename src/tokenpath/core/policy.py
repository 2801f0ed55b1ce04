"""Server policy as data: secure defaults from RFC 9700, weakened only by named ``allow_*`` options.

The web layer and the CLI build one :class:`Policy` from settings at start-up; the core reads it
and never consults the environment itself.

Each knob is declared once, here: its name, type, default, bounds and a one-line reason, the
reason and bounds carried as :class:`Knob` metadata on the dataclass field. The fields of
:class:`PolicyKnobs` are exactly the operator's ``TOKENPATH_*`` settings (the settings module
derives its fields from them); :class:`Policy` adds what is set another way: the issuer and
the default API (settings of their own, checked for shape first), and the limits no deployment
needs to turn (``scopes_supported``, ``max_param_length``).

Invariant: a :class:`Policy` that exists is within bounds. Construction refuses any value outside
its knob's bounds with a message naming the knob, so a misconfigured server never starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

__all__ = ["OPENID_SCOPES", "Knob", "Policy", "PolicyKnobs", "knob", "knob_of"]

OPENID_SCOPES: tuple[str, ...] = (
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
)
"""The scopes the server itself defines (OIDC Core §5.4: each releases its claims; §11); every
other scope is an API's (``core/apis.py``)."""

_KNOB = "tokenpath.knob"


@dataclass(frozen=True, slots=True, kw_only=True)
class Knob:
    """What a policy field declares besides its type and default: why it exists, and its range."""

    why: str
    low: int | None = None
    high: int | None = None

    def check(self, name: str, value: object) -> None:
        """Refuse ``value`` outside ``[low, high]``, naming the knob (bools carry no bounds)."""
        if not isinstance(value, int) or isinstance(value, bool):
            return
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ValueError(f"{name} must be {self.range_text()}, not {value}")

    def range_text(self) -> str:
        """The bounds in words: ``between 1 and 600``, ``at least 1``, or empty."""
        if self.low is not None and self.high is not None:
            return f"between {self.low} and {self.high}"
        if self.low is not None:
            return f"at least {self.low}"
        if self.high is not None:
            return f"at most {self.high}"
        return ""


def knob(why: str, *, low: int | None = None, high: int | None = None) -> Mapping[str, Any]:
    """Field metadata declaring a knob: ``field(default=60, metadata=knob("why", low=1))``."""
    return MappingProxyType({_KNOB: Knob(why=why, low=low, high=high)})


def knob_of(metadata: Mapping[str, Any]) -> Knob | None:
    """The :class:`Knob` declared in a field's metadata, if any."""
    declared = metadata.get(_KNOB)
    return declared if isinstance(declared, Knob) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyKnobs:
    """The knobs an operator turns: each field is the setting ``TOKENPATH_<FIELD>``."""

    code_lifetime: int = field(
        default=60,
        metadata=knob(
            "Seconds an authorization code lives: short-lived, never above 600 s "
            "(RFC 9700 §4.2.4, RFC 6749 §4.1.2).",
            low=1,
            high=600,
        ),
    )
    access_token_lifetime: int = field(
        default=600, metadata=knob("Seconds an access token lives.", low=1)
    )
    implicit_access_token_lifetime: int = field(
        default=300,
        metadata=knob(
            "Seconds an implicit-flow access token lives (shorter: it travels in a URL).", low=1
        ),
    )
    id_token_lifetime: int = field(
        default=600,
        metadata=knob(
            "Seconds an ID token is valid (OIDC Core §2 ``exp``): it proves a sign-in to the "
            "client, which checks it at once, so minutes are enough.",
            low=1,
            high=86400,
        ),
    )
    session_lifetime: int = field(
        default=8 * 3600, metadata=knob("Seconds a browser session at the server lives.", low=1)
    )
    refresh_token_lifetime: int = field(
        default=30 * 24 * 3600,
        metadata=knob(
            "Absolute lifetime in seconds of a refresh-token family; rotation never extends it.",
            low=1,
        ),
    )
    refresh_token_idle_lifetime: int = field(
        default=7 * 24 * 3600,
        metadata=knob(
            "Seconds after which an unused refresh token dies (RFC 9700 §4.14.2).", low=1
        ),
    )
    login_failures_per_minute: int = field(
        default=10,
        metadata=knob(
            "Failed sign-ins per username per minute before sign-in waits (docs/security.md A20).",
            low=1,
        ),
    )
    client_auth_failures_per_minute: int = field(
        default=50,
        metadata=knob(
            "Failed client authentications per client id per minute before 429 "
            "(docs/security.md A20).",
            low=1,
        ),
    )
    allow_implicit: bool = field(
        default=False,
        metadata=knob(
            "Turn the implicit grant on server-wide: OAuth 2.1 omits it and RFC 9700 §2.1.2 "
            "says SHOULD NOT, so it is off unless asked for (logged as a warning)."
        ),
    )
    require_pkce_for_confidential: bool = field(
        default=False,
        metadata=knob(
            "OAuth 2.1 mode: PKCE for confidential clients too "
            "(it is always required for public ones)."
        ),
    )
    require_dpop: bool = field(
        default=False,
        metadata=knob(
            "Every client must send a DPoP proof at the token endpoint, so every access token "
            "is bound to a key (RFC 9449 §5; per client: dpop_bound_access_tokens)."
        ),
    )
    require_dpop_nonce: bool = field(
        default=False,
        metadata=knob(
            "DPoP proofs at the token endpoint must carry a server-provided nonce "
            "(RFC 9449 §8): limits how far ahead a stolen signing capability can mint proofs."
        ),
    )
    dpop_nonce_window: int = field(
        default=300,
        metadata=knob(
            "Seconds each DPoP nonce window lasts; the current and previous window's nonces "
            "are accepted.",
            low=10,
            high=3600,
        ),
    )
    dpop_proof_max_age: int = field(
        default=60,
        metadata=knob(
            "Seconds a DPoP proof is accepted after its iat (RFC 9449 §4.3, §11.1); its jti is "
            "remembered as long.",
            low=5,
            high=600,
        ),
    )

    pushed_request_lifetime: int = field(
        default=60,
        metadata=knob(
            "Seconds a request_uri from /par stays usable at /authorize: short-lived and "
            "taken once (RFC 9126 §2.2, §4).",
            low=1,
            high=600,
        ),
    )
    pushed_request_step_lifetime: int = field(
        default=600,
        metadata=knob(
            "Seconds the user has for each sign-in or consent step of a pushed request once "
            "/authorize took it (docs/howto/par.md).",
            low=1,
            high=3600,
        ),
    )
    require_pushed_authorization_requests: bool = field(
        default=False,
        metadata=knob(
            "Accept authorization requests from every client only through /par "
            "(RFC 9126 §5; a client can be required to on its own)."
        ),
    )

    def __post_init__(self) -> None:
        for declared in fields(self):
            spec = knob_of(declared.metadata)
            if spec is not None:
                spec.check(declared.name, getattr(self, declared.name))


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy(PolicyKnobs):
    """The knobs plus what is not an operator setting of its own (see the module docstring)."""

    issuer: str
    """Exact issuer identifier (RFC 8414 §2): the ``iss`` of tokens and authorization responses."""
    audience: str | None = None
    """The default API (``TOKENPATH_AUDIENCE``): the identifier of a registered API that a
    client naming no API of its own may get tokens for (``core/apis.py``); None: no default."""
    scopes_supported: tuple[str, ...] = field(
        default=OPENID_SCOPES,
        metadata=knob("Scopes the server defines itself (RFC 8414 §2); APIs add their own."),
    )
    pairwise_salt: str = field(default="", repr=False)
    """Secret mixed into pairwise subject identifiers (``core/subjects.py``); empty: no client
    may use pairwise subjects."""
    max_param_length: int = field(
        default=2048,
        metadata=knob(
            "Longest single request parameter accepted; longer input is ``invalid_request``.",
            low=256,
            high=65536,
        ),
    )

    def __post_init__(self) -> None:
        PolicyKnobs.__post_init__(self)
        if self.issuer.endswith("/") or "?" in self.issuer or "#" in self.issuer:
            raise ValueError("issuer must have no trailing slash, query or fragment (RFC 8414 §2)")

    def endpoint(self, path: str) -> str:
        """Absolute URL of one of our endpoints, derived only from the configured issuer."""
        return f"{self.issuer}{path}"
