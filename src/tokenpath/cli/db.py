"""``tokenpath db``: the schema (``upgrade``) and keeping tables bounded (``cleanup``)."""

from __future__ import annotations

import asyncio
import time

import click

from tokenpath.cli.base import Group
from tokenpath.runtime import load_settings, migrate, safe_url

__all__ = ["db"]


@click.group(cls=Group)
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (safe to run repeatedly)."""
    settings = load_settings()
    migrate(settings)
    click.echo(f"database is up to date: {safe_url(settings.database_url)}")


@db.command("cleanup")
@click.option(
    "--grace",
    type=click.IntRange(min=0),
    default=24 * 3600,
    show_default=True,
    help="Seconds expired codes and tokens are kept, so late replays are still recognised.",
)
def db_cleanup(grace: int) -> None:
    """Delete expired codes, tokens, sessions and counters (run it periodically)."""
    from tokenpath.storage.sql import open_database, purge_expired

    settings = load_settings()
    migrate(settings)

    async def purge() -> dict[str, int]:
        database = await open_database(settings.database_url)
        try:
            return await purge_expired(database.executor, int(time.time()), grace=grace)
        finally:
            await database.close()

    counts = asyncio.run(purge())
    click.echo(", ".join(f"{table}: {n}" for table, n in counts.items()) + " deleted")
