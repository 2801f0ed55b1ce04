"""What every command shares: runtime failures as exit codes, and running an action on a Context.

:mod:`tokenpath.runtime` raises plain exceptions; commands are built from :class:`Command` and
:class:`Group`, which turn them into click's exit codes where a command's callback runs, so the
message carries that command's usage line exactly as a click usage error would:

* :class:`~tokenpath.runtime.ConfigError` -> exit code 2 (a configuration tokenpath refuses),
  and so is a key-encryption key that does not open the stored signing keys,
* :class:`~tokenpath.runtime.MigrationError` -> exit code 1 (a runtime failure).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from tokenpath.core.context import Context
from tokenpath.runtime import ConfigError, MigrationError, migrate, opened
from tokenpath.settings import Settings
from tokenpath.storage.key_encryption import KeyEncryptionError

__all__ = ["Command", "Group", "run_with_context"]

T = TypeVar("T")


class Command(click.Command):
    """A command whose runtime failures exit like click's own errors (see the module docstring)."""

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


def run_with_context(settings: Settings, action: Callable[[Context], Awaitable[T]]) -> T:
    """Migrate, open the configured database, run ``action`` on its Context, close it."""
    migrate(settings)

    async def go() -> T:
        async with opened(settings) as ctx:
            return await action(ctx)

    return asyncio.run(go())
