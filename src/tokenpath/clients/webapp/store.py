"""The web app's own server-side session store: where its access token lives.

This is the client's storage, not the authorization server's: one table, ``webapp_sessions``,
that the app creates for itself at start-up (``create_all`` is idempotent), in SQLite or
PostgreSQL. Invariants:

* the browser's cookie holds a random session id; the table holds only its SHA-256, so a copy
  of the table does not let anyone ride a session;
* a row is first *pending* (``state`` + PKCE verifier, short-lived) and becomes *signed in*
  (tokens + profile) only through :meth:`WebSessionStore.sign_in`, which also gives the session
  a new id (no fixation of a pre-planted cookie);
* ``state`` and the verifier are taken once, atomically (a conditional ``UPDATE``), so two
  callbacks racing with the same ``state`` cannot both redeem a code;
* a refresh replaces the tokens only if the refresh token used is still the stored one;
* a signed-in session keeps the authorization server's session id (``sid`` of the ID token), so
  a back-channel logout for that ``sid`` ends it (Back-Channel Logout 1.0 §2.7);
* a logout token's ``jti`` is accepted once (``webapp_logout_tokens``, primary key: the insert
  of a replay fails), and remembered until the token has expired.

The tables hold sessions only, nothing anyone must keep: when the app finds a table of an older
shape at start-up it drops and recreates it (everyone signs in again).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tokenpath.clients.webapp.oauth import TokenSet

__all__ = ["PENDING_LIFETIME", "SESSION_LIFETIME", "WebSession", "WebSessionStore", "open_engine"]

PENDING_LIFETIME = 10 * 60
"""A sign-in must come back from the authorization server within ten minutes."""
SESSION_LIFETIME = 8 * 3600

_metadata = MetaData()
web_sessions = Table(
    "webapp_sessions",
    _metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("state", String(64)),
    Column("code_verifier", String(128)),
    Column("nonce", String(64)),
    Column("access_token", Text),
    Column("refresh_token", Text),
    Column("token_expires_at", BigInteger),
    Column("scope", Text),
    Column("profile", Text),
    Column("id_token", Text),
    Column("id_claims", Text),
    Column("sid", String(255), index=True),
    Column("sub", String(255), index=True),
    Column("refreshes", BigInteger, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)
logout_tokens = Table(
    "webapp_logout_tokens",
    _metadata,
    Column("jti", String(255), primary_key=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSession:
    id_hash: str
    created_at: int
    expires_at: int
    state: str | None = None
    code_verifier: str | None = None
    nonce: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    token_expires_at: int | None = None
    scope: str | None = None
    profile: str | None = None
    """The API's ``/api/me`` answer at sign-in (JSON), shown as "who is signed in"."""
    id_token: str | None = None
    """Kept for RP-Initiated Logout (``id_token_hint``); never shown to the browser."""
    id_claims: str | None = None
    """The verified ID token's claims (JSON)."""
    sid: str | None = None
    sub: str | None = None
    refreshes: int = 0

    @property
    def signed_in(self) -> bool:
        return self.access_token is not None


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def _private_file(path: Path) -> None:
    """The session table holds access and refresh tokens: the file is created readable by its
    owner only (0600; SQLite gives its -wal and -shm files the same mode)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def open_engine(url: str) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite:///file`` or ``postgresql+asyncpg://...``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError(
                "use a SQLite file: an in-memory database is private to one connection"
            )
        _private_file(Path(parsed.database))
        return create_async_engine(url, hide_parameters=True)
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)


def _session(row: Any) -> WebSession:
    return WebSession(**dict(row._mapping))


class WebSessionStore:
    def __init__(self, engine: AsyncEngine, *, lifetime: int = SESSION_LIFETIME) -> None:
        self.engine = engine
        self.lifetime = lifetime

    async def create_table(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_create_tables)

    async def start(
        self,
        now: int,
        *,
        state: str,
        code_verifier: str,
        nonce: str | None = None,
        replacing: str | None = None,
    ) -> tuple[str, WebSession]:
        """A new pending session with a new id; the one it replaces and expired rows go."""
        session_id = secrets.token_urlsafe(32)
        session = WebSession(
            id_hash=hash_session_id(session_id),
            created_at=now,
            expires_at=now + PENDING_LIFETIME,
            state=state,
            code_verifier=code_verifier,
            nonce=nonce,
        )
        async with self.engine.begin() as conn:
            await conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
            if replacing:
                await conn.execute(
                    delete(web_sessions).where(web_sessions.c.id_hash == hash_session_id(replacing))
                )
            await conn.execute(insert(web_sessions).values(**_row(session)))
        return session_id, session

    async def get(self, session_id: str | None, now: int) -> WebSession | None:
        if not session_id:
            return None
        return await self._by_hash(hash_session_id(session_id), now)

    async def reload(self, session: WebSession, now: int) -> WebSession | None:
        return await self._by_hash(session.id_hash, now)

    async def take_pending(self, session: WebSession) -> WebSession | None:
        """Clear ``state`` and the verifier atomically; only the first caller gets them."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(web_sessions)
                .where(
                    web_sessions.c.id_hash == session.id_hash,
                    web_sessions.c.state == session.state,
                )
                .values(state=None, code_verifier=None, nonce=None)
                .returning(web_sessions.c.id_hash)
            )
            won = result.first() is not None
        return session if won else None

    async def sign_in(
        self,
        session: WebSession,
        tokens: TokenSet,
        *,
        profile: str | None,
        now: int,
        id_claims: str | None = None,
        sid: str | None = None,
        sub: str | None = None,
    ) -> str:
        """Store the tokens and the profile under a *new* session id, returned for the cookie."""
        session_id = secrets.token_urlsafe(32)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(web_sessions)
                .where(web_sessions.c.id_hash == session.id_hash)
                .values(
                    id_hash=hash_session_id(session_id),
                    expires_at=now + self.lifetime,
                    profile=profile,
                    id_token=tokens.id_token,
                    id_claims=id_claims,
                    sid=sid,
                    sub=sub,
                    **_token_values(tokens, now, previous_refresh=None),
                )
            )
        return session_id

    async def replace_tokens(
        self, session: WebSession, tokens: TokenSet, *, now: int
    ) -> WebSession | None:
        """After a refresh; None when another request already rotated this refresh token."""
        values = _token_values(tokens, now, previous_refresh=session.refresh_token)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(web_sessions)
                .where(
                    web_sessions.c.id_hash == session.id_hash,
                    web_sessions.c.refresh_token == session.refresh_token,
                )
                .values(refreshes=web_sessions.c.refreshes + 1, **values)
                .returning(*web_sessions.c)
            )
            row = result.first()
        return _session(row) if row is not None else None

    async def delete(self, session: WebSession) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(web_sessions).where(web_sessions.c.id_hash == session.id_hash)
            )

    async def end_all(self, *, sid: str | None, sub: str | None) -> int:
        """Delete every session of the server session ``sid`` (else of the user ``sub``)."""
        column, value = (web_sessions.c.sid, sid) if sid else (web_sessions.c.sub, sub)
        if not value:
            return 0
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(web_sessions).where(column == value))
        return int(result.rowcount or 0)

    async def first_logout_token(self, jti: str, expires_at: int, now: int) -> bool:
        """True the first time ``jti`` is seen (Back-Channel Logout 1.0 §2.6 step 10)."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(delete(logout_tokens).where(logout_tokens.c.expires_at <= now))
                await conn.execute(insert(logout_tokens).values(jti=jti, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    async def signed_in(self) -> list[WebSession]:
        """Every signed-in session (tests and the flow lab read where the tokens live)."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(web_sessions).where(web_sessions.c.access_token.is_not(None))
                )
            ).all()
        return [_session(r) for r in rows]

    async def _by_hash(self, id_hash: str, now: int) -> WebSession | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(web_sessions).where(
                        web_sessions.c.id_hash == id_hash, web_sessions.c.expires_at > now
                    )
                )
            ).first()
        return _session(row) if row is not None else None


def _create_tables(conn: Connection) -> None:
    """Create the tables; one of an older shape is dropped first (it holds sessions only)."""
    existing = inspect(conn)
    for table in (web_sessions, logout_tokens):
        if existing.has_table(table.name):
            have = {column["name"] for column in existing.get_columns(table.name)}
            if not {column.name for column in table.columns} <= have:
                table.drop(conn)
    _metadata.create_all(conn)


def _token_values(tokens: TokenSet, now: int, *, previous_refresh: str | None) -> dict[str, Any]:
    return {
        "access_token": tokens.access_token,
        # a refresh answer without a new refresh token keeps the old one (RFC 6749 §6)
        "refresh_token": tokens.refresh_token or previous_refresh,
        "token_expires_at": now + tokens.expires_in if tokens.expires_in else None,
        "scope": tokens.scope,
    }


def _row(session: WebSession) -> dict[str, Any]:
    return {f.name: getattr(session, f.name) for f in fields(session)}
