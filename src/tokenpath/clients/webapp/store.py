"""The web app's own server-side session store: where its access token lives.

This is the client's storage, not the authorization server's: one table the app creates for
itself on start-up (``create_all`` is idempotent). The cookie carries a random session id; the
table is keyed by its SHA-256, next to the pending ``state``/PKCE verifier and, after sign-in, the
tokens and the user's profile. The browser never receives any of those values.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
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
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["WebSession", "WebSessionStore"]

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
    Column("expires_at", BigInteger, nullable=False, index=True),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSession:
    id_hash: str
    expires_at: int
    state: str | None = None
    code_verifier: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    token_expires_at: int | None = None
    scope: str | None = None
    profile: str | None = None
    refreshes: int = 0

    @property
    def signed_in(self) -> bool:
        return self.access_token is not None


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class WebSessionStore:
    def __init__(self, engine: AsyncEngine, lifetime: int = 8 * 3600) -> None:
        self.engine = engine
        self.lifetime = lifetime

    async def create_table(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_metadata.create_all)

    async def start(self, now: int, **pending: Any) -> tuple[str, WebSession]:
        """A new session (new id: no fixation) holding the pending login values."""
        session_id = secrets.token_urlsafe(32)
        session = WebSession(id_hash=_hash(session_id), expires_at=now + self.lifetime, **pending)
        async with self.engine.begin() as conn:
            await conn.execute(insert(web_sessions).values(**_row(session)))
        return session_id, session

    async def get(self, session_id: str | None, now: int) -> WebSession | None:
        if not session_id:
            return None
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(web_sessions).where(
                        web_sessions.c.id_hash == _hash(session_id), web_sessions.c.expires_at > now
                    )
                )
            ).first()
        return WebSession(**row._mapping) if row else None

    async def take_pending(self, session: WebSession) -> WebSession | None:
        """Clear ``state`` and the verifier atomically: a callback can use them only once."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(web_sessions)
                .where(web_sessions.c.id_hash == session.id_hash, web_sessions.c.state.is_not(None))
                .values(state=None, code_verifier=None)
                .returning(web_sessions.c.id_hash)
            )
            won = result.first() is not None
        return session if won else None

    async def save(self, session: WebSession) -> WebSession:
        async with self.engine.begin() as conn:
            values = _row(session)
            del values["id_hash"]
            await conn.execute(
                update(web_sessions)
                .where(web_sessions.c.id_hash == session.id_hash)
                .values(**values)
            )
        return session

    async def delete(self, session: WebSession) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(web_sessions).where(web_sessions.c.id_hash == session.id_hash)
            )

    async def signed_in_rows(self) -> list[WebSession]:
        """Every signed-in session (tests and the flow lab read where tokens live)."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(web_sessions).where(web_sessions.c.access_token.is_not(None))
                )
            ).all()
        return [WebSession(**r._mapping) for r in rows]


def _row(session: WebSession) -> dict[str, Any]:
    return {f: getattr(session, f) for f in session.__dataclass_fields__}
