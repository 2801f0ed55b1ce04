"""What ``/readyz`` asks the database: is it reachable, and is its schema the code's schema.

Each answer is a short sentence without the database password, or None when all is well; the
management listener turns any sentence into a 503 with that reason.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from tokenpath.storage.sql.database import _alembic_config

__all__ = ["head_revision", "schema_problem"]


def head_revision() -> str | None:
    """The newest migration this code ships."""
    return ScriptDirectory.from_config(_alembic_config("sqlite://", None)).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def schema_problem(engine: AsyncEngine) -> str | None:
    """Why the database cannot serve this code (unreachable, or not at the newest migration)."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            current = await connection.run_sync(_current)
    except Exception as error:  # any driver's failure is the same answer: not reachable
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return f"database unreachable: {reason[:200]}"
    head = head_revision()
    if current != head:
        return (
            f"migrations behind: the database is at {current or 'no revision'}, this code needs "
            f"{head}; run tokenpath db upgrade"
        )
    return None
