"""What every SQL store shares: the executor seam and the statement shapes built once per class.

Statements are class attributes built at import with bound parameters (``p_key``, ``p_now``...),
so a request pays only for executing them; ``execution.py`` compiles each one once per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from tokenpath.storage.sql.execution import Executor, Params

__all__ = ["Store", "by", "upsert"]


def upsert(dialect: str, table: Table) -> Any:
    """The dialect's INSERT that understands ON CONFLICT (PostgreSQL and SQLite ≥ 3.24)."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def by(table: Table, column: str) -> Any:
    """``SELECT * FROM table WHERE column = :p_key``, built once."""
    return select(table).where(table.c[column] == bindparam("p_key"))


class Store:
    """A store over one executor; each method runs one statement."""

    def __init__(self, db: Executor) -> None:
        self.db = db

    async def _one(self, statement: Any, params: Params = None) -> Row[Any] | None:
        return await self.db.one(statement, params)

    async def _all(self, statement: Any, params: Params = None) -> Sequence[Row[Any]]:
        return await self.db.all(statement, params)

    async def _write(self, statement: Any, params: Params = None) -> Row[Any] | None:
        """Run one statement as its own transaction; the RETURNING row, if any."""
        return await self.db.write(statement, params)
