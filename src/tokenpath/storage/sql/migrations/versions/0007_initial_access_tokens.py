"""Initial access tokens for dynamic client registration, and a client's application type.

* ``initial_access_tokens`` (RFC 7591 §1.2, §3): the SHA-256 of each token an operator issued,
  how many registrations it still admits (NULL: any number) and when it expires (NULL: never).
  Using one is a single conditional ``UPDATE``; the expiry column is indexed for clean-up.
* ``clients.application_type`` (OpenID Connect Dynamic Client Registration 1.0 §2): ``web`` or
  ``native``; every existing client is ``web``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "initial_access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("uses_left", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_initial_access_tokens")),
    )
    with op.batch_alter_table("initial_access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initial_access_tokens_expires_at"), ["expires_at"], unique=False
        )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("application_type", sa.String(16), nullable=False, server_default="web")
        )


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("application_type")
    with op.batch_alter_table("initial_access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initial_access_tokens_expires_at"))
    op.drop_table("initial_access_tokens")
