"""Pushed authorization requests (RFC 9126).

* ``pushed_requests``: each request a client pushed to ``/par``, under the SHA-256 of its
  ``request_uri``; ``/authorize`` takes it once (a conditional ``UPDATE`` on ``used_at``). The
  expiry column is indexed for clean-up.
* ``clients.require_pushed_authorization_requests`` (RFC 9126 §6): the client's requests are
  accepted only through ``/par``; every existing client is not required to.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pushed_requests",
        sa.Column("uri_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("uri_hash", name=op.f("pk_pushed_requests")),
    )
    with op.batch_alter_table("pushed_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pushed_requests_expires_at"), ["expires_at"], unique=False
        )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "require_pushed_authorization_requests",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("require_pushed_authorization_requests")
    with op.batch_alter_table("pushed_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pushed_requests_expires_at"))
    op.drop_table("pushed_requests")
