"""``tokenpath serve``: the authorization server under uvicorn, in one process or several.

Migrations run before the first request is accepted; ``--workers`` re-reads the settings from
the environment in each worker, so a command-line weakening (``--allow-implicit``) is passed on
through the environment too.
"""

from __future__ import annotations

import asyncio
import os

import click
import uvicorn

from tokenpath import __version__
from tokenpath.cli.base import Command
from tokenpath.runtime import (
    configure_logging,
    load_settings,
    migrate,
    preflight,
    uvicorn_options,
)

__all__ = ["serve"]


@click.command(cls=Command)
@click.option("--host", default=None, help="Interface to bind (default TOKENPATH_HOST).")
@click.option("--port", type=int, default=None, help="Port (default TOKENPATH_PORT).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--allow-implicit",
    is_flag=True,
    default=None,
    help="Turn the implicit grant on server-wide (legacy; same as TOKENPATH_ALLOW_IMPLICIT=1).",
)
def serve(host: str | None, port: int | None, workers: int, allow_implicit: bool | None) -> None:
    """Run the authorization server (migrations are applied first)."""
    from tokenpath.web import create_app

    settings = load_settings(host=host, port=port, allow_implicit=allow_implicit or None)
    if allow_implicit:
        os.environ["TOKENPATH_ALLOW_IMPLICIT"] = "1"  # for --workers, which re-read the environment
    configure_logging()
    migrate(settings)
    asyncio.run(preflight(settings))
    click.echo(f"tokenpath {__version__}: issuer {settings.issuer}")
    if workers > 1:
        from tokenpath.web.workers import run_workers

        status = run_workers(settings.host, settings.port, workers, uvicorn_options())
        if status:
            raise click.ClickException("a worker could not start; see the messages above")
        return
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, **uvicorn_options())
