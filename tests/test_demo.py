"""The demo's data: created on first start, reused afterwards, the client secret kept 0600."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import anyio

from tokenpath.core.claims import claims_for
from tokenpath.core.records import Client
from tokenpath.core.registration import create_user
from tokenpath.demo import DEMO_PASSWORD, DEMO_USERNAME, ensure_demo_data
from tokenpath.runtime import migrate, opened
from tokenpath.settings import Settings


def test_demo_data_is_created_once_and_the_secret_persisted(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    settings = Settings(data_dir=data_dir)
    migrate(settings)
    redirect = "http://127.0.0.1:9002/callback"

    async def twice() -> tuple[tuple[str, str], tuple[str, str], bool]:
        async with opened(settings) as ctx:
            first = await ensure_demo_data(ctx, data_dir, redirect)
            second = await ensure_demo_data(ctx, data_dir, redirect)
            user = await ctx.stores.users.get_by_username(DEMO_USERNAME)
            assert user is not None
            ok = await ctx.passwords.verify(user.password_hash, DEMO_PASSWORD)
            return first, second, ok

    first, second, password_ok = anyio.run(twice)
    assert first == second and password_ok
    saved = data_dir / "demo-client.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {"client_id": first[0], "client_secret": first[1]}


def test_demo_user_has_a_name_and_a_verified_email_also_when_made_before_claims(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "demo"
    settings = Settings(data_dir=data_dir)
    migrate(settings)

    async def start() -> dict[str, object]:
        async with opened(settings) as ctx:
            await create_user(ctx=ctx, username=DEMO_USERNAME, password=DEMO_PASSWORD)
            await ensure_demo_data(ctx, data_dir, "http://127.0.0.1:9002/callback")
            user = await ctx.stores.users.get_by_username(DEMO_USERNAME)
            assert user is not None
            return claims_for(user, ("openid", "profile", "email"))

    claims = anyio.run(start)
    assert claims["name"] == "Alice Liddell"
    assert claims["email"] == "alice@example.com" and claims["email_verified"] is True


def test_the_web_app_is_registered_for_both_logouts(tmp_path: Path) -> None:
    """RP-Initiated Logout returns to /signed-out; logout tokens go to /backchannel-logout."""
    data_dir = tmp_path / "demo"
    settings = Settings(data_dir=data_dir)
    migrate(settings)

    async def registered() -> Client | None:
        async with opened(settings) as ctx:
            client_id, _ = await ensure_demo_data(ctx, data_dir, "http://127.0.0.1:9002/callback")
            return await ctx.stores.clients.get(client_id)

    client = anyio.run(registered)
    assert client is not None
    assert client.post_logout_redirect_uris == ("http://127.0.0.1:9002/signed-out",)
    assert client.backchannel_logout_uri == "http://127.0.0.1:9002/backchannel-logout"
    assert {"openid", "profile", "email"} <= set(client.scopes)
