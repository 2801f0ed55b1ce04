"""SQL storage (SQLAlchemy 2 Core, async): SQLite embedded, PostgreSQL in production."""

from tokenpath.storage.sql.database import (
    Database,
    check_database_permissions,
    create_engine,
    open_database,
    upgrade,
    upgrade_async,
)
from tokenpath.storage.sql.key_rows import encrypt_plaintext_keys, rewrap_keys
from tokenpath.storage.sql.maintenance import purge_expired
from tokenpath.storage.sql.schema import SchemaState, head_revision, schema_state
from tokenpath.storage.sql.stores import SqlStores

__all__ = [
    "Database",
    "SchemaState",
    "SqlStores",
    "check_database_permissions",
    "create_engine",
    "encrypt_plaintext_keys",
    "head_revision",
    "open_database",
    "purge_expired",
    "rewrap_keys",
    "schema_state",
    "upgrade",
    "upgrade_async",
]
