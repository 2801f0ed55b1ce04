"""Adapters implementing ``tokenpath.core.ports``: SQL (SQLite, PostgreSQL) and in-memory."""

__all__: list[str] = []
