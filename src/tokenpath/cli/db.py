"""``tokenpath db``: the schema (``upgrade``, ``current``, ``check``) and keeping tables bounded
(``cleanup``).

``db upgrade`` is the only command that creates a database or changes its schema (``serve`` and
``demo`` run it at start); ``current`` and ``check`` only look, and never create a SQLite file.
"""

from __future__ import annotations

import asyncio
import time

import click
from sqlalchemy.exc import SQLAlchemyError

from tokenpath.cli.base import DatabaseNotReady, Group, echo_json, json_option, require_schema
from tokenpath.runtime import ConfigError, load_settings, migrate, safe_url
from tokenpath.settings import Settings

__all__ = ["db"]


@click.group(cls=Group)
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the database or apply every pending migration (safe to run repeatedly)."""
    settings = load_settings()
    migrate(settings)
    click.echo(f"database is up to date: {safe_url(settings.database_url)}")


def _state(settings: Settings) -> dict[str, object]:
    from tokenpath.storage.sql import schema_state

    where = safe_url(settings.database_url)
    try:
        state = asyncio.run(schema_state(settings.database_url))
    except ValueError as error:
        raise ConfigError(f"invalid configuration: database_url: {error}") from None
    except (OSError, SQLAlchemyError) as error:
        raise DatabaseNotReady(f"cannot open {where}: {str(error).splitlines()[0]}") from None
    return {
        "database": where,
        "exists": state.exists,
        "current": state.current,
        "head": state.head,
        "up_to_date": state.up_to_date,
    }


def _describe(state: dict[str, object]) -> str:
    if not state["exists"]:
        return f"no database at {state['database']} (create it with: tokenpath db upgrade)"
    if state["current"] is None:
        return f"{state['database']} has no tokenpath schema (run: tokenpath db upgrade)"
    if state["up_to_date"]:
        return f"{state['database']} is at {state['current']}, the newest revision"
    return (
        f"{state['database']} is at {state['current']}; this version needs {state['head']} "
        "(run: tokenpath db upgrade)"
    )


@db.command("current")
@json_option("Print {database, exists, current, head, up_to_date}.")
def db_current(as_json: bool) -> None:
    """Show the schema revision of the database and the one this version needs."""
    state = _state(load_settings())
    if as_json:
        echo_json(state)
    else:
        click.echo(_describe(state))
    if not state["exists"]:
        raise SystemExit(1)


@db.command("check")
@json_option("Print {database, exists, current, head, up_to_date}.")
def db_check(as_json: bool) -> None:
    """Exit 0 if the schema is up to date, 1 if not (missing, empty or behind)."""
    state = _state(load_settings())
    if as_json:
        echo_json(state)
    else:
        click.echo(_describe(state))
    if not state["up_to_date"]:
        raise SystemExit(1)


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

    async def purge() -> dict[str, int]:
        await require_schema(settings)
        database = await open_database(settings.database_url)
        try:
            return await purge_expired(database.executor, int(time.time()), grace=grace)
        finally:
            await database.close()

    counts = asyncio.run(purge())
    click.echo(", ".join(f"{table}: {n}" for table, n in counts.items()) + " deleted")
