"""``tokenpath config show``: the effective settings, secrets masked, and where each came from.

Each setting's source is ``default``, ``file`` (the TOML file of ``--config`` /
``TOKENPATH_CONFIG``), ``env`` (``TOKENPATH_<NAME>`` or, for a secret, ``TOKENPATH_<NAME>_FILE``)
or ``flag``. A secret shows as ``********`` when set (never its length); the database URL shows
without its password. Nothing is created or migrated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tokenpath.cli.base import Command, Group
from tokenpath.configuration import config_path, is_secret, origins, variable
from tokenpath.runtime import load_settings, safe_url
from tokenpath.settings import Settings

__all__ = ["config"]

MASK = "********"


def _shown(name: str, value: Any) -> Any:
    info = Settings.model_fields[name]
    if name == "database_url":
        return safe_url(str(value))
    if is_secret(info):
        return MASK if value else ""
    return str(value) if isinstance(value, Path) else value


def effective_settings(settings: Settings) -> dict[str, dict[str, Any]]:
    """``{TOKENPATH_X: {"value": ..., "source": ..., "via": ...}}`` in declaration order."""
    where = origins(Settings)
    rows: dict[str, dict[str, Any]] = {}
    for name in Settings.model_fields:
        row = {"value": _shown(name, getattr(settings, name)), "source": where[name].origin}
        if where[name].via:
            row["via"] = where[name].via
        rows[variable(name)] = row
    return rows


@click.group(cls=Group)
def config() -> None:
    """Inspect the configuration."""


@config.command(cls=Command)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def show(as_json: bool) -> None:
    """Print the effective settings, secrets masked, with where each value came from."""
    settings = load_settings()
    rows = effective_settings(settings)
    path = config_path()
    if as_json:
        document = {"config_file": str(path) if path else None, "settings": rows}
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(f"# config file: {path if path else '(none)'}")
    width = max(len(name) for name in rows)
    for name, row in rows.items():
        value = row["value"]
        text = json.dumps(value) if isinstance(value, list | bool) or value == "" else value
        click.echo(f"{name:<{width}}  {text}  [{row['source']}]")
