"""What every command shares: failures as exit codes, and running an action on a Context.

Exit codes (``docs/reference/cli.md``): 0 success; 1 not found, a refused operation, or a
database that is missing, out of date or unreachable; 2 usage or configuration error.

:mod:`tokenpath.runtime` and :mod:`tokenpath.core.lifecycle` raise plain exceptions; commands
are built from :class:`Command` and :class:`Group`, which turn them into click's exit codes where
a command's callback runs, so the message carries that command's usage line exactly as a click
usage error would:

* :class:`~tokenpath.runtime.ConfigError` -> exit code 2 (a configuration tokenpath refuses),
  and so is a key-encryption key that does not open the stored signing keys;
* :class:`~tokenpath.core.lifecycle.Invalid` -> exit code 2 (the input breaks a rule);
* :class:`~tokenpath.core.lifecycle.NotFound`, :class:`~tokenpath.core.lifecycle.Conflict`,
  :class:`~tokenpath.runtime.MigrationError` and :class:`DatabaseNotReady` -> exit code 1.

Only ``tokenpath db upgrade`` (and ``serve`` and ``demo``, at start) creates or migrates a
database: :func:`run_with_context` opens the one that is there, and refuses with
:class:`DatabaseNotReady` when there is none or its schema is not this version's.

Every command (and the group) takes ``--config FILE``: the TOML file of settings, set for the
process as ``TOKENPATH_CONFIG`` so that ``serve --workers`` passes it on. The group writes
standard output and error as UTF-8 whatever the locale says, so ``§`` in a message never turns
into ``?``.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from tokenpath.core.context import Context
from tokenpath.core.lifecycle import LifecycleError
from tokenpath.runtime import ConfigError, MigrationError, opened, safe_url
from tokenpath.settings import Settings
from tokenpath.storage.key_encryption import KeyEncryptionError

__all__ = [
    "Command",
    "DatabaseNotReady",
    "Group",
    "echo_json",
    "json_option",
    "require_schema",
    "run_with_context",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
UPGRADE = "run: tokenpath db upgrade"


class DatabaseNotReady(click.ClickException):
    """No database, no schema, or another version's schema: exit code 1, never a traceback."""

    exit_code = 1


def _use_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        os.environ["TOKENPATH_CONFIG"] = value


def config_option() -> click.Option:
    """``--config FILE``: settings from a TOML file (environment variables still win)."""
    return click.Option(
        ["--config"],
        metavar="FILE",
        expose_value=False,
        is_eager=True,
        callback=_use_config,
        help="TOML file of settings (same names; the environment overrides it).",
    )


def utf8_output() -> None:
    """Standard output and error as UTF-8 (undecodable characters replaced, never an error)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", "") or "").lower().replace("-", "")
        if isinstance(stream, io.TextIOWrapper) and encoding != "utf8":
            stream.reconfigure(encoding="utf-8", errors="replace")


class Command(click.Command):
    """A command whose runtime failures exit like click's own errors (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(config_option())

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, KeyEncryptionError) as error:
            raise click.UsageError(str(error), ctx) from None
        except LifecycleError as error:
            if error.exit_code == 2:
                raise click.UsageError(error.description, ctx) from None
            raise click.ClickException(error.description) from None
        except MigrationError as error:
            raise click.ClickException(str(error)) from None


class Group(click.Group):
    """A group whose commands are :class:`Command` and whose subgroups are :class:`Group`."""

    command_class = Command
    group_class = type

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(config_option())

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        utf8_output()
        return super().main(args, *rest, **kwargs)


def json_option(help: str = "Print JSON.") -> Callable[[F], F]:
    """``--json``, the same flag on every command that shows something."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


async def require_schema(settings: Settings) -> None:
    """Refuse (exit 1) unless the configured database exists at this version's schema."""
    from tokenpath.storage.sql import schema_state

    where = safe_url(settings.database_url)
    try:
        state = await schema_state(settings.database_url)
    except ValueError as error:
        raise ConfigError(f"invalid configuration: database_url: {error}") from None
    except (OSError, SQLAlchemyError) as error:
        reason = str(error).splitlines()[0]
        raise DatabaseNotReady(f"cannot open {where}: {reason}") from None
    if not state.exists:
        raise DatabaseNotReady(f"no database at {where}; create it with: tokenpath db upgrade")
    if state.current is None:
        raise DatabaseNotReady(f"{where} has no tokenpath schema; {UPGRADE}")
    if not state.known:
        raise DatabaseNotReady(
            f"{where} is at schema revision {state.current}, which this version of tokenpath "
            "does not know (a newer one migrated it): upgrade tokenpath"
        )
    if not state.up_to_date:
        raise DatabaseNotReady(
            f"{where} is at schema revision {state.current}, this version needs "
            f"{state.head}; {UPGRADE}"
        )


def run_with_context(settings: Settings, action: Callable[[Context], Awaitable[T]]) -> T:
    """Check the configured database is there and current, open it, run ``action`` on its
    Context, close it. Nothing is created or migrated."""

    async def go() -> T:
        await require_schema(settings)
        try:
            async with opened(settings) as ctx:
                return await action(ctx)
        except (OSError, SQLAlchemyError) as error:
            reason = str(error).splitlines()[0]
            where = safe_url(settings.database_url)
            raise DatabaseNotReady(f"cannot use {where}: {reason}") from None

    return asyncio.run(go())
