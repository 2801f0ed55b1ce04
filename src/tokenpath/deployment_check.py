"""``tokenpath check``: every setting that makes a deployment weaker than RFC 9700 asks, by name.

Settings tokenpath refuses outright (an ``http`` issuer off loopback, a lifetime out of range) never
load at all; this audit is about the ones it accepts but an operator should not leave by mistake.
Each :class:`Finding` is ``weak`` (the deployment is less safe than the defaults: ``--strict``
fails on it) or a ``notice`` (a stricter choice is available).

It reads the settings and the database files' modes only: it never creates, migrates or opens a
database, so it is safe to run before the first start and from a deploy pipeline.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from tokenpath.settings import Settings, is_loopback_host
from tokenpath.storage.sql import check_database_permissions

__all__ = ["Finding", "audit"]

Severity = Literal["weak", "notice"]

LIMITS = {
    "access_token_lifetime": 3600,
    "implicit_access_token_lifetime": 600,
    "session_lifetime": 24 * 3600,
    "refresh_token_lifetime": 90 * 24 * 3600,
    "refresh_token_idle_lifetime": 30 * 24 * 3600,
    "login_failures_per_minute": 30,
    "client_auth_failures_per_minute": 600,
}
"""Above these, a lifetime or throttle is reported as weak (bearer tokens are usable by whoever
holds them for as long as they live; a throttle this loose lets online guessing through)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    setting: str
    severity: Severity
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"setting": self.setting, "severity": self.severity, "message": self.message}


def _env(name: str) -> str:
    return f"TOKENPATH_{name.upper()}"


def audit(settings: Settings) -> list[Finding]:
    """Every weakening and notice for ``settings``, in a stable order."""
    return [
        *_transport(settings),
        *_switches(settings),
        *_storage(settings),
        *_lifetimes(settings),
        *_network(settings),
    ]


def _transport(settings: Settings) -> list[Finding]:
    found = []
    issuer = urlsplit(settings.issuer)
    if issuer.scheme == "http":
        found.append(
            Finding(
                setting=_env("issuer"),
                severity="weak",
                message=f"issuer {settings.issuer} uses plain http: loopback development only "
                "(RFC 9700 §2.6); use the public https origin",
            )
        )
    audience = urlsplit(settings.audience or "")
    if issuer.scheme == "https" and is_loopback_host(audience.hostname or ""):
        found.append(
            Finding(
                setting=_env("audience"),
                severity="weak",
                message=f"the default API {settings.audience} is on loopback under an https "
                "issuer: register your API (tokenpath api add) and name it, or unset it",
            )
        )
    return found


def _switches(settings: Settings) -> list[Finding]:
    found = [
        Finding(
            setting=_env(name),
            severity="weak",
            message=f"{name} is on: weaker than the RFC 9700 defaults",
        )
        for name in settings.weakened()
    ]
    if not settings.require_pkce_for_confidential:
        found.append(
            Finding(
                setting=_env("require_pkce_for_confidential"),
                severity="notice",
                message="PKCE is required of public clients only; OAuth 2.1 requires it of every "
                "client (RFC 9700 §2.1.1)",
            )
        )
    return found


def _storage(settings: Settings) -> list[Finding]:
    found = [
        Finding(setting=_env("database_url"), severity="weak", message=problem)
        for problem in check_database_permissions(settings.database_url)
    ]
    if not settings.key_encryption_key and settings.key_encryption_key_file is None:
        found.append(
            Finding(
                setting=_env("key_encryption_key"),
                severity="weak",
                message="no key-encryption key: the private signing keys are stored in plain "
                "text (tokenpath keys generate-kek makes one)",
            )
        )
    return found


def _lifetimes(settings: Settings) -> list[Finding]:
    found = []
    for name, limit in LIMITS.items():
        value = getattr(settings, name)
        if value > limit:
            found.append(
                Finding(
                    setting=_env(name),
                    severity="weak",
                    message=f"{name} is {value}, above {limit}",
                )
            )
    if settings.code_lifetime > 60:
        found.append(
            Finding(
                setting=_env("code_lifetime"),
                severity="notice",
                message=f"authorization codes live {settings.code_lifetime} s; 60 s or less is "
                "enough for a redirect and a token request (RFC 9700 §4.2.4)",
            )
        )
    return found


def _network(settings: Settings) -> list[Finding]:
    found = []
    for entry in settings.trusted_proxies:
        network = ipaddress.ip_network(entry, strict=False)
        if network.prefixlen < (8 if network.version == 4 else 32):
            found.append(
                Finding(
                    setting=_env("trusted_proxies"),
                    severity="weak",
                    message=f"{entry} trusts X-Forwarded-For from a very wide range: any host "
                    "there can choose the address the sign-in limits count against",
                )
            )
    for origin in settings.cors_origins:
        parts = urlsplit(origin)
        if parts.scheme == "http" and not is_loopback_host(parts.hostname or ""):
            found.append(
                Finding(
                    setting=_env("cors_origins"),
                    severity="weak",
                    message=f"CORS origin {origin} is plain http: tokens would cross the network "
                    "unencrypted",
                )
            )
    return found
