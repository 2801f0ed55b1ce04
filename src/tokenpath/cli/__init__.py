"""The ``tokenpath`` command: database, users, clients, the server and the local demo.

Every command reads :class:`~tokenpath.settings.Settings` from ``TOKENPATH_*`` variables and
works on the database that is there: only ``db upgrade`` (and ``serve`` and ``demo``, at start)
creates or migrates one. A secret is printed only where it must be shown: once, when it is made
(a client's secret, an initial access token, an admin token).

Exit codes (``cli/base.py``): 0 success; 1 not found, a refused operation, or a database that is
missing, out of date or unreachable; 2 usage or configuration error.

Each command lives in its own module (``db``, ``keys``, ``users``, ``clients`` and
``client_lifecycle``, ``apis``, ``grants``, ``admin``, ``registration``, ``serve``, ``login``,
``demo``, ``compare``, ``check``, ``advise``, ``config``); this package only assembles them under
``main``.
The wiring they share (settings, migrations, a Context) is :mod:`tokenpath.runtime`.
"""

from __future__ import annotations

import click

from tokenpath import __version__
from tokenpath.cli import (
    admin,
    advise,
    apis,
    check,
    client_lifecycle,
    clients,
    compare,
    config,
    db,
    demo,
    grants,
    keys,
    login,
    registration,
    serve,
    users,
)
from tokenpath.cli.base import Group

__all__ = ["main"]


@click.group(cls=Group)
@click.version_option(__version__, prog_name="tokenpath")
def main() -> None:
    """tokenpath: an OAuth 2.x authorization server you can read.

    Configuration comes from TOKENPATH_* environment variables (TOKENPATH_ISSUER,
    TOKENPATH_DATABASE_URL, TOKENPATH_DATA_DIR, ...) and an optional TOML file (--config);
    `tokenpath config show` prints the result.
    """


assert client_lifecycle.client_show  # adds show/delete/disable/enable/rotate-secret to ``client``
_COMMANDS = (
    db.db,
    keys.keys,
    login.login,
    users.user,
    clients.client,
    grants.grants,
    admin.admin,
    apis.api,
    registration.registration,
    serve.serve,
    demo.demo,
    compare.compare,
    check.check,
    config.config,
    advise.advise,
)
for _command in _COMMANDS:
    main.add_command(_command)
