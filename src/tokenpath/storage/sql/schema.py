"""Which migration a database is at, found without creating or changing anything.

Why: every command but ``tokenpath db upgrade`` (and ``serve``/``demo``, which migrate at start)
must work on the database that is there or say why it cannot; opening a SQLite URL with the
engine would create the file, and running the migrations would change a schema an operator
did not ask to change. So a missing SQLite file is reported before anything opens it, and the
revision is read from ``alembic_version`` as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from tokenpath.storage.sql.database import MIGRATIONS, _is_sqlite, _sqlite_path, create_engine

__all__ = ["SchemaState", "head_revision", "schema_state"]


@dataclass(frozen=True, slots=True)
class SchemaState:
    """``exists`` False: no SQLite file; ``current`` None: no tokenpath schema in it."""

    exists: bool
    current: str | None
    head: str
    known: bool
    """Whether this version of tokenpath has the migration ``current`` (False: a newer one ran)."""

    @property
    def up_to_date(self) -> bool:
        return self.exists and self.current == self.head


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None  # the package ships its migrations
    return head


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _state(current: str | None) -> SchemaState:
    scripts = _scripts()
    known = current is None or scripts.get_revision(current) is not None
    return SchemaState(exists=True, current=current, head=head_revision(), known=known)


async def schema_state(url: str) -> SchemaState:
    """Where the database at ``url`` stands; connection failures raise (``OSError`` or
    SQLAlchemy's errors) for the caller to report."""
    if _is_sqlite(url):
        path = _sqlite_path(url)
        if not path.is_file():
            return SchemaState(exists=False, current=None, head=head_revision(), known=True)
        engine = sqlalchemy.create_engine(
            make_url(url).set(drivername="sqlite", database=str(path)), poolclass=NullPool
        )
        try:
            with engine.connect() as connection:
                return _state(_revision(connection))
        finally:
            engine.dispose()
    async_engine = create_engine(url, pool_size=1)
    try:
        async with async_engine.connect() as connection:
            return _state(await connection.run_sync(_revision))
    finally:
        await async_engine.dispose()
