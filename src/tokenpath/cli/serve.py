"""``tokenpath serve``: the authorization server under uvicorn, in one process or several.

Migrations run before the first request is accepted; ``--workers`` re-reads the settings from
the environment in each worker, so command-line settings (``--allow-implicit``, ``--config``)
are passed on through the environment too.

Sockets are bound here, before anything starts, so a port another program holds is one clear
message and exit code 1 (documented in docs/reference/cli.md), not a server's traceback. With
``--management-port`` the management listener (``tokenpath.web.management``) runs beside the
server; under ``--workers`` it runs in this supervising process and adds up the workers'
metrics, which they write to a directory made for this run and removed at its end.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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
from tokenpath.settings import Settings

__all__ = ["serve"]

log = logging.getLogger("tokenpath")


def bind(host: str, port: int, variable: str) -> socket.socket:
    """A listening-ready socket on ``host:port``; a busy or forbidden address is exit code 1."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            reason = "the address is already in use (another server holds it)"
        else:
            reason = error.strerror or str(error)
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {reason}; choose another with {variable}"
        ) from None
    return sock


@contextmanager
def management(settings: Settings) -> Iterator[None]:
    """The management listener for the block's duration, when a port is configured."""
    if not settings.management_port:
        yield
        return
    from tokenpath.settings import is_loopback_host
    from tokenpath.web.admin_api import create_admin_app
    from tokenpath.web.management import ManagementServer, create_management_app

    if not is_loopback_host(settings.management_host):
        log.warning(
            "the management listener binds %s, beyond loopback: /metrics and /readyz are "
            "readable by anyone who can reach it",
            settings.management_host,
        )
    sock = bind(
        settings.management_host,
        settings.management_port,
        "--management-port or TOKENPATH_MANAGEMENT_PORT",
    )
    app = create_management_app(settings, apps={"/admin": create_admin_app})
    server = ManagementServer(app, sock)
    try:
        server.start()
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    try:
        yield
    finally:
        server.stop()


@contextmanager
def shared_metrics(workers: int) -> Iterator[Callable[[int], None]]:
    """Under ``--workers``: a fresh directory the workers write their metrics to; yields what
    to call when a worker process ends (its live gauges stop counting)."""
    if workers == 1:
        yield lambda pid: None
        return
    from prometheus_client import multiprocess

    from tokenpath.observability.metrics import MULTIPROCESS_VARIABLE

    directory = tempfile.mkdtemp(prefix="tokenpath-metrics-")
    os.environ[MULTIPROCESS_VARIABLE] = directory
    try:
        yield lambda pid: multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
    finally:
        os.environ.pop(MULTIPROCESS_VARIABLE, None)
        shutil.rmtree(directory, ignore_errors=True)


@click.command(cls=Command)
@click.option("--host", default=None, help="Interface to bind (default TOKENPATH_HOST).")
@click.option("--port", type=int, default=None, help="Port (default TOKENPATH_PORT).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--management-port",
    type=click.IntRange(min=0, max=65535),
    default=None,
    help="Port of /healthz, /readyz and /metrics (default TOKENPATH_MANAGEMENT_PORT; 0: off).",
)
@click.option(
    "--allow-implicit",
    is_flag=True,
    default=None,
    help="Turn the implicit grant on server-wide (legacy; same as TOKENPATH_ALLOW_IMPLICIT=1).",
)
def serve(
    host: str | None,
    port: int | None,
    workers: int,
    management_port: int | None,
    allow_implicit: bool | None,
) -> None:
    """Run the authorization server (migrations are applied first)."""
    settings = load_settings(
        host=host,
        port=port,
        management_port=management_port,
        allow_implicit=allow_implicit or None,
    )
    if allow_implicit:
        os.environ["TOKENPATH_ALLOW_IMPLICIT"] = "1"  # for --workers, which re-read the environment
    configure_logging(settings)
    migrate(settings)
    asyncio.run(preflight(settings))
    log.info("tokenpath %s: issuer %s", __version__, settings.issuer)
    if workers == 1:
        sock = bind(settings.host, settings.port, "--port or TOKENPATH_PORT")
        with management(settings):
            _serve_one(settings, sock)
        return
    bind(settings.host, settings.port, "--port or TOKENPATH_PORT").close()  # free? say so now
    with shared_metrics(workers) as worker_ended, management(settings):
        from tokenpath.web.workers import run_workers

        status = run_workers(
            settings.host, settings.port, workers, uvicorn_options(), on_exit=worker_ended
        )
    if status:
        raise click.ClickException("a worker could not start; see the messages above")


def _serve_one(settings: Settings, sock: socket.socket) -> None:
    from tokenpath.web import create_app

    config = uvicorn.Config(create_app(settings), **uvicorn_options())
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: a clean stop
        pass
    finally:
        sock.close()
    if not server.started:
        raise click.ClickException("the server could not start; see the messages above")
