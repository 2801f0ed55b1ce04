"""``tokenpath registration token create``: initial access tokens, printed once, stored hashed."""

from __future__ import annotations

import asyncio
import json
import time

from click.testing import CliRunner

from tests.cli.conftest import run
from tokenpath.core.clock import hash_token
from tokenpath.core.records import InitialAccessToken
from tokenpath.runtime import load_settings, opened


def stored(token: str) -> InitialAccessToken | None:
    async def look() -> InitialAccessToken | None:
        async with opened(load_settings()) as ctx:
            return await ctx.stores.initial_access_tokens.get(hash_token(token), int(time.time()))

    return asyncio.run(look())


def test_json_prints_only_the_token_and_defaults_are_one_use_for_a_day(
    runner: CliRunner, env: dict[str, str]
) -> None:
    code, out = run(runner, "registration", "token", "create", "--json")
    assert code == 0, out
    created = json.loads(out)
    assert set(created) == {"token"} and len(created["token"]) >= 43
    record = stored(created["token"])
    assert record is not None and record.token_hash == hash_token(created["token"])
    assert record.uses_left == 1
    assert record.expires_at is not None
    assert record.expires_at == record.created_at + 86400


def test_uses_and_expiry_can_be_set_or_unlimited(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(
        runner, "registration", "token", "create", "--uses", "5", "--expires-in", "60", "--json"
    )
    record = stored(json.loads(out)["token"])
    assert code == 0 and record is not None
    assert record.uses_left == 5 and record.expires_at == record.created_at + 60
    code, out = run(
        runner, "registration", "token", "create", "--uses", "0", "--expires-in", "0", "--json"
    )
    record = stored(json.loads(out)["token"])
    assert code == 0 and record is not None
    assert record.uses_left is None and record.expires_at is None


def test_plain_output_says_where_to_send_it_and_bad_counts_are_usage_errors(
    runner: CliRunner, env: dict[str, str]
) -> None:
    code, out = run(runner, "registration", "token", "create")
    assert code == 0 and "initial access token: " in out and "/register" in out
    token = out.split("initial access token: ", 1)[1].split()[0]
    assert stored(token) is not None
    code, out = run(runner, "registration", "token", "create", "--uses", "-1")
    assert code == 2 and "--uses" in out
