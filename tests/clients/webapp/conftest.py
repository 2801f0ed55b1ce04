"""The web app under test, against the real authorization server and demo API on loopback.

One stack per module (SQLite), reused by every test; each test gets its own :class:`Browser`
(its own cookie jar), so sign-ins never leak between tests. The stack's request recorder lets a
test prove what did *not* happen, e.g. that no token request followed a forged callback.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.conftest import run_blocking
from tests.e2e.conftest import PASSWORD, Stack, start_stack
from tests.support.recorder import Exchange
from tokenpath.core.registration import create_user
from tokenpath.runtime import build_context
from tokenpath.settings import Settings
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.storage.sql import open_database, upgrade

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def hidden_fields(html: str) -> dict[str, str]:
    return {unescape(k): unescape(v) for k, v in _HIDDEN.findall(html)}


async def _add_user(database_url: str, username: str) -> None:
    database = await open_database(database_url)
    try:
        ctx = build_context(
            Settings(),
            database.stores,
            passwords=Argon2PasswordHasher(time_cost=1, memory_cost=8192),
        )
        await create_user(ctx=ctx, username=username, password=PASSWORD)
    finally:
        await database.close()


def new_user(stack: Stack) -> str:
    """A user who has consented to nothing yet."""
    username = f"user-{secrets.token_hex(4)}"
    run_blocking(_add_user(stack.db_url, username))
    return username


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("webapp-stack")
    url = f"sqlite+aiosqlite:///{tmp / 'as.db'}"
    upgrade(url)
    yield from start_stack(url, tmp, allow_implicit=False)


@dataclass
class Browser:
    """What a person's browser does, with httpx: one cookie jar for every loopback origin."""

    stack: Stack
    http: httpx.Client

    def start(self) -> str:
        """Click "Log in with tokenpath"; returns the authorization URL it was sent to."""
        response = self.http.get(f"{self.stack.webapp}/login")
        assert response.status_code == 302, response.text
        return response.headers["location"]

    def authorize(self, url: str, *, user: str = "alice", decision: str = "approve") -> str:
        """Sign in and decide at the authorization server; returns the callback URL."""
        page = self.http.get(url)
        if 'name="password"' in page.text:
            form = hidden_fields(page.text) | {"username": user, "password": PASSWORD}
            signed_in = self.http.post(f"{self.stack.issuer}/login", data=form)
            assert signed_in.status_code == 303, signed_in.text
            page = self.http.get(urljoin(self.stack.issuer, signed_in.headers["location"]))
        if page.status_code == 302:  # consent given in an earlier test is remembered
            assert decision == "approve", "use a user who has not decided yet"
            remembered: str = page.headers["location"]
            return remembered
        assert page.status_code == 200 and "decision" in page.text, page.text
        answer = self.http.post(
            f"{self.stack.issuer}/consent", data=hidden_fields(page.text) | {"decision": decision}
        )
        assert answer.status_code == 303, answer.text
        location: str = answer.headers["location"]
        assert location.startswith(f"{self.stack.webapp}/callback?")
        return location

    def sign_in(self, user: str = "alice") -> httpx.Response:
        """The whole story; returns the app's answer to the callback."""
        return self.http.get(self.authorize(self.start(), user=user))


# fixtures named ``browser``/``page`` are the Chromium ones (tests/e2e marks their users)
@pytest.fixture
def agent(stack: Stack) -> Iterator[Browser]:
    with httpx.Client(follow_redirects=False, timeout=30) as http:
        yield Browser(stack, http)


@pytest.fixture
def other_agent(stack: Stack) -> Iterator[Browser]:
    with httpx.Client(follow_redirects=False, timeout=30) as http:
        yield Browser(stack, http)


class Since:
    """The exchanges the servers saw after this point."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.mark = len(stack.recorder.exchanges)

    def exchanges(self, server: str, path: str) -> list[Exchange]:
        return [
            e
            for e in self.stack.recorder.exchanges[self.mark :]
            if e.server == server and e.target.split("?")[0] == path
        ]

    def token_requests(self) -> list[Exchange]:
        return self.exchanges("as", "/token")


def sqlite_path(url: str) -> Path:
    return Path(url.split("///", 1)[1])


def rows_of(database_url: str) -> list[dict[str, object]]:
    """The web app's session table, read directly (SQLite)."""
    with sqlite3.connect(sqlite_path(database_url)) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM webapp_sessions")]


def webapp_rows(stack: Stack) -> list[dict[str, object]]:
    return rows_of(stack.webapp_db)


def user_id(stack: Stack, username: str) -> str:
    with sqlite3.connect(sqlite_path(stack.db_url)) as db:
        row = db.execute("SELECT user_id FROM users WHERE username = ?", (username,)).fetchone()
    assert row is not None
    return str(row[0])
