"""``tokenpath demo``: every part of tokenpath on loopback, in one process.

Only the command lives here. The demo itself is :mod:`tokenpath.demo`, imported when the command
runs: it depends on :mod:`tokenpath.runtime`, never on the CLI, so the two cannot import each
other.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from tokenpath.cli.base import Command
from tokenpath.runtime import configure_logging

__all__ = ["demo"]


@click.command(cls=Command)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".tokenpath-demo"),
    show_default=True,
    help="Where the demo keeps its databases and the demo client's secret.",
)
@click.option("--as-port", type=int, default=9000, show_default=True, help="Authorization server.")
@click.option("--api-port", type=int, default=9001, show_default=True, help="Demo API.")
@click.option("--app-port", type=int, default=9002, show_default=True, help="Demo web app.")
@click.option("--spa-port", type=int, default=9003, show_default=True, help="Demo browser app.")
@click.option("--lab-port", type=int, default=9004, show_default=True, help="Flow lab.")
@click.option(
    "--attacker-port",
    type=int,
    default=9005,
    show_default=True,
    help="The flow lab's attacker origin (attack playground).",
)
@click.option(
    "--chromium",
    type=click.Path(dir_okay=False),
    default=None,
    help="The Chromium the flow lab drives (default: /usr/bin/chromium, else on the PATH).",
)
def demo(
    data_dir: Path,
    as_port: int,
    api_port: int,
    app_port: int,
    spa_port: int,
    lab_port: int,
    attacker_port: int,
    chromium: str | None,
) -> None:
    """Run the authorization server, the demo API, the demo apps and the flow lab in one process."""
    from tokenpath.demo import DemoPorts, run_demo

    configure_logging()
    ports = DemoPorts(as_port, api_port, app_port, spa_port, lab_port, attacker_port)
    asyncio.run(run_demo(data_dir, ports, chromium=chromium))
