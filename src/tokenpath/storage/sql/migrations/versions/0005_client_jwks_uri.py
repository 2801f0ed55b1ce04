"""Clients may publish their private_key_jwt keys at a ``jwks_uri`` (RFC 7591 §2).

One nullable column: existing clients keep their inline ``jwks`` (or none), so no data moves.
A downgrade drops the column: clients that used it then fail authentication until given
``jwks`` again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jwks_uri", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("jwks_uri")
