"""What the client, user and grant lifecycle keeps, and the admin API's tokens.

* ``clients.disabled_at`` and ``users.disabled_at``: set by an operator (NULL: enabled).
* ``clients.previous_secret_hash`` / ``previous_secret_expires_at``: after a secret rotation with
  an overlap, the old secret's hash and when it stops being accepted.
* ``admin_tokens``: the SHA-256 of each admin API token, its name, expiry (NULL: never) and
  revocation time.
* Indexes on ``grants.user_id`` and ``sessions.user_id``: revoking a user's grants and ending
  their sessions finds the rows without a scan.

Every new column is nullable, so existing rows stay valid (enabled, no secret in overlap).

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("previous_secret_hash", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("previous_secret_expires_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index("ix_grants_user_id", ["user_id"])
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_user_id", ["user_id"])
    op.create_table(
        "admin_tokens",
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_admin_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_admin_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("admin_tokens")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_user_id")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index("ix_grants_user_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_expires_at")
        batch_op.drop_column("previous_secret_hash")
        batch_op.drop_column("disabled_at")
