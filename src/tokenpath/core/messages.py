"""Protocol messages: what goes into the core and the decisions that come out.

Inputs are parsed once (``params.py``) into typed values; outputs are one of a closed set of
decisions the web layer renders without making any protocol choice of its own:

* :class:`Redirect` — send the browser to ``location`` (303 for POSTs, RFC 9700 §4.12).
* :class:`FormPost` — auto-submitting form (OAuth 2.0 Form Post Response Mode).
* :class:`JsonResponse` — reply with this status, JSON body and headers.
* :class:`ErrorPage` — show an error at the AS; used whenever the redirect URI is not trusted.
* :class:`LoginPrompt` / :class:`ConsentPrompt` — the interactive steps of ``/authorize``.
* :class:`Interstitial` — an error for a client registered over HTTP, shown at the AS with a
  button that continues to the client (RFC 9700 §4.11.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tokenpath.core.errors import OAuthError
from tokenpath.core.records import Api, Client

__all__ = [
    "NO_STORE",
    "BackchannelRequest",
    "ClientCredentials",
    "ConsentPrompt",
    "Decision",
    "ErrorPage",
    "FormPost",
    "Interstitial",
    "JsonResponse",
    "LoginPrompt",
    "Redirect",
]

NO_STORE: tuple[tuple[str, str], ...] = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))
"""RFC 6749 §5.1: every response carrying tokens or credentials."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientCredentials:
    """How the client presented itself at the token endpoint (RFC 6749 §2.3)."""

    client_id: str
    client_secret: str | None
    method: str
    """``client_secret_basic``, ``client_secret_post``, ``private_key_jwt`` or ``none``."""
    assertion: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackchannelRequest:
    """A client's direct POST to ``/token``, ``/revoke`` or ``/introspect``: the form pairs as
    sent plus the ``Authorization`` header, before any parsing or client authentication."""

    form: tuple[tuple[str, str], ...]
    """Raw form pairs in order; the core rejects duplicates (RFC 6749 §3.2)."""
    authorization: str | None = None
    """The ``Authorization`` header, verbatim."""
    address: str | None = None
    """The client's network address as the web layer established it (for security events)."""
    dpop: tuple[str, ...] = ()
    """Every ``DPoP`` header value as sent (RFC 9449 §4.1; more than one is refused)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect:
    location: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FormPost:
    action: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonResponse:
    status: int
    body: Mapping[str, object]
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorPage:
    """An error shown at the AS itself; never a redirect (RFC 6749 §4.1.2.1 first paragraph)."""

    error: OAuthError
    status: int = 400


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginPrompt:
    """The user must sign in before the request can go on."""

    client: Client
    login_hint: str | None = None
    """OIDC Core §3.1.2.1: the user name to prefill, as the client suggested it."""
    resume: tuple[tuple[str, str], ...] | None = None
    """The authorization request to continue with after sign-in; None: the request as sent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentPrompt:
    """The signed-in user must approve ``scopes`` for ``client``."""

    client: Client
    scopes: tuple[str, ...]
    redirect_host: str
    resume: tuple[tuple[str, str], ...] | None = None
    """The authorization request the consent form sends back; None: the request as sent."""
    apis: tuple[Api, ...] = ()
    """The APIs the request is for: the consent page shows each with its scopes' texts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Interstitial:
    """An error bound for a dynamically registered client, held at the AS (RFC 9700 §4.11.2).

    Anyone can register a client whose redirect URI is a phishing page and use the AS's URL as a
    trusted-looking link to it; an error that sent the browser on at once would make the AS that
    link's bounce. The user sees ``error``, the host it goes to and chooses to ``proceed``.
    """

    error: OAuthError
    host: str
    proceed: Redirect | FormPost


Decision = Redirect | FormPost | ErrorPage | LoginPrompt | ConsentPrompt | Interstitial
"""Everything ``/authorize`` can decide."""
