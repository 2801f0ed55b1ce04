"""Typed server settings from ``TOKENPATH_*`` environment variables, and the Policy they build.

Settings are read once at start-up (``serve``, ``demo``, the CLI); nothing below this module
reads the environment. Two rules are enforced here so that a misconfigured server never starts:

* An ``http://`` issuer is accepted only on a loopback host (RFC 9700 §2.6: authorization
  responses must not cross a network unencrypted; RFC 8414 §2 wants ``https``), and such a
  server may only bind a loopback interface (catalog A17).
* Every ``allow_*`` weakening is logged as a warning when the server starts (DESIGN.md rule 8).
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tokenpath.core.policy import Policy

__all__ = [
    "InsecureConfiguration",
    "Settings",
    "ensure_safe_bind",
    "is_loopback_host",
    "sqlite_url",
]

log = logging.getLogger(__name__)


class InsecureConfiguration(ValueError):
    """A configuration tokenpath refuses to run with (the message says why and how to fix it)."""


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (``127.0.0.0/8``, ``::1``)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ensure_safe_bind(issuer: str, host: str) -> None:
    """Refuse to listen beyond loopback while the issuer is plain ``http`` (catalog A17)."""
    if urlsplit(issuer).scheme == "http" and not is_loopback_host(host):
        raise InsecureConfiguration(
            f"refusing to bind {host!r}: the issuer {issuer} uses http, which is only for "
            "loopback development (RFC 9700 §2.6); use an https issuer behind TLS"
        )


def sqlite_url(path: Path) -> str:
    """The URL of the SQLite file at ``path`` (made absolute): the one place it is built."""
    return f"sqlite+aiosqlite:///{path.resolve()}"


DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
"""The two supported stores: SQLite (embedded) and PostgreSQL through asyncpg."""


class Settings(BaseSettings):
    """Every knob of a running server. Environment: ``TOKENPATH_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="TOKENPATH_", extra="ignore")

    issuer: str = "http://127.0.0.1:9000"
    """The exact issuer identifier (RFC 8414 §2); every URL we publish is derived from it."""
    data_dir: Path = Path(".tokenpath")
    database_url: str = ""
    """SQLAlchemy async URL; empty means SQLite at ``<data_dir>/tokenpath.db``."""
    audience: str = "http://127.0.0.1:9001"
    """Default ``aud`` of access tokens: the demo API."""
    code_lifetime: int = 60
    access_token_lifetime: int = 600
    implicit_access_token_lifetime: int = 300
    session_lifetime: int = 8 * 3600
    refresh_token_lifetime: int = 30 * 24 * 3600
    refresh_token_idle_lifetime: int = 7 * 24 * 3600
    login_failures_per_minute: int = 10
    client_auth_failures_per_minute: int = 50
    allow_implicit: bool = False
    require_pkce_for_confidential: bool = False
    cors_origins: list[str] = Field(default_factory=list)
    """Browser origins (e.g. a SPA) allowed to call ``/token`` and ``/revoke`` with CORS."""
    client_cache_seconds: int = Field(default=10, ge=0)
    """How long a process reuses a client record; 0 reads it from the database every time."""
    password_hash_threads: int = Field(default=0, ge=0)
    """Threads per process for argon2id; 0: one per core."""
    cleanup_interval: int = Field(default=3600, ge=0)
    """Seconds between the server's own purges of expired rows; 0 leaves it to ``db cleanup``."""
    host: str = "127.0.0.1"
    port: int = 9000

    @model_validator(mode="after")
    def _check(self) -> Settings:
        parts = urlsplit(self.issuer)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InsecureConfiguration("issuer must be an absolute http(s) URL")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise InsecureConfiguration(
                f"issuer {self.issuer} uses http on a non-loopback host; "
                "use https (RFC 9700 §2.6, RFC 8414 §2)"
            )
        ensure_safe_bind(self.issuer, self.host)
        for origin in self.cors_origins:
            o = urlsplit(origin)
            if o.scheme not in ("http", "https") or not o.netloc or o.path or o.query:
                raise InsecureConfiguration(f"cors_origins entry {origin!r} is not an origin")
        if not self.database_url:
            self.database_url = sqlite_url(self.data_dir / "tokenpath.db")
        if not self.database_url.startswith(DATABASE_SCHEMES):
            raise ValueError(
                "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        self.policy()  # fail now, not at the first request, on a bad lifetime or issuer
        return self

    @property
    def secure_cookies(self) -> bool:
        """Cookies get ``Secure`` and the ``__Host-`` prefix whenever the issuer is https."""
        return urlsplit(self.issuer).scheme == "https"

    @property
    def issuer_origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    def policy(self) -> Policy:
        return Policy(
            issuer=self.issuer,
            audience=self.audience,
            code_lifetime=self.code_lifetime,
            access_token_lifetime=self.access_token_lifetime,
            implicit_access_token_lifetime=self.implicit_access_token_lifetime,
            session_lifetime=self.session_lifetime,
            refresh_token_lifetime=self.refresh_token_lifetime,
            refresh_token_idle_lifetime=self.refresh_token_idle_lifetime,
            login_failures_per_minute=self.login_failures_per_minute,
            client_auth_failures_per_minute=self.client_auth_failures_per_minute,
            allow_implicit=self.allow_implicit,
            require_pkce_for_confidential=self.require_pkce_for_confidential,
        )

    def weakened(self) -> list[str]:
        """Names of the ``allow_*`` options switched on."""
        return [
            name
            for name in sorted(type(self).model_fields)
            if name.startswith("allow_") and getattr(self, name) is True
        ]

    def log_startup_warnings(self) -> None:
        """Say loudly what is weaker than the RFC 9700 defaults (called once at start-up)."""
        for name in self.weakened():
            log.warning("%s is on: weaker than the RFC 9700 defaults", name)
        if urlsplit(self.issuer).scheme == "http":
            log.warning(
                "insecure-dev: issuer %s uses plain http; loopback development only", self.issuer
            )

    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Proxies (IPs or CIDRs, comma-separated) whose ``X-Forwarded-For`` hop is believed."""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        entries = value.split(",") if isinstance(value, str) else value
        if not isinstance(entries, list):
            return entries
        cleaned = [str(e).strip() for e in entries if str(e).strip()]
        for entry in cleaned:
            ipaddress.ip_network(entry, strict=False)  # a ValueError names the bad entry
        return cleaned
