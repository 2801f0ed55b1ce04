"""The demo's data: created on first start, reused afterwards, the client secret kept 0600."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import anyio

from tokenpath.core.records import Client
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
