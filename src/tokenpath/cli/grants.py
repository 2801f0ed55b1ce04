"""``tokenpath grants``: what users gave clients, listed and revoked.

The rules are :mod:`tokenpath.core.lifecycle.grants` (the admin API applies the same ones):
revoking ends the grants' codes, access and refresh tokens; ``--user`` also ends the user's
sessions. Revoking again is fine: it says nothing was live and exits 0.
"""

from __future__ import annotations

import time

import click

from tokenpath.cli.base import Group, echo_json, json_option, run_with_context
from tokenpath.core import lifecycle
from tokenpath.core.context import Context
from tokenpath.core.lifecycle.views import grant_view, revoked_view
from tokenpath.core.ports import RevokedCount
from tokenpath.core.records import Grant
from tokenpath.runtime import load_settings

__all__ = ["grants"]


@click.group(cls=Group)
def grants() -> None:
    """Authorizations users gave clients, and their tokens."""


def _when(timestamp: int | None) -> str:
    return "-" if timestamp is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


@grants.command("list")
@click.option("--user", "username", metavar="NAME", help="The grants this user gave.")
@click.option("--client", "client_id", metavar="ID", help="The grants given to this client.")
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="Newest first."
)
@json_option("Print a JSON array of grants.")
def grants_list(username: str | None, client_id: str | None, limit: int, as_json: bool) -> None:
    """List the grants of --user NAME or --client ID (revoked ones too), newest first."""

    async def fetch(ctx: Context) -> list[Grant]:
        found = await lifecycle.list_grants(
            ctx, username=username, client_id=client_id, limit=limit
        )
        return list(found)

    listed = run_with_context(load_settings(), fetch)
    if as_json:
        echo_json([grant_view(g) for g in listed])
        return
    if not listed:
        click.echo("no grants")
    for g in listed:
        state = f"revoked {_when(g.revoked_at)}" if g.revoked_at is not None else "live"
        click.echo(f"{g.grant_id}  client {g.client_id}  user {g.user_id or '-'}  {state}")
        click.echo(f"    scope {' '.join(g.scope) or '-'}  given {_when(g.created_at)}")


@grants.command("revoke")
@click.option("--user", "username", metavar="NAME", help="Every grant of this user.")
@click.option("--client", "client_id", metavar="ID", help="Every grant of this client.")
@click.option("--grant", "grant_id", metavar="ID", help="This one grant.")
@json_option("Print {revoked_grants, ended_sessions}.")
def grants_revoke(
    username: str | None, client_id: str | None, grant_id: str | None, as_json: bool
) -> None:
    """Revoke grants: their codes, access and refresh tokens stop working (--user: and the
    user's sessions end)."""

    async def revoke(ctx: Context) -> RevokedCount:
        return await lifecycle.revoke_grants(
            ctx, username=username, client_id=client_id, grant_id=grant_id
        )

    count = run_with_context(load_settings(), revoke)
    if as_json:
        echo_json(revoked_view(count))
        return
    if count.grants == 0 and count.sessions == 0:
        click.echo("nothing was live: no unrevoked grants and no sessions")
        return
    click.echo(f"revoked {count.grants} grant(s); ended {count.sessions} session(s)")
