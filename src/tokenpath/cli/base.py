"""What every command shares: runtime failures as exit codes, and running an action on a Context.

:mod:`tokenpath.runtime` raises plain exceptions; commands are built from :class:`Command` and
:class:`Group`, which turn them into click's exit codes where a command's callback runs, so the
message carries that command's usage line exactly as a click usage error would:

* :class:`~tokenpath.runtime.ConfigError` -> exit code 2 (a configuration tokenpath refuses),
  and so is a key-encryption key that does not open the stored signing keys,
* :class:`~tokenpath.runtime.MigrationError` -> exit code 1 (a runtime failure).

Every command (and the group) takes ``--config FILE``: the TOML file of settings, set for the
process as ``TOKENPATH_CONFIG`` so that ``serve --workers`` passes it on. The group writes
standard output and error as UTF-8 whatever the locale says, so ``§`` in a message never turns
into ``?``.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import click

from tokenpath.core.context import Context
from tokenpath.runtime import ConfigError, MigrationError, migrate, opened
from tokenpath.settings import Settings
from tokenpath.storage.key_encryption import KeyEncryptionError

__all__ = ["Command", "Group", "run_with_context"]

T = TypeVar("T")


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


def run_with_context(settings: Settings, action: Callable[[Context], Awaitable[T]]) -> T:
    """Migrate, open the configured database, run ``action`` on its Context, close it."""
    migrate(settings)

    async def go() -> T:
        async with opened(settings) as ctx:
            return await action(ctx)

    return asyncio.run(go())
