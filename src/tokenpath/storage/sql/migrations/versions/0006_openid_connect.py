"""What OpenID Connect, logout and dynamic registration keep.

* ``clients``: ``post_logout_redirect_uris`` (RP-Initiated Logout 1.0 §3.1),
  ``backchannel_logout_uri`` (Back-Channel Logout 1.0 §2.2), ``subject_type`` (OIDC Core §8),
  ``dynamic`` and the hash of the RFC 7592 ``registration_access_token``.
* ``users.claims``: the standard claims (OIDC Core §5.1) as one JSON object.
* ``sid`` on sessions, grants and codes: the session an authorization was given in, for the
  id_token's ``sid`` and for logout to find what to end.

Every new column has a default or is nullable, so existing rows stay valid.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("post_logout_redirect_uris", sa.Text(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("backchannel_logout_uri", sa.String(2000), nullable=True))
        batch_op.add_column(
            sa.Column("subject_type", sa.String(16), nullable=False, server_default="public")
        )
        batch_op.add_column(
            sa.Column("dynamic", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("registration_access_token_hash", sa.String(64), nullable=True)
        )
        batch_op.create_unique_constraint(
            "uq_clients_registration_access_token_hash", ["registration_access_token_hash"]
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claims", sa.Text(), nullable=False, server_default="{}"))
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sid", sa.String(64), nullable=False, server_default=""))
        batch_op.create_index("ix_sessions_sid", ["sid"])
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sid", sa.String(64), nullable=True))
        batch_op.create_index("ix_grants_sid", ["sid"])
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sid", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.drop_column("sid")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index("ix_grants_sid")
        batch_op.drop_column("sid")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_sid")
        batch_op.drop_column("sid")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("claims")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_constraint("uq_clients_registration_access_token_hash", type_="unique")
        batch_op.drop_column("registration_access_token_hash")
        batch_op.drop_column("dynamic")
        batch_op.drop_column("subject_type")
        batch_op.drop_column("backchannel_logout_uri")
        batch_op.drop_column("post_logout_redirect_uris")
