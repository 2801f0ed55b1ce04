"""An operator's changes that span tables, as the fixed lists of writes one transaction runs.

Why here: the token path's stores run one statement each (``execution.py``); deleting a client
or a user, disabling a user or revoking grants must change several tables all or nothing, so
each is a list of statements for ``Executor.transaction``. Order matters only for the row count
the caller reads: the last statement of a deletion is the row that says whether it existed.

Every list touches tables in one order (:data:`ORDER`: grants, refresh tokens, codes, access
tokens, consents, sessions, then the user or client row), so two changes at once on PostgreSQL
wait for each other instead of deadlocking; the executor retries the rare deadlock left (rows
of one table locked in another order), which PostgreSQL resolves by aborting one of them whole.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from tokenpath.core.ports import GrantSelector
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.execution import Step

__all__ = ["ORDER", "delete_client", "delete_user", "disable_user", "revoke_grants"]

ORDER = (
    m.grants, m.refresh_tokens, m.codes, m.access_tokens, m.consents, m.sessions, m.users,
    m.clients,
)  # fmt: skip


def delete_client(client_id: str) -> list[Step]:
    """Codes, tokens, grants and consents of the client, then the client (RFC 7592 §2.3)."""
    steps: list[Step] = [
        (delete(table).where(table.c.client_id == client_id), None)
        for table in (m.grants, m.refresh_tokens, m.codes, m.access_tokens, m.consents)
    ]
    return [*steps, (delete(m.clients).where(m.clients.c.client_id == client_id), None)]


def disable_user(user_id: str, now: int) -> list[Step]:
    """End every session of the user and mark them disabled (the first time kept); the row
    count that says whether the user exists is the last."""
    users = m.users
    return [
        (delete(m.sessions).where(m.sessions.c.user_id == user_id), None),
        (
            update(users)
            .where(users.c.user_id == user_id)
            .values(disabled_at=func.coalesce(users.c.disabled_at, now)),
            None,
        ),
    ]


def delete_user(user_id: str, now: int) -> list[Step]:
    """Sessions, consents and unredeemed codes go; grants and refresh tokens are revoked (so
    every token from them is inactive and the record of what was given stays); then the user."""
    steps: list[Step] = [
        (
            update(table)
            .where(table.c.user_id == user_id, table.c.revoked_at.is_(None))
            .values(revoked_at=now),
            None,
        )
        for table in (m.grants, m.refresh_tokens)
    ]
    steps += [
        (delete(table).where(table.c.user_id == user_id), None)
        for table in (m.codes, m.consents, m.sessions)
    ]
    return [*steps, (delete(m.users).where(m.users.c.user_id == user_id), None)]


def _grants_where(selector: GrantSelector) -> Any:
    column, value = next(
        (m.grants.c[name], value)
        for name, value in (
            ("grant_id", selector.grant_id),
            ("user_id", selector.user_id),
            ("client_id", selector.client_id),
        )
        if value is not None
    )
    return column == value


def revoke_grants(selector: GrantSelector, now: int) -> list[Step]:
    """The grants first (their count is what was live), then their refresh tokens and codes,
    then, for a user, their sessions."""
    where = _grants_where(selector)
    chosen = select(m.grants.c.grant_id).where(where)
    tokens = m.refresh_tokens
    steps: list[Step] = [
        (
            update(m.grants).where(where, m.grants.c.revoked_at.is_(None)).values(revoked_at=now),
            None,
        ),
        (
            update(tokens)
            .where(tokens.c.grant_id.in_(chosen), tokens.c.revoked_at.is_(None))
            .values(revoked_at=now),
            None,
        ),
        (
            delete(m.codes).where(m.codes.c.grant_id.in_(chosen), m.codes.c.consumed_at.is_(None)),
            None,
        ),
    ]
    if selector.user_id is not None:
        steps.append((delete(m.sessions).where(m.sessions.c.user_id == selector.user_id), None))
    return steps
