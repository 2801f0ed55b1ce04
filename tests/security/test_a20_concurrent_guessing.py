"""Catalog A20 under concurrency, against a real server: uvicorn, production argon2id, SQLite and
PostgreSQL.

Every request is a separate browser (its own CSRF cookie and token), all sent at once, as the
attacker in the review did; the server must check at most the limit's worth of passwords.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import run_blocking
from tests.support.servers import free_port, serve_asgi
from tests.web.conftest import forms
from tokenpath.core.login import ADDRESS_ATTEMPTS_PER_MINUTE
from tokenpath.core.registration import create_user
from tokenpath.runtime import build_context
from tokenpath.settings import Settings
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql import open_database
from tokenpath.web.app import create_app

PASSWORD = "wonderland"


async def _seed(settings: Settings, users: int) -> None:
    database = await open_database(settings.database_url)
    try:
        ctx = build_context(
            settings, database.stores, passwords=Argon2PasswordHasher(time_cost=1, memory_cost=8192)
        )
        for n in range(users):
            await create_user(ctx=ctx, username=f"user{n}", password=PASSWORD)
    finally:
        await database.close()


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    port = free_port()
    settings = Settings(issuer=f"http://127.0.0.1:{port}", database_url=db_url, data_dir=tmp_path)
    run_blocking(_seed(settings, ADDRESS_ATTEMPTS_PER_MINUTE + 1))
    with serve_asgi(create_app(settings), port=port) as url:
        yield url, settings


async def _browser_attempt(url: str, username: str, headers: dict[str, str]) -> int:
    """A fresh browser: GET the form (its own cookie), then POST one guess."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as browser:
        form = forms((await browser.get("/login")).text)[0]
        data = {"csrf": form.value("csrf"), "return_to": "/", "username": username}
        data["password"] = "not the password"
        response = await browser.post("/login", data=data, headers=headers)
        return response.status_code


async def _attack(url: str, usernames: list[str], headers: dict[str, str]) -> list[int]:
    return list(await asyncio.gather(*(_browser_attempt(url, name, headers) for name in usernames)))


def test_a20_thirty_concurrent_guesses_check_at_most_the_limit(
    server: tuple[str, Settings],
) -> None:
    url, settings = server
    statuses = run_blocking(_attack(url, ["user0"] * 30, {}))
    limit = settings.login_failures_per_minute
    assert statuses.count(400) <= limit  # only these had their password checked
    assert statuses.count(429) >= 30 - limit
    assert set(statuses) <= {400, 429, 503}  # 503: the hashing queue was full, nothing checked


def test_a20_spoofed_forwarded_for_does_not_escape_the_address_limit(
    server: tuple[str, Settings],
) -> None:
    """Each guess claims a new address; the server counts them all against the real peer.

    The bucket gives one attempt back every 2 s, so of ten more attempts sent right after the
    first 30, at least one is refused however slowly this machine runs them.
    """
    url, _ = server
    users = ADDRESS_ATTEMPTS_PER_MINUTE + 1
    names = [f"user{n % users}" for n in range(ADDRESS_ATTEMPTS_PER_MINUTE + 10)]

    async def one_by_one() -> list[int]:
        return [
            await _browser_attempt(url, name, {"X-Forwarded-For": f"203.0.113.{n}"})
            for n, name in enumerate(names)
        ]

    statuses = run_blocking(one_by_one())
    assert statuses[:ADDRESS_ATTEMPTS_PER_MINUTE] == [400] * ADDRESS_ATTEMPTS_PER_MINUTE
    assert 429 in statuses[ADDRESS_ATTEMPTS_PER_MINUTE:]


def test_a20_a_12_kb_client_id_is_401_and_stores_nothing_of_its_size(
    server: tuple[str, Settings],
) -> None:
    url, settings = server
    credentials = base64.b64encode(b"c" * 12_000 + b":guess").decode()
    response = httpx.post(
        f"{url}/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"

    async def longest_key() -> int:
        database = await open_database(settings.database_url)
        try:
            row = await database.executor.one(select(func.max(func.length(m.rate_limits.c.key))))
        finally:
            await database.close()
        assert row is not None
        return int(row[0])

    assert run_blocking(longest_key()) == 64
