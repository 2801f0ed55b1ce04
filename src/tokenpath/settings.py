"""Typed server settings from ``TOKENPATH_*`` environment variables, and the Policy they build.

Settings are read once at start-up (``serve``, ``demo``, the CLI); nothing below this module
reads the environment. Two rules are enforced here so that a misconfigured server never starts:

* An ``http://`` issuer is accepted only on a loopback host (RFC 9700 §2.6: authorization
  responses must not cross a network unencrypted; RFC 8414 §2 wants ``https``), and such a
  server may only bind a loopback interface (catalog A17).
* Every ``allow_*`` weakening is logged as a warning when the server starts.

The policy knobs are declared once, in :mod:`tokenpath.core.policy`, with their bounds; the
fields here are derived from them, and a refused value of any setting names that setting.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints
from urllib.parse import urlsplit

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tokenpath.core.policy import Knob, Policy, PolicyKnobs, knob_of

__all__ = [
    "KNOB_NAMES",
    "InsecureConfiguration",
    "Settings",
    "ensure_safe_bind",
    "is_loopback_host",
    "reference_tables",
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


KNOB_NAMES: tuple[str, ...] = tuple(f.name for f in fields(PolicyKnobs))
"""The settings that are policy knobs, in declaration order."""

DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
"""The two supported stores: SQLite (embedded) and PostgreSQL through asyncpg."""


def _knob_settings() -> type[BaseSettings]:
    """A settings base with one field per :class:`PolicyKnobs` field: type, default and bounds.

    Built once at import from the dataclass fields and their :class:`~tokenpath.core.policy.Knob`
    metadata, so a knob is declared in one place and ``TOKENPATH_<KNOB>`` follows from its name.
    """
    hints = get_type_hints(PolicyKnobs)
    definitions: dict[str, Any] = {}
    for declared in fields(PolicyKnobs):
        spec = knob_of(declared.metadata)
        if spec is None:
            raise TypeError(f"PolicyKnobs.{declared.name} has no knob(...) metadata")
        info = Field(default=declared.default, description=spec.why, ge=spec.low, le=spec.high)
        definitions[declared.name] = (hints[declared.name], info)
    return create_model("PolicyKnobSettings", __base__=BaseSettings, **definitions)


if TYPE_CHECKING:
    _KnobSettings = PolicyKnobs  # the type checker reads the knob attributes from the dataclass
else:
    _KnobSettings = _knob_settings()


# The ignore: to the type checker the knobs are a frozen dataclass base, which they are not.
class Settings(_KnobSettings, BaseSettings):  # type: ignore[misc]
    """Every knob of a running server. Environment: ``TOKENPATH_<FIELD>`` (case-insensitive).

    The policy knobs come from :class:`PolicyKnobs`; a plain setting is one annotated field below,
    with a docstring (it becomes the field's description and the reference row's meaning).
    """

    model_config = SettingsConfigDict(
        env_prefix="TOKENPATH_", extra="ignore", use_attribute_docstrings=True
    )

    issuer: str = "http://127.0.0.1:9000"
    """Exact issuer identifier (RFC 8414 §2): every published URL, ``iss`` in tokens and
    authorization responses. ``http`` only on loopback."""
    data_dir: Path = Path(".tokenpath")
    """Where the default SQLite database lives."""
    database_url: str = ""
    """SQLAlchemy async URL: ``sqlite+aiosqlite:///…`` or ``postgresql+asyncpg://…``; empty means
    SQLite at ``<data_dir>/tokenpath.db``."""
    audience: str | None = None
    """The default API: the identifier of a registered API (``tokenpath api add``) that clients
    registered without ``--resource`` may get tokens for. Unset: such clients get tokens for
    ``/userinfo`` only. See docs/howto/apis.md."""
    access_token_claims: str = ""
    """A callable adding claims to JWT access tokens, as ``package.module:name`` (a
    ``ClaimsHook``, ``core/token_claims.py``); reserved claims are never replaced. Empty: none."""
    cors_origins: list[str] = Field(default_factory=list)
    """JSON list of browser origins allowed to call ``/token`` and ``/revoke`` with CORS
    (e.g. ``["https://spa.example"]``)."""
    client_cache_seconds: int = Field(default=10, ge=0)
    """How long each server process reuses a client record before reading it again. A change made
    with ``tokenpath client update`` reaches running servers within this time; ``0`` reads the
    record on every request."""
    password_hash_threads: int = Field(default=0, ge=0)
    """Threads per server process that run argon2id. ``0``: one per core (more hashes in flight
    than cores only makes each slower; sign-ins beyond that queue)."""
    cleanup_interval: int = Field(default=3600, ge=0)
    """Seconds between the server's own purges of expired codes, tokens, sessions and dead grants
    (each worker starts at a random offset). ``0`` turns it off; then run ``tokenpath db cleanup``
    from cron."""
    host: str = "127.0.0.1"
    """Interface ``serve`` binds (non-loopback refused while the issuer is ``http``)."""
    port: int = 9000
    """Port ``serve`` binds."""
    key_encryption_key: str = Field(default="", repr=False)
    """Key-encryption key(s) wrapping the private signing keys in the database (AES-256-GCM):
    the url-safe base64 of 32 random bytes. Comma-separated for rotation: the first wraps, all
    unwrap. Empty: keys are stored in plain text."""
    key_encryption_key_file: Path | None = None
    """A file holding the key-encryption key instead (a mounted secret); set one, not both."""
    pairwise_salt: str = Field(default="", repr=False)
    """A long random secret that makes pairwise subject identifiers (OIDC Core §8.1) unguessable;
    required before any client may use ``subject_type=pairwise``. Changing it changes every
    pairwise ``sub``."""
    allow_readable_database: bool = False
    """Start even though the SQLite database or its directory can be read by other local users
    (weaker: the signing keys and sessions live there; logged as a warning)."""
    allow_open_registration: bool = False
    """Let anyone register a client at ``/register`` without an initial access token (RFC 7591
    §3; weaker: anyone can make clients that show their own name on the consent page; logged as
    a warning)."""
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Proxies (IPs or CIDRs, comma-separated) whose ``X-Forwarded-For`` is believed: the
    rightmost address that is not one of them is the client's. Empty: the peer address is."""

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

    @field_validator("*", mode="wrap")
    @classmethod
    def _name_the_setting(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        """Any refused value names its setting, so the start-up error says what to fix."""
        try:
            return handler(value)
        except ValidationError as error:
            name = info.field_name or "?"
            reasons = "; ".join(str(e["msg"]) for e in error.errors())
            raise ValueError(f"{name} (TOKENPATH_{name.upper()}): {reasons}") from None

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
        """The core's Policy: every knob as set, plus the issuer and the default API."""
        knobs = {name: getattr(self, name) for name in KNOB_NAMES}
        return Policy(
            issuer=self.issuer,
            audience=self.audience,
            pairwise_salt=self.pairwise_salt,
            **knobs,
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


def _cell(value: object) -> str:
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{json.dumps(value) if isinstance(value, list) else value}`"


def _row(name: str, info: FieldInfo) -> str:
    default = info.get_default(call_default_factory=True)
    low = next((getattr(m, "ge", None) for m in info.metadata if hasattr(m, "ge")), None)
    high = next((getattr(m, "le", None) for m in info.metadata if hasattr(m, "le")), None)
    bounds = Knob(
        why="",
        low=low if isinstance(low, int) else None,
        high=high if isinstance(high, int) else None,
    ).range_text()
    meaning = " ".join((info.description or "").split()).replace("``", "`")
    return f"| `TOKENPATH_{name.upper()}` | {_cell(default)} | {bounds} | {meaning} |"


def reference_tables() -> str:
    """The settings reference (docs/reference/settings.md), rendered from the field declarations.

    ``python -m tokenpath.settings`` prints it; a test keeps the document equal to it.
    """
    head = "| variable | default | range | meaning |\n|---|---|---|---|"
    fields_ = Settings.model_fields
    server = [_row(n, f) for n, f in fields_.items() if n not in KNOB_NAMES]
    knobs = [_row(n, fields_[n]) for n in KNOB_NAMES]
    return "\n".join(["## Server", "", head, *server, "", "## Policy knobs", "", head, *knobs, ""])


if __name__ == "__main__":
    print(reference_tables(), end="")
