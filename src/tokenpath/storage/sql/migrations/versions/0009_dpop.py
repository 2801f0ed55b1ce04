"""DPoP (RFC 9449): key bindings of codes and tokens, and the per-client requirement.

* ``clients.dpop_bound_access_tokens`` (§5.2): the client must send a DPoP proof; every existing
  client is false.
* ``codes.dpop_jkt`` (§10): the key thumbprint the code's token request must prove.
* ``access_tokens.jkt`` (§6): the key an opaque (or revoked JWT) access token is bound to, so
  introspection can return ``cnf``.
* ``refresh_tokens.jkt`` (§5): the key a public client's refresh token is bound to.

Every new token column is NULL for what existed before: those tokens stay bearer tokens.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_THUMBPRINTS = (("codes", "dpop_jkt"), ("access_tokens", "jkt"), ("refresh_tokens", "jkt"))


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "dpop_bound_access_tokens",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    for table, column in _THUMBPRINTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table, column in reversed(_THUMBPRINTS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("dpop_bound_access_tokens")
