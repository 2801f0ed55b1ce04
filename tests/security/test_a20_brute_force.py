"""Catalog A20: online guessing of passwords and client secrets (OAuth 2.1 §7.7; RFC 6749
§10.10; RFC 9700 §2.5).

Sign-in is throttled per user name after 10 failures a minute and answers the same for an
unknown user as for a wrong password; client authentication is throttled per client after 50
failures, and until then keeps the RFC 6749 §5.2 ``invalid_client`` 401 shape with its
``WWW-Authenticate`` challenge. Run on SQLite and PostgreSQL: the counters live in the database.
Concurrent guessing against a real server: ``test_a20_concurrent_guessing.py``.
"""

from __future__ import annotations

import httpx
import pytest

from tests.security.conftest import Lab, basic
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.anyio


async def attempt(lab: Lab, username: str, password: str) -> httpx.Response:
    return await lab.server.submit(
        await lab.server.form("/login"), username=username, password=password
    )


def alert(html: str) -> str:
    return html.split('role="alert">')[1].split("<")[0]


async def test_a20_ten_wrong_passwords_then_429(db_lab: Lab) -> None:
    lab = db_lab
    limit = lab.server.ctx.policy.login_failures_per_minute
    assert limit <= 10
    for _ in range(limit):
        response = await attempt(lab, "alice", "not the password")
        assert response.status_code == 400
    blocked = await attempt(lab, "alice", PASSWORD)  # even the right password waits
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert not lab.session()
    # throttling is per user name: mallory is unaffected
    assert (await attempt(lab, "mallory", PASSWORD)).status_code == 303


async def test_a20_unknown_user_and_wrong_password_look_the_same(db_lab: Lab) -> None:
    lab = db_lab
    wrong = await attempt(lab, "alice", "not the password")
    unknown = await attempt(lab, "nobody-here", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert alert(wrong.text) == alert(unknown.text)
    assert set(wrong.headers) - {"set-cookie"} == set(unknown.headers) - {"set-cookie"}


async def test_a20_unknown_users_are_throttled_like_real_ones(db_lab: Lab) -> None:
    lab = db_lab
    for _ in range(lab.server.ctx.policy.login_failures_per_minute):
        await attempt(lab, "nobody-here", "guess")
    assert (await attempt(lab, "nobody-here", "guess")).status_code == 429


async def test_a20_fifty_wrong_client_secrets_then_429(db_lab: Lab) -> None:
    lab = db_lab
    client_id = lab.id("machine")
    form = [("grant_type", "client_credentials")]
    limit = lab.server.ctx.policy.client_auth_failures_per_minute
    assert limit <= 50
    for n in range(limit):
        response = await lab.server.post_form(
            "/token", form, Authorization=basic(client_id, f"guess-{n}")
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response.headers["www-authenticate"].startswith("Basic")
    blocked = await lab.server.post_form(
        "/token", form, Authorization=basic(client_id, "one more guess")
    )
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "access_token" not in blocked.text
    assert blocked.json()["error"]
    # the client itself is not locked out: its real secret still works
    real = await lab.server.post_form("/token", form, **lab.auth("machine"))
    assert real.status_code == 200
