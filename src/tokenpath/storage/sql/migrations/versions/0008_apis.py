"""Registered APIs (resource servers), the clients and grants allowed on them, and the
revocation feed.

* ``apis``: one row per resource server (RFC 8707 ``resource``, RFC 9068 ``aud``): its scopes
  with consent texts, token format and lifetime, static claims, and the client record holding its
  introspection credentials.
* ``clients.resources`` / ``clients.default_resource``: the APIs a client may get tokens for.
* ``grants.resources``: the APIs a user approved a grant for (RFC 8707 §2.1).
* ``revocation_events``: revoked JWTs and grants per API, with an increasing id (the feed's
  cursor) and an indexed expiry for clean-up.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apis",
        sa.Column("identifier", sa.String(length=2000), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("token_format", sa.String(length=16), nullable=False),
        sa.Column("access_token_lifetime", sa.BigInteger(), nullable=True),
        sa.Column("claims", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("identifier", name=op.f("pk_apis")),
        sa.UniqueConstraint("client_id", name=op.f("uq_apis_client_id")),
    )
    op.create_table(
        "revocation_events",
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("audience", sa.String(length=2000), nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=True),
        sa.Column("grant_id", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_revocation_events")),
    )
    with op.batch_alter_table("revocation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revocation_events_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_revocation_events_audience_event_id", ["audience", "event_id"], unique=False
        )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resources", sa.Text(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("default_resource", sa.String(length=2000), nullable=True))
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resources", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_column("resources")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("default_resource")
        batch_op.drop_column("resources")
    with op.batch_alter_table("revocation_events", schema=None) as batch_op:
        batch_op.drop_index("ix_revocation_events_audience_event_id")
        batch_op.drop_index(batch_op.f("ix_revocation_events_expires_at"))
    op.drop_table("revocation_events")
    op.drop_table("apis")
