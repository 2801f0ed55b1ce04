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
* a refresh replaces the tokens only if the refresh token used is still the stored one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
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
    Column("access_token", Text),
    Column("refresh_token", Text),
    Column("token_expires_at", BigInteger),
    Column("scope", Text),
    Column("profile", Text),
    Column("refreshes", BigInteger, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSession:
    id_hash: str
    created_at: int
    expires_at: int
    state: str | None = None
    code_verifier: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    token_expires_at: int | None = None
    scope: str | None = None
    profile: str | None = None
    """The API's ``/api/me`` answer at sign-in (JSON), shown as "who is signed in"."""
    refreshes: int = 0

    @property
    def signed_in(self) -> bool:
        return self.access_token is not None


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def open_engine(url: str) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite:///file`` or ``postgresql+asyncpg://...``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError(
                "use a SQLite file: an in-memory database is private to one connection"
            )
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
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
            await conn.run_sync(_metadata.create_all)

    async def start(
        self, now: int, *, state: str, code_verifier: str, replacing: str | None = None
    ) -> tuple[str, WebSession]:
        """A new pending session with a new id; the one it replaces and expired rows go."""
        session_id = secrets.token_urlsafe(32)
        session = WebSession(
            id_hash=hash_session_id(session_id),
            created_at=now,
            expires_at=now + PENDING_LIFETIME,
            state=state,
            code_verifier=code_verifier,
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
                .values(state=None, code_verifier=None)
                .returning(web_sessions.c.id_hash)
            )
            won = result.first() is not None
        return session if won else None

    async def sign_in(
        self, session: WebSession, tokens: TokenSet, *, profile: str | None, now: int
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
