"""Typed server settings from ``TOKENPATH_*`` environment variables, and the Policy they build.

Settings are read once at start-up (``serve``, ``demo``, the CLI); nothing below this module
reads the environment. Two rules are enforced here so that a misconfigured server never starts:

* An ``http://`` issuer is accepted only on a loopback host (RFC 9700 §2.6: authorization
  responses must not cross a network unencrypted; RFC 8414 §2 wants ``https``), and such a
  server may only bind a loopback interface (catalog A17).
* Every ``allow_*`` weakening is logged as a warning when the server starts.

The policy knobs are declared once, in :mod:`tokenpath.core.policy`, with their bounds; the
fields here are derived from them. A refused value of any setting names its variable, says what
is wrong with it and what is accepted, so an operator can fix it without reading code.

Declaring a setting (the rules every new one follows):

* a plain setting is one annotated field with a docstring (the reference row's meaning);
* a list is :data:`CommaList`: ``a,b`` or a JSON list, in the environment and in the file;
* a secret is declared with :func:`secret_field`: masked by ``tokenpath config show``, never in
  ``repr``, and readable from a file named by ``TOKENPATH_<NAME>_FILE``.

Where values come from (flags, environment, ``*_FILE``, the TOML file of ``TOKENPATH_CONFIG``)
is :mod:`tokenpath.configuration`.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tokenpath.configuration import SECRET, ConfigFileSource, SecretFileSource, is_secret, variable
from tokenpath.core.policy import Knob, Policy, PolicyKnobs, knob_of

__all__ = [
    "KNOB_NAMES",
    "CommaList",
    "InsecureConfiguration",
    "Settings",
    "ensure_safe_bind",
    "is_loopback_host",
    "normalise_database_url",
    "reference_tables",
    "secret_field",
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
            f"refusing to bind {host!r} (TOKENPATH_HOST): the issuer {issuer} uses http, which "
            "is only for loopback development (RFC 9700 §2.6); use an https issuer behind TLS, "
            "or bind 127.0.0.1"
        )


def sqlite_url(path: Path) -> str:
    """The URL of the SQLite file at ``path`` (made absolute): the one place it is built."""
    return f"sqlite+aiosqlite:///{path.resolve()}"


KNOB_NAMES: tuple[str, ...] = tuple(f.name for f in fields(PolicyKnobs))
"""The settings that are policy knobs, in declaration order."""

DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
"""The two supported stores: SQLite (embedded) and PostgreSQL through asyncpg."""

_SCHEME_ALIASES = {
    "postgres://": "postgresql+asyncpg://",  # what hosting platforms hand out
    "postgresql://": "postgresql+asyncpg://",
    "sqlite://": "sqlite+aiosqlite://",
}


def normalise_database_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` (and plain ``sqlite://``) as the driver we use."""
    url = url.strip()
    for alias, scheme in _SCHEME_ALIASES.items():
        if url.startswith(alias):
            return scheme + url.removeprefix(alias)
    return url


def _is_memory_sqlite(url: str) -> bool:
    rest = url.removeprefix("sqlite+aiosqlite://")
    return rest in ("", "/") or rest.startswith("/:memory:") or "mode=memory" in rest


def _split_list(value: object) -> object:
    """``a,b`` or a JSON list (``["a", "b"]``) as a list of stripped, non-empty strings."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"{text!r} is not a valid JSON list") from None
        return value
    return [part.strip() for part in text.split(",") if part.strip()]


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]
"""A list setting: comma-separated (``a,b``) or a JSON list, from the environment or the file."""


def secret_field(default: str = "") -> Any:
    """A secret setting: kept out of ``repr`` and ``config show``; ``TOKENPATH_<NAME>_FILE``
    may name a file that holds it instead (a mounted secret)."""
    return Field(default=default, repr=False, json_schema_extra={SECRET: True})


def _accepted(info: FieldInfo) -> str:
    """What a setting accepts, in words, for the error that refuses a value."""
    annotation = info.annotation
    bounds = Knob(why="", low=_bound(info, "ge"), high=_bound(info, "le")).range_text()
    if annotation is bool:
        return "true or false (1/0, yes/no and on/off work too)"
    if annotation is int:
        return f"a whole number {bounds}".rstrip()
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    if get_origin(annotation) is list:
        return "comma-separated values such as a,b (a JSON list works too)"
    if annotation is Path or Path in get_args(annotation):
        return "a file system path"
    return "text"


def _bound(info: FieldInfo, name: str) -> int | None:
    found = next((getattr(m, name) for m in info.metadata if hasattr(m, name)), None)
    return found if isinstance(found, int) else None


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
    database_url: str = secret_field()
    """SQLAlchemy async URL: ``sqlite+aiosqlite:///…`` or ``postgresql+asyncpg://…``
    (``postgres://`` and ``postgresql://`` mean the latter); empty means SQLite at
    ``<data_dir>/tokenpath.db``. ``config show`` hides its password."""
    audience: str | None = None
    """The default API: the identifier of a registered API (``tokenpath api add``) that clients
    registered without ``--resource`` may get tokens for. Unset: such clients get tokens for
    ``/userinfo`` only. See docs/howto/apis.md."""
    access_token_claims: str = ""
    """A callable adding claims to JWT access tokens, as ``package.module:name`` (a
    ``ClaimsHook``, ``core/token_claims.py``); reserved claims are never replaced. Empty: none."""
    cors_origins: CommaList = Field(default_factory=list)
    """Browser origins allowed to call ``/token`` and ``/revoke`` with CORS, comma-separated
    (e.g. ``https://spa.example,https://admin.example``)."""
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
    port: int = Field(default=9000, ge=0, le=65535)
    """Port ``serve`` binds."""
    management_host: str = "127.0.0.1"
    """Interface of the management listener (``/healthz``, ``/readyz``, ``/metrics``): loopback
    unless you mean to expose it to a scraper on another host."""
    management_port: int = Field(default=0, ge=0, le=65535)
    """Port of the management listener; ``0``: no management listener. Never the public port."""
    log_format: Literal["text", "json"] = "text"
    """``text`` (one readable line per record) or ``json`` (one JSON object per line), for every
    line the server writes."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """The least important log records written."""
    key_encryption_key: str = secret_field()
    """Key-encryption key(s) wrapping the private signing keys in the database (AES-256-GCM):
    the url-safe base64 of 32 random bytes. Comma-separated for rotation: the first wraps, all
    unwrap. Empty: keys are stored in plain text."""
    key_encryption_key_file: Path | None = None
    """A file holding the key-encryption key instead (a mounted secret); set one, not both."""
    pairwise_salt: str = secret_field()
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
    trusted_proxies: CommaList = Field(default_factory=list)
    """Proxies (IPs or CIDRs, comma-separated) whose ``X-Forwarded-For`` and ``X-Request-ID`` are
    believed: the rightmost address that is not one of them is the client's. Empty: the peer
    address is."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags, then the environment (``*_FILE`` too), then the TOML file, then defaults."""
        return (
            init_settings,
            env_settings,
            SecretFileSource(settings_cls),
            ConfigFileSource(settings_cls),
        )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        return value

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> object:
        return normalise_database_url(value) if isinstance(value, str) else value

    @field_validator("*", mode="wrap")
    @classmethod
    def _name_the_setting(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        """Any refused value names its variable, what is wrong and what is accepted."""
        try:
            return handler(value)
        except ValidationError as error:
            name = info.field_name or "?"
            field = cls.model_fields[name]
            reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
            shown = "" if is_secret(field) else f"={value!r}"
            raise ValueError(
                f"{variable(name)}{shown} is refused: {reasons[:1].lower()}{reasons[1:]}; "
                f"expected {_accepted(field)}"
            ) from None

    @model_validator(mode="after")
    def _check(self) -> Settings:
        self._check_issuer()
        ensure_safe_bind(self.issuer, self.host)
        for origin in self.cors_origins:
            o = urlsplit(origin)
            if o.scheme not in ("http", "https") or not o.netloc or o.path or o.query:
                raise InsecureConfiguration(
                    f"TOKENPATH_CORS_ORIGINS entry {origin!r} is not an origin; expected "
                    "scheme://host[:port] without a path, e.g. https://spa.example"
                )
        self._check_database_url()
        if self.management_port and self.management_port == self.port:
            raise ValueError(
                f"TOKENPATH_MANAGEMENT_PORT={self.management_port} is the public port "
                "(TOKENPATH_PORT); the management listener needs a port of its own, e.g. "
                f"{self.port + 1 if self.port < 65535 else self.port - 1}"
            )
        self.policy()  # fail now, not at the first request, on a bad lifetime or issuer
        return self

    def _check_issuer(self) -> None:
        parts = urlsplit(self.issuer)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InsecureConfiguration(
                f"TOKENPATH_ISSUER={self.issuer!r} is refused: expected an absolute https URL "
                "such as https://as.example (http only on loopback)"
            )
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise InsecureConfiguration(
                f"TOKENPATH_ISSUER: issuer {self.issuer} uses http on a non-loopback host; "
                "use https (RFC 9700 §2.6, RFC 8414 §2)"
            )
        if parts.query or parts.fragment or self.issuer.endswith(("/", "?", "#")):
            raise ValueError(
                f"TOKENPATH_ISSUER={self.issuer!r} is refused: the issuer has no trailing "
                "slash, query or fragment (RFC 8414 §2); e.g. https://as.example"
            )

    def _check_database_url(self) -> None:
        if not self.database_url:
            self.database_url = sqlite_url(self.data_dir / "tokenpath.db")
        if not self.database_url.startswith(DATABASE_SCHEMES):
            scheme = self.database_url.split("://", 1)[0] if "://" in self.database_url else ""
            raise ValueError(
                f"TOKENPATH_DATABASE_URL: the scheme {scheme or '(none)'!r} is not supported; "
                "expected sqlite+aiosqlite:///path/to/file.db or "
                "postgresql+asyncpg://user:password@host/db (postgres:// works too)"
            )
        if _is_memory_sqlite(self.database_url):
            raise ValueError(
                "TOKENPATH_DATABASE_URL: an in-memory SQLite database is private to one "
                "connection and gone when the server stops; expected a file such as "
                "sqlite+aiosqlite:////var/lib/tokenpath/tokenpath.db (or leave it empty for "
                "<TOKENPATH_DATA_DIR>/tokenpath.db)"
            )

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
