"""SQL implementations of the core ports: one explicit statement per method where possible.

Invariants (pinned by ``tests/storage`` on SQLite and PostgreSQL):

* ``consume`` / ``use`` are a single conditional ``UPDATE ... RETURNING``: the database decides
  which of several concurrent callers wins, never the application.
* Counters and replay entries are single ``INSERT ... ON CONFLICT`` statements.
* Rows map to core records here and nowhere else.
* Statements on the token path are built once, with bound parameters, so a request pays only
  for executing them (SQLAlchemy's compiled cache does the rest).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

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
from tokenpath.storage.sql.execution import Executor, Params
from tokenpath.storage.sql.limits import SqlRateLimiter, SqlReplayCache

__all__ = ["SqlStores"]


def _words(value: str) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


def _upsert(dialect: str, table: Table) -> Any:
    """The dialect's INSERT that understands ON CONFLICT (PostgreSQL and SQLite ≥ 3.24)."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _by(table: Table, column: str) -> Any:
    """``SELECT * FROM table WHERE column = :p_key``, built once."""
    return select(table).where(table.c[column] == bindparam("p_key"))


class _Store:
    def __init__(self, db: Executor) -> None:
        self.db = db

    async def _one(self, statement: Any, params: Params = None) -> Row[Any] | None:
        return await self.db.one(statement, params)

    async def _all(self, statement: Any, params: Params = None) -> Sequence[Row[Any]]:
        return await self.db.all(statement, params)

    async def _write(self, statement: Any, params: Params = None) -> Row[Any] | None:
        """Run one statement as its own transaction; the RETURNING row, if any."""
        return await self.db.write(statement, params)


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

    _GET = _by(m.clients, "client_id")

    async def get(self, client_id: str) -> Client | None:
        row = await self._one(self._GET, {"p_key": client_id})
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

    _BY_USERNAME = _by(m.users, "username")

    async def get_by_username(self, username: str) -> User | None:
        row = await self._one(self._BY_USERNAME, {"p_key": username})
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
    _INSERT = insert(m.grants)
    _GET = _by(m.grants, "grant_id")

    async def add(self, grant: Grant) -> None:
        await self._write(
            self._INSERT,
            {
                "grant_id": grant.grant_id,
                "client_id": grant.client_id,
                "user_id": grant.user_id,
                "scope": " ".join(grant.scope),
                "created_at": grant.created_at,
                "auth_time": grant.auth_time,
                "revoked_at": grant.revoked_at,
            },
        )

    async def get(self, grant_id: str) -> Grant | None:
        row = await self._one(self._GET, {"p_key": grant_id})
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

    _INSERT = insert(m.codes)
    _GET = _by(m.codes, "code_hash")
    _CONSUME = (
        update(m.codes)
        .where(
            m.codes.c.code_hash == bindparam("p_key"),
            m.codes.c.consumed_at.is_(None),
            m.codes.c.expires_at > bindparam("p_now"),
        )
        .values(consumed_at=bindparam("p_now"))
        .returning(*m.codes.c)
    )

    async def add(self, code: AuthorizationCode) -> None:
        values = {f: getattr(code, f) for f in code.__dataclass_fields__}
        values["scope"] = " ".join(code.scope)
        await self._write(self._INSERT, values)

    async def get(self, code_hash: str) -> AuthorizationCode | None:
        row = await self._one(self._GET, {"p_key": code_hash})
        return self._code(row) if row else None

    async def consume(self, code_hash: str, now: int) -> AuthorizationCode | None:
        row = await self._write(self._CONSUME, {"p_key": code_hash, "p_now": now})
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

    _INSERT = insert(m.access_tokens)
    _GET = _by(m.access_tokens, "jti")
    _BY_HASH = _by(m.access_tokens, "token_hash")

    @staticmethod
    def _values(token: AccessTokenRecord) -> dict[str, Any]:
        values = {f: getattr(token, f) for f in token.__dataclass_fields__}
        values["scope"] = " ".join(token.scope)
        values["grant_type"] = token.grant_type.value
        return values

    async def add(self, token: AccessTokenRecord) -> None:
        await self._write(self._INSERT, self._values(token))

    async def get(self, jti: str) -> AccessTokenRecord | None:
        row = await self._one(self._GET, {"p_key": jti})
        return self._token(row) if row else None

    async def get_by_hash(self, token_hash: str) -> AccessTokenRecord | None:
        row = await self._one(self._BY_HASH, {"p_key": token_hash})
        return self._token(row) if row else None

    async def revoke(self, token: AccessTokenRecord, now: int) -> None:
        table = m.access_tokens
        statement = _upsert(self.db.dialect, table).values(
            self._values(token) | {"revoked_at": now}
        )
        await self._write(
            statement.on_conflict_do_update(
                index_elements=[table.c.jti],
                set_={"revoked_at": now},
                where=table.c.revoked_at.is_(None),
            )
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

    _INSERT = insert(m.refresh_tokens)
    _GET = _by(m.refresh_tokens, "token_hash")
    _USE = (
        update(m.refresh_tokens)
        .where(
            m.refresh_tokens.c.token_hash == bindparam("p_key"),
            m.refresh_tokens.c.used_at.is_(None),
            m.refresh_tokens.c.revoked_at.is_(None),
            m.refresh_tokens.c.expires_at > bindparam("p_now"),
            m.refresh_tokens.c.idle_expires_at > bindparam("p_now"),
        )
        .values(used_at=bindparam("p_now"))
        .returning(*m.refresh_tokens.c)
    )

    async def add(self, token: RefreshTokenRecord) -> None:
        values = {f: getattr(token, f) for f in token.__dataclass_fields__}
        values["scope"] = " ".join(token.scope)
        await self._write(self._INSERT, values)

    async def get(self, token_hash: str) -> RefreshTokenRecord | None:
        row = await self._one(self._GET, {"p_key": token_hash})
        return self._token(row) if row else None

    async def use(self, token_hash: str, now: int) -> RefreshTokenRecord | None:
        row = await self._write(self._USE, {"p_key": token_hash, "p_now": now})
        return self._token(row) if row else None


class SqlConsentStore(_Store):
    """One row per approved scope, so merging approvals is a plain conflict-free insert."""

    _GET = select(m.consents.c.scope).where(
        m.consents.c.user_id == bindparam("p_user"), m.consents.c.client_id == bindparam("p_client")
    )

    async def get(self, user_id: str, client_id: str) -> frozenset[str]:
        rows = await self._all(self._GET, {"p_user": user_id, "p_client": client_id})
        return frozenset(r.scope for r in rows)

    async def add(self, user_id: str, client_id: str, scopes: frozenset[str], now: int) -> None:
        if not scopes:
            return
        rows = [
            {"user_id": user_id, "client_id": client_id, "scope": s, "granted_at": now}
            for s in sorted(scopes)
        ]
        statement = _upsert(self.db.dialect, m.consents).values(rows)
        await self._write(statement.on_conflict_do_nothing())


class SqlSessionStore(_Store):
    _INSERT = insert(m.sessions)
    _GET = select(m.sessions).where(
        m.sessions.c.session_hash == bindparam("p_key"),
        m.sessions.c.expires_at > bindparam("p_now"),
    )

    async def add(self, session: Session) -> None:
        values = {f: getattr(session, f) for f in session.__dataclass_fields__}
        await self._write(self._INSERT, values)

    async def get(self, session_hash: str, now: int) -> Session | None:
        row = await self._one(self._GET, {"p_key": session_hash, "p_now": now})
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


class SqlStores:
    """Factory for the ``Stores`` bundle over one executor."""

    def __init__(self, db: Executor) -> None:
        from tokenpath.core.ports import Stores

        self.stores = Stores(
            clients=SqlClientStore(db),
            users=SqlUserStore(db),
            grants=SqlGrantStore(db),
            codes=SqlCodeStore(db),
            tokens=SqlTokenStore(db),
            refresh_tokens=SqlRefreshTokenStore(db),
            consents=SqlConsentStore(db),
            sessions=SqlSessionStore(db),
            keys=SqlKeyStore(db),
            replay=SqlReplayCache(db),
            rate_limits=SqlRateLimiter(db),
        )
