"""Untimed set-up for benchmarks: a client, a user, N real signed-in sessions with consent.

Sessions are created by the same ``core.login.login`` the login form calls, and consent by the
same store the consent form writes, so the server under test needs no benchmark-only hook.
Prints one JSON line: client id and secret, and the path of the cookies file for loadgen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from tokenpath.core.login import login
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import create_user, register_client
from tokenpath.settings import Settings
from tokenpath.storage.sql import open_database
from tokenpath.web.app import build_context

REDIRECT_URI = "http://127.0.0.1:7999/cb"
SCOPES = "openid profile notes:read"


def _write_private(path: Path, text: str) -> None:
    """The cookies file holds live session ids: readable by its owner only."""
    path.write_text(text)
    path.chmod(0o600)


async def seed(sessions: int, cookies_file: Path, access_token_format: str) -> dict[str, str]:
    settings = Settings()
    database = await open_database(settings.database_url)
    ctx = build_context(settings, database.stores)
    try:
        client, secret = await register_client(
            ctx=ctx,
            name="bench",
            client_type=ClientType.CONFIDENTIAL,
            redirect_uris=[REDIRECT_URI],
            scopes=SCOPES.split(),
            grant_types=[
                GrantType.AUTHORIZATION_CODE,
                GrantType.REFRESH_TOKEN,
                GrantType.CLIENT_CREDENTIALS,
            ],
            access_token_format=access_token_format,
        )
        await create_user(ctx=ctx, username="bench", password="bench-password")
        origin = settings.issuer.split("://", 1)[1]
        lines = []
        for _ in range(sessions):
            result = await login("bench", "bench-password", ctx=ctx)
            assert isinstance(result, tuple), "seeding sign-in failed"
            session_id, session = result
            await ctx.stores.consents.add(
                session.user_id, client.client_id, frozenset(SCOPES.split()), ctx.clock.now()
            )
            name = "__Host-tp_session" if settings.issuer.startswith("https") else "tp_session"
            lines.append(f"{origin}\t{name}={session_id}")
        assert secret is not None
        await asyncio.to_thread(_write_private, cookies_file, "\n".join(lines) + "\n")
        return {"client_id": client.client_id, "client_secret": secret}
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--cookies-file", type=Path, required=True)
    parser.add_argument("--access-token-format", choices=["jwt", "opaque"], default="jwt")
    args = parser.parse_args()
    result = asyncio.run(seed(args.sessions, args.cookies_file, args.access_token_format))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
