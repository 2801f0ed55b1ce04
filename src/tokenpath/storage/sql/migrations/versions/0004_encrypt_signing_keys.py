"""Signing keys encrypted at rest: wrap plain-text private keys with the key-encryption key.

A data migration only; the column stays ``TEXT``. Given a key-encryption key (``upgrade(url,
key_encryption_key=...)`` passes it in ``Config.attributes``), every plain-text
``signing_keys.private_jwk``, retired keys included, is wrapped with it; without one nothing
changes and the keys keep loading as before. Downgrade unwraps them again, and refuses when a
wrapped key is present and its key-encryption key was not passed: older code reads the column
as a JWK and would fail at its first signature instead.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from tokenpath.storage.key_encryption import KeyEncryptionKey, is_wrapped, plan_rewrap

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

signing_keys = sa.table("signing_keys", sa.column("kid", sa.String), sa.column("private_jwk"))


def _keks() -> tuple[KeyEncryptionKey, ...]:
    return tuple(context.config.attributes.get("key_encryption_keys") or ())


def _rows() -> list[tuple[str, str]]:
    query = sa.select(signing_keys.c.kid, signing_keys.c.private_jwk)
    return [(kid, stored) for kid, stored in op.get_bind().execute(query)]


def _apply(rows: list[tuple[str, str]], keks: tuple[KeyEncryptionKey, ...], wrap: bool) -> None:
    bind = op.get_bind()
    for step in plan_rewrap(rows, keks, keks[0] if wrap else None):
        bind.execute(
            signing_keys.update()
            .where(signing_keys.c.kid == step.kid, signing_keys.c.private_jwk == step.old)
            .values(private_jwk=step.new)
        )


def upgrade() -> None:
    keks = _keks()
    if keks:
        _apply([row for row in _rows() if not is_wrapped(row[1])], keks, wrap=True)


def downgrade() -> None:
    # plan_rewrap raises KeyEncryptionError, naming the key, for a row no given KEK unwraps.
    _apply(_rows(), _keks(), wrap=False)
