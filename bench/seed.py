"""Untimed set-up for benchmarks: a client, a user, N real signed-in sessions with consent.

Sessions are created by the same ``core.login.login`` the login form calls, and consent by the
same store the consent form writes, so the server under test needs no benchmark-only hook.
``--users N`` also creates N users ``bench0`` .. ``bench<N-1>`` for the login scenario, through
``create_user`` like ``tokenpath user add``; they all have the password ``bench-password``, so
it is hashed once (argon2id, the server's parameters) and that hash is stored for each: seeding
2,000 users then costs one hash, and verifying any of them costs exactly what a sign-in costs.
Prints one JSON line: client id and secret, and the argon2id parameters of the stored hashes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import replace
from pathlib import Path

import argon2

from tokenpath.core.login import login
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import create_user, register_client
from tokenpath.runtime import build_context
from tokenpath.settings import Settings
from tokenpath.storage.sql import open_database

REDIRECT_URI = "http://127.0.0.1:7999/cb"
SCOPES = "openid profile notes:read"
PASSWORD = "bench-password"
USER_PREFIX = "bench"


class _OneHash:
    """A hasher that answers every ``hash`` with one precomputed hash (all users share it)."""

    def __init__(self, inner: object, password_hash: str) -> None:
        self._inner = inner
        self._hash = password_hash

    async def hash(self, password: str) -> str:
        assert password == PASSWORD
        return self._hash

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def _write_private(path: Path, text: str) -> None:
    """The cookies file holds live session ids: readable by its owner only."""
    path.write_text(text)
    path.chmod(0o600)


async def seed(
    sessions: int, cookies_file: Path, access_token_format: str, users: int
) -> dict[str, object]:
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
        await create_user(ctx=ctx, username="bench", password=PASSWORD)
        password_hash = await ctx.passwords.hash(PASSWORD)
        shared = replace(ctx, passwords=_OneHash(ctx.passwords, password_hash))
        for i in range(users):
            await create_user(ctx=shared, username=f"{USER_PREFIX}{i}", password=PASSWORD)
        origin = settings.issuer.split("://", 1)[1]
        lines = []
        for _ in range(sessions):
            result = await login("bench", PASSWORD, ctx=ctx)
            assert isinstance(result, tuple), "seeding sign-in failed"
            session_id, session = result
            await ctx.stores.consents.add(
                session.user_id, client.client_id, frozenset(SCOPES.split()), ctx.clock.now()
            )
            name = "__Host-tp_session" if settings.issuer.startswith("https") else "tp_session"
            lines.append(f"{origin}\t{name}={session_id}")
        assert secret is not None
        await asyncio.to_thread(_write_private, cookies_file, "\n".join(lines) + "\n")
        params = argon2.extract_parameters(password_hash)
        return {
            "client_id": client.client_id,
            "client_secret": secret,
            "users": users,
            "user_prefix": USER_PREFIX,
            "argon2": {
                "type": params.type.name.lower(),
                "time_cost": params.time_cost,
                "memory_cost_kib": params.memory_cost,
                "parallelism": params.parallelism,
                "hash_len": params.hash_len,
                "salt_len": params.salt_len,
                "version": params.version,
            },
        }
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--cookies-file", type=Path, required=True)
    parser.add_argument("--access-token-format", choices=["jwt", "opaque"], default="jwt")
    parser.add_argument("--users", type=int, default=0, help="users for the login scenario")
    args = parser.parse_args()
    result = asyncio.run(
        seed(args.sessions, args.cookies_file, args.access_token_format, args.users)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
