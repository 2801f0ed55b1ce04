"""The ``tokenpath`` command: database, users, clients, the server and the local demo.

Every command reads :class:`~tokenpath.settings.Settings` from ``TOKENPATH_*`` variables, runs
the migrations it needs first (they are idempotent), and never prints a secret except the one
place a new client secret must be shown: once, when the client is created.

Exit codes: 0 success, 1 runtime failure, 2 bad input or a configuration tokenpath refuses.

Each command lives in its own module (``db``, ``keys``, ``users``, ``clients``, ``apis``,
``registration``, ``serve``, ``login``, ``demo``, ``check``); this package only assembles them
under ``main``. The wiring they share (settings, migrations, a Context) is
:mod:`tokenpath.runtime`.
"""

from __future__ import annotations

import click

from tokenpath import __version__
from tokenpath.cli import apis, check, clients, db, demo, keys, login, registration, serve, users
from tokenpath.cli.base import Group

__all__ = ["main"]


@click.group(cls=Group)
@click.version_option(__version__, prog_name="tokenpath")
def main() -> None:
    """tokenpath: an OAuth 2.x authorization server you can read.

    Configuration comes from TOKENPATH_* environment variables (TOKENPATH_ISSUER,
    TOKENPATH_DATABASE_URL, TOKENPATH_DATA_DIR, ...).
    """


_COMMANDS = (
    db.db,
    keys.keys,
    login.login,
    users.user,
    clients.client,
    apis.api,
    registration.registration,
    serve.serve,
    demo.demo,
    check.check,
)
for _command in _COMMANDS:
    main.add_command(_command)
