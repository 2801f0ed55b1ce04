"""SQL storage (SQLAlchemy 2 Core, async): SQLite embedded, PostgreSQL in production."""

from tokenpath.storage.sql.database import (
    Database,
    create_engine,
    open_database,
    upgrade,
    upgrade_async,
)
from tokenpath.storage.sql.maintenance import purge_expired
from tokenpath.storage.sql.stores import SqlStores

__all__ = [
    "Database",
    "SqlStores",
    "create_engine",
    "open_database",
    "purge_expired",
    "upgrade",
    "upgrade_async",
]
