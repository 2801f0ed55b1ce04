"""The authorization server's schema, as SQLAlchemy Core tables.

Core (not ORM) keeps every store method one explicit statement: the atomic single-use steps
(``UPDATE ... RETURNING``, ``INSERT ... ON CONFLICT``) are visible in the code, and there is no
unit-of-work overhead on the token path. Every lookup column is a primary key or indexed, and
every table that grows with traffic has an indexed expiry column for clean-up.
Alembic migrations in ``migrations/versions`` must match this module (a test compares them).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

__all__ = ["metadata"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)
HASH = String(64)
TIME = BigInteger

clients = Table(
    "clients",
    metadata,
    Column("client_id", ID, primary_key=True),
    Column("client_name", String(200), nullable=False),
    Column("client_type", String(16), nullable=False),
    Column("secret_hash", String(200)),
    Column("redirect_uris", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("default_scopes", Text, nullable=False),
    Column("grant_types", Text, nullable=False),
    Column("response_types", Text, nullable=False),
    Column("token_endpoint_auth_method", String(32), nullable=False),
    Column("require_pkce", Boolean, nullable=False),
    Column("access_token_format", String(16), nullable=False),
    Column("jwks", Text),
    Column("jwks_uri", String(2000)),
    Column("post_logout_redirect_uris", Text, nullable=False, server_default="[]"),
    Column("backchannel_logout_uri", String(2000)),
    Column("subject_type", String(16), nullable=False, server_default="public"),
    Column("dynamic", Boolean, nullable=False, server_default=false()),
    Column("registration_access_token_hash", HASH, unique=True),
    Column("application_type", String(16), nullable=False, server_default="web"),
    Column(
        "require_pushed_authorization_requests", Boolean, nullable=False, server_default=false()
    ),
    Column("dpop_bound_access_tokens", Boolean, nullable=False, server_default=false()),
    Column("resources", Text, nullable=False, server_default="[]"),
    Column("default_resource", String(2000)),
    Column("created_at", TIME, nullable=False),
    Column("disabled_at", TIME),
    Column("previous_secret_hash", String(200)),
    Column("previous_secret_expires_at", TIME),
)

users = Table(
    "users",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("claims", Text, nullable=False, server_default="{}"),
    Column("created_at", TIME, nullable=False),
    Column("disabled_at", TIME),
)

grants = Table(
    "grants",
    metadata,
    Column("grant_id", ID, primary_key=True),
    Column("client_id", ID, nullable=False),
    Column("user_id", ID),
    Column("scope", Text, nullable=False),
    Column("created_at", TIME, nullable=False, index=True),
    Column("auth_time", TIME),
    Column("revoked_at", TIME),
    Column("sid", ID, index=True),
    Column("resources", Text, nullable=False, server_default="[]"),
)

codes = Table(
    "codes",
    metadata,
    Column("code_hash", HASH, primary_key=True),
    Column("grant_id", ID, nullable=False, index=True),
    Column("client_id", ID, nullable=False),
    Column("user_id", ID, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("redirect_uri_in_request", Boolean, nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_challenge", String(128)),
    Column("code_challenge_method", String(16)),
    Column("nonce", Text),
    Column("auth_time", TIME, nullable=False),
    Column("issued_at", TIME, nullable=False),
    Column("expires_at", TIME, nullable=False, index=True),
    Column("consumed_at", TIME),
    Column("sid", ID),
    Column("dpop_jkt", HASH),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("jti", ID, primary_key=True),
    Column("token_hash", HASH, unique=True),
    Column("grant_id", ID),
    Column("client_id", ID, nullable=False),
    Column("subject", ID, nullable=False),
    Column("scope", Text, nullable=False),
    Column("audience", Text, nullable=False),
    Column("grant_type", String(32), nullable=False),
    Column("issued_at", TIME, nullable=False),
    Column("expires_at", TIME, nullable=False, index=True),
    Column("revoked_at", TIME),
    Column("jkt", HASH),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", HASH, primary_key=True),
    Column("grant_id", ID, nullable=False, index=True),
    Column("client_id", ID, nullable=False),
    Column("user_id", ID, nullable=False),
    Column("scope", Text, nullable=False),
    Column("issued_at", TIME, nullable=False),
    Column("expires_at", TIME, nullable=False, index=True),
    Column("idle_expires_at", TIME, nullable=False),
    Column("used_at", TIME, index=True),
    Column("revoked_at", TIME),
    Column("jkt", HASH),
)

consents = Table(
    "consents",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("client_id", ID, primary_key=True),
    Column("scope", String(128), primary_key=True),
    Column("granted_at", TIME, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_hash", HASH, primary_key=True),
    Column("user_id", ID, nullable=False),
    Column("auth_time", TIME, nullable=False),
    Column("expires_at", TIME, nullable=False, index=True),
    Column("sid", ID, nullable=False, server_default="", index=True),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", ID, primary_key=True),
    Column("alg", String(16), nullable=False),
    Column("private_jwk", Text, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("retired_at", TIME),
)

replay_cache = Table(
    "replay_cache",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("expires_at", TIME, nullable=False, index=True),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", HASH, primary_key=True),  # SHA-256 of the caller's key: fixed length
    Column("tat", BigInteger, nullable=False),  # token bucket as GCRA arrival time (ms)
    Column("not_before", BigInteger, nullable=False),  # back-off: no grant before (ms)
    Column("backoff", BigInteger, nullable=False),  # the next back-off delay (ms)
    Column("granted", Boolean, nullable=False),  # the outcome of the latest reserve
    Column("expires_at", TIME, nullable=False, index=True),
)

initial_access_tokens = Table(
    "initial_access_tokens",
    metadata,
    Column("token_hash", HASH, primary_key=True),
    Column("uses_left", BigInteger),  # NULL: any number of registrations
    Column("expires_at", TIME, index=True),  # NULL: never expires
    Column("created_at", TIME, nullable=False),
)

pushed_requests = Table(
    "pushed_requests",
    metadata,
    Column("uri_hash", HASH, primary_key=True),
    Column("client_id", ID, nullable=False),
    Column("parameters", Text, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("expires_at", TIME, nullable=False, index=True),
    Column("used_at", TIME),
)

admin_tokens = Table(
    "admin_tokens",
    metadata,
    Column("token_id", ID, primary_key=True),
    Column("token_hash", HASH, nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("expires_at", TIME),  # NULL: never expires
    Column("revoked_at", TIME),
)

apis = Table(
    "apis",
    metadata,
    Column("identifier", String(2000), primary_key=True),
    Column("scopes", Text, nullable=False),
    Column("client_id", ID, nullable=False, unique=True),
    Column("token_format", String(16), nullable=False),
    Column("access_token_lifetime", BigInteger),
    Column("claims", Text, nullable=False),
    Column("created_at", TIME, nullable=False),
)

revocation_events = Table(
    "revocation_events",
    metadata,
    Column("event_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("audience", String(2000), nullable=False),
    Column("jti", ID),
    Column("grant_id", ID),
    Column("expires_at", TIME, nullable=False, index=True),
    Column("created_at", TIME, nullable=False),
)

Index(
    "ix_revocation_events_audience_event_id",
    revocation_events.c.audience,
    revocation_events.c.event_id,
)
Index("ix_grants_client_user", grants.c.client_id, grants.c.user_id)
Index("ix_grants_user_id", grants.c.user_id)
Index("ix_sessions_user_id", sessions.c.user_id)
