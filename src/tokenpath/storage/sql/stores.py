"""SQL implementations of the core ports: one explicit statement per method where possible.

Invariants (pinned by ``tests/storage`` on SQLite and PostgreSQL):

* ``consume`` / ``use`` are a single conditional ``UPDATE ... RETURNING``: the database decides
  which of several concurrent callers wins, never the application.
* Counters and replay entries are single ``INSERT ... ON CONFLICT`` statements.
* Rows map to core records here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from tokenpath.core.records import (
    AccessTokenRecord,
    AuthorizationCode,
    Client,
    ClientType,
    Grant,
    GrantType,
    RefreshTokenRecord,
    ResponseType,
    Session,
    SigningKey,
    User,
)
from tokenpath.storage.sql import models as m

__all__ = ["SqlStores"]


def _words(value: str) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


def _upsert(engine: AsyncEngine, table: Table) -> Any:
    """The dialect's INSERT that understands ON CONFLICT (PostgreSQL and SQLite ≥ 3.24)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class _Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _one(self, statement: Any) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(statement)).first()

    async def _all(self, statement: Any) -> Sequence[Row[Any]]:
        async with self.engine.connect() as conn:
            return (await conn.execute(statement)).all()

    async def _write(self, statement: Any) -> Row[Any] | None:
        """Run one statement in its own transaction; the RETURNING row, if any."""
        async with self.engine.begin() as conn:
            result = await conn.execute(statement)
            return result.first() if result.returns_rows else None


class SqlClientStore(_Store):
    @staticmethod
    def _client(row: Row[Any]) -> Client:
        return Client(
            client_id=row.client_id,
            client_name=row.client_name,
            client_type=ClientType(row.client_type),
            secret_hash=row.secret_hash,
            redirect_uris=tuple(json.loads(row.redirect_uris)),
            scopes=_words(row.scopes),
            default_scopes=_words(row.default_scopes),
            grant_types=tuple(GrantType(g) for g in _words(row.grant_types)),
            response_types=tuple(ResponseType(r) for r in _words(row.response_types)),
            token_endpoint_auth_method=row.token_endpoint_auth_method,
            require_pkce=row.require_pkce,
            access_token_format=row.access_token_format,
            jwks=row.jwks,
            created_at=row.created_at,
        )

    @staticmethod
    def _row(client: Client) -> dict[str, Any]:
        return {
            "client_id": client.client_id,
            "client_name": client.client_name,
            "client_type": client.client_type.value,
            "secret_hash": client.secret_hash,
            "redirect_uris": json.dumps(list(client.redirect_uris)),
            "scopes": " ".join(client.scopes),
            "default_scopes": " ".join(client.default_scopes),
            "grant_types": " ".join(g.value for g in client.grant_types),
            "response_types": " ".join(r.value for r in client.response_types),
            "token_endpoint_auth_method": client.token_endpoint_auth_method,
            "require_pkce": client.require_pkce,
            "access_token_format": client.access_token_format,
            "jwks": client.jwks,
            "created_at": client.created_at,
        }

    async def get(self, client_id: str) -> Client | None:
        row = await self._one(select(m.clients).where(m.clients.c.client_id == client_id))
        return self._client(row) if row else None

    async def add(self, client: Client) -> None:
        await self._write(insert(m.clients).values(self._row(client)))

    async def update(self, client: Client) -> None:
        values = self._row(client)
        del values["client_id"], values["created_at"]
        await self._write(
            update(m.clients).where(m.clients.c.client_id == client.client_id).values(values)
        )

    async def list(self) -> Sequence[Client]:
        rows = await self._all(
            select(m.clients).order_by(m.clients.c.created_at, m.clients.c.client_id)
        )
        return [self._client(r) for r in rows]


class SqlUserStore(_Store):
    @staticmethod
    def _user(row: Row[Any]) -> User:
        return User(
            user_id=row.user_id,
            username=row.username,
            password_hash=row.password_hash,
            created_at=row.created_at,
        )

    async def get(self, user_id: str) -> User | None:
        row = await self._one(select(m.users).where(m.users.c.user_id == user_id))
        return self._user(row) if row else None

    async def get_by_username(self, username: str) -> User | None:
        row = await self._one(select(m.users).where(m.users.c.username == username))
        return self._user(row) if row else None

    async def add(self, user: User) -> None:
        await self._write(
            insert(m.users).values(
                user_id=user.user_id,
                username=user.username,
                password_hash=user.password_hash,
                created_at=user.created_at,
            )
        )

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._write(
            update(m.users).where(m.users.c.user_id == user_id).values(password_hash=password_hash)
        )


class SqlGrantStore(_Store):
    async def add(self, grant: Grant) -> None:
        await self._write(
            insert(m.grants).values(
                grant_id=grant.grant_id,
                client_id=grant.client_id,
                user_id=grant.user_id,
                scope=" ".join(grant.scope),
                created_at=grant.created_at,
                auth_time=grant.auth_time,
                revoked_at=grant.revoked_at,
            )
        )

    async def get(self, grant_id: str) -> Grant | None:
        row = await self._one(select(m.grants).where(m.grants.c.grant_id == grant_id))
        if row is None:
            return None
        return Grant(
            grant_id=row.grant_id,
            client_id=row.client_id,
            user_id=row.user_id,
            scope=_words(row.scope),
            created_at=row.created_at,
            auth_time=row.auth_time,
            revoked_at=row.revoked_at,
        )

    async def revoke(self, grant_id: str, now: int) -> None:
        table = m.grants
        await self._write(
            update(table)
            .where(table.c.grant_id == grant_id, table.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class SqlCodeStore(_Store):
    @staticmethod
    def _code(row: Row[Any]) -> AuthorizationCode:
        return AuthorizationCode(
            code_hash=row.code_hash,
            grant_id=row.grant_id,
            client_id=row.client_id,
            user_id=row.user_id,
            redirect_uri=row.redirect_uri,
            redirect_uri_in_request=row.redirect_uri_in_request,
            scope=_words(row.scope),
            code_challenge=row.code_challenge,
            code_challenge_method=row.code_challenge_method,
            nonce=row.nonce,
            auth_time=row.auth_time,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            consumed_at=row.consumed_at,
        )

    async def add(self, code: AuthorizationCode) -> None:
        values = {f: getattr(code, f) for f in code.__dataclass_fields__}
        values["scope"] = " ".join(code.scope)
        await self._write(insert(m.codes).values(values))

    async def get(self, code_hash: str) -> AuthorizationCode | None:
        row = await self._one(select(m.codes).where(m.codes.c.code_hash == code_hash))
        return self._code(row) if row else None

    async def consume(self, code_hash: str, now: int) -> AuthorizationCode | None:
        table = m.codes
        row = await self._write(
            update(table)
            .where(
                table.c.code_hash == code_hash,
                table.c.consumed_at.is_(None),
                table.c.expires_at > now,
            )
            .values(consumed_at=now)
            .returning(*table.c)
        )
        return self._code(row) if row else None


class SqlTokenStore(_Store):
    @staticmethod
    def _token(row: Row[Any]) -> AccessTokenRecord:
        return AccessTokenRecord(
            jti=row.jti,
            grant_id=row.grant_id,
            client_id=row.client_id,
            subject=row.subject,
            scope=_words(row.scope),
            audience=row.audience,
            grant_type=GrantType(row.grant_type),
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            token_hash=row.token_hash,
        )

    async def add(self, token: AccessTokenRecord) -> None:
        values = {f: getattr(token, f) for f in token.__dataclass_fields__}
        values["scope"] = " ".join(token.scope)
        values["grant_type"] = token.grant_type.value
        await self._write(insert(m.access_tokens).values(values))

    async def get(self, jti: str) -> AccessTokenRecord | None:
        row = await self._one(select(m.access_tokens).where(m.access_tokens.c.jti == jti))
        return self._token(row) if row else None

    async def get_by_hash(self, token_hash: str) -> AccessTokenRecord | None:
        table = m.access_tokens
        row = await self._one(select(table).where(table.c.token_hash == token_hash))
        return self._token(row) if row else None

    async def list_by_grant(self, grant_id: str) -> Sequence[AccessTokenRecord]:
        table = m.access_tokens
        rows = await self._all(select(table).where(table.c.grant_id == grant_id))
        return [self._token(r) for r in rows]

    async def revoke(self, jti: str, now: int) -> None:
        table = m.access_tokens
        await self._write(
            update(table)
            .where(table.c.jti == jti, table.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class SqlRefreshTokenStore(_Store):
    @staticmethod
    def _token(row: Row[Any]) -> RefreshTokenRecord:
        return RefreshTokenRecord(
            token_hash=row.token_hash,
            grant_id=row.grant_id,
            client_id=row.client_id,
            user_id=row.user_id,
            scope=_words(row.scope),
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            idle_expires_at=row.idle_expires_at,
            used_at=row.used_at,
            revoked_at=row.revoked_at,
        )

    async def add(self, token: RefreshTokenRecord) -> None:
        values = {f: getattr(token, f) for f in token.__dataclass_fields__}
        values["scope"] = " ".join(token.scope)
        await self._write(insert(m.refresh_tokens).values(values))

    async def get(self, token_hash: str) -> RefreshTokenRecord | None:
        table = m.refresh_tokens
        row = await self._one(select(table).where(table.c.token_hash == token_hash))
        return self._token(row) if row else None

    async def use(self, token_hash: str, now: int) -> RefreshTokenRecord | None:
        table = m.refresh_tokens
        row = await self._write(
            update(table)
            .where(
                table.c.token_hash == token_hash,
                table.c.used_at.is_(None),
                table.c.revoked_at.is_(None),
                table.c.expires_at > now,
                table.c.idle_expires_at > now,
            )
            .values(used_at=now)
            .returning(*table.c)
        )
        return self._token(row) if row else None


class SqlConsentStore(_Store):
    """One row per approved scope, so merging approvals is a plain conflict-free insert."""

    async def get(self, user_id: str, client_id: str) -> frozenset[str]:
        table = m.consents
        rows = await self._all(
            select(table.c.scope).where(table.c.user_id == user_id, table.c.client_id == client_id)
        )
        return frozenset(r.scope for r in rows)

    async def add(self, user_id: str, client_id: str, scopes: frozenset[str], now: int) -> None:
        if not scopes:
            return
        rows = [
            {"user_id": user_id, "client_id": client_id, "scope": s, "granted_at": now}
            for s in sorted(scopes)
        ]
        await self._write(_upsert(self.engine, m.consents).values(rows).on_conflict_do_nothing())


class SqlSessionStore(_Store):
    async def add(self, session: Session) -> None:
        values = {f: getattr(session, f) for f in session.__dataclass_fields__}
        await self._write(insert(m.sessions).values(values))

    async def get(self, session_hash: str, now: int) -> Session | None:
        table = m.sessions
        row = await self._one(
            select(table).where(table.c.session_hash == session_hash, table.c.expires_at > now)
        )
        if row is None:
            return None
        return Session(
            session_hash=row.session_hash,
            user_id=row.user_id,
            auth_time=row.auth_time,
            expires_at=row.expires_at,
        )

    async def delete(self, session_hash: str) -> None:
        await self._write(delete(m.sessions).where(m.sessions.c.session_hash == session_hash))


class SqlKeyStore(_Store):
    async def add(self, key: SigningKey) -> None:
        await self._write(
            insert(m.signing_keys).values(
                kid=key.kid,
                alg=key.alg,
                private_jwk=key.private_jwk,
                created_at=key.created_at,
                retired_at=key.retired_at,
            )
        )

    async def list_active(self) -> Sequence[SigningKey]:
        table = m.signing_keys
        rows = await self._all(
            select(table)
            .where(table.c.retired_at.is_(None))
            .order_by(table.c.created_at.desc(), table.c.kid.desc())
        )
        return [
            SigningKey(
                kid=r.kid,
                alg=r.alg,
                private_jwk=r.private_jwk,
                created_at=r.created_at,
                retired_at=r.retired_at,
            )
            for r in rows
        ]

    async def retire(self, kid: str, now: int) -> None:
        table = m.signing_keys
        await self._write(
            update(table)
            .where(table.c.kid == kid, table.c.retired_at.is_(None))
            .values(retired_at=now)
        )


class SqlReplayCache(_Store):
    async def first_use(self, key: str, expires_at: int, now: int) -> bool:
        table = m.replay_cache
        statement = _upsert(self.engine, table).values(key=key, expires_at=expires_at)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"expires_at": statement.excluded.expires_at},
            where=table.c.expires_at <= now,
        ).returning(table.c.key)
        return await self._write(statement) is not None


class SqlRateLimiter(_Store):
    async def hit(self, key: str, now: int, window: int) -> int:
        table = m.rate_limits
        bucket = now // window
        statement = _upsert(self.engine, table).values(
            key=key, bucket=bucket, count=1, expires_at=(bucket + 1) * window
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key, table.c.bucket], set_={"count": table.c.count + 1}
        ).returning(table.c.count)
        row = await self._write(statement)
        return int(row[0]) if row else 0

    async def count(self, key: str, now: int, window: int) -> int:
        table = m.rate_limits
        row = await self._one(
            select(table.c.count).where(table.c.key == key, table.c.bucket == now // window)
        )
        return int(row[0]) if row else 0


class SqlStores:
    """Factory for the ``Stores`` bundle over one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        from tokenpath.core.ports import Stores

        self.stores = Stores(
            clients=SqlClientStore(engine),
            users=SqlUserStore(engine),
            grants=SqlGrantStore(engine),
            codes=SqlCodeStore(engine),
            tokens=SqlTokenStore(engine),
            refresh_tokens=SqlRefreshTokenStore(engine),
            consents=SqlConsentStore(engine),
            sessions=SqlSessionStore(engine),
            keys=SqlKeyStore(engine),
            replay=SqlReplayCache(engine),
            rate_limits=SqlRateLimiter(engine),
        )
