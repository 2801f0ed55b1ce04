"""Indexes for clean-up; JWT access tokens are no longer stored per grant.

The purge deletes grants older than the grace period that no code or refresh token refers to,
so ``codes.grant_id`` and ``grants.created_at`` are indexed, and rotated-away refresh tokens by
``used_at``, indexed so that delete is a range too. Access tokens are no longer looked
up by grant (a JWT carries its ``grant_id``), so that index goes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_codes_grant_id"), ["grant_id"], unique=False)
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grants_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_tokens_used_at"), ["used_at"], unique=False)
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_tokens_grant_id"))


def downgrade() -> None:
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_tokens_grant_id"), ["grant_id"], unique=False)
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_used_at"))
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grants_created_at"))
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_codes_grant_id"))
