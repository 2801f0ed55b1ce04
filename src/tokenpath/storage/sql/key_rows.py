"""Every signing key row, active and retired: what wrapping and rewrapping keys at rest need.

The ``KeyStore`` port sees only active keys; encrypting a database's keys, or moving them to a
new key-encryption key, must reach retired ones too (their rows still hold private keys).

Invariants:

* Every row is unwrapped before any is written (``plan_rewrap``), so an unknown KEK changes
  nothing.
* Each write is a compare-and-set on the stored text: a row that another process changed in the
  meantime (a rotation, a concurrent rewrap) is left as that process wrote it, and a second run
  finds nothing left to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, update

from tokenpath.storage.key_encryption import (
    KeyEncryptionKey,
    Rewrite,
    is_wrapped,
    plan_rewrap,
)
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.execution import Executor

__all__ = ["encrypt_plaintext_keys", "read_key_rows", "rewrap_keys", "write_rewrites"]

_table = m.signing_keys
_SELECT_ALL = select(_table.c.kid, _table.c.private_jwk).order_by(_table.c.kid)
_COMPARE_AND_SET = (
    update(_table)
    .where(_table.c.kid == bindparam("b_kid"), _table.c.private_jwk == bindparam("b_old"))
    .values(private_jwk=bindparam("b_new"))
)


async def read_key_rows(db: Executor) -> list[tuple[str, str]]:
    """``(kid, stored private_jwk)`` of every signing key, retired ones included."""
    return [(row.kid, row.private_jwk) for row in await db.all(_SELECT_ALL)]


async def write_rewrites(db: Executor, plan: Sequence[Rewrite]) -> int:
    """Apply ``plan``; the number of rows changed (rows changed meanwhile are skipped)."""
    changed = 0
    for step in plan:
        params = {"b_kid": step.kid, "b_old": step.old, "b_new": step.new}
        changed += await db.rowcount(_COMPARE_AND_SET, params)
    return changed


async def encrypt_plaintext_keys(db: Executor, kek: KeyEncryptionKey) -> int:
    """Wrap every plain-text key with ``kek``; keys already wrapped (by any KEK) stay as they are.

    The upgrade path: run at start-up with the configured KEK, and on the first run with one.
    """
    plain = [(kid, stored) for kid, stored in await read_key_rows(db) if not is_wrapped(stored)]
    return await write_rewrites(db, plan_rewrap(plain, (), kek))


async def rewrap_keys(
    db: Executor, old_keks: Sequence[KeyEncryptionKey], new_kek: KeyEncryptionKey
) -> int:
    """Move every key, plain text included, under ``new_kek``; the number of rows changed.

    ``old_keks`` must unwrap every row not yet under ``new_kek``, or nothing is written. Safe to
    run twice: the second run finds every row under ``new_kek`` and returns 0.
    """
    rows = await read_key_rows(db)
    return await write_rewrites(db, plan_rewrap(rows, (*old_keks, new_kek), new_kek))
