"""Catalog A11: refresh token theft (RFC 9700 §2.2.2, §4.14.2; OAuth 2.1 §4.3.3, §10).

Public clients' refresh tokens rotate on every use and a reused one revokes the whole family,
so a thief and the legitimate client cannot both go on refreshing. Every refresh token is bound
to its client and to the consented scope. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import Lab

pytestmark = pytest.mark.anyio


def refresh_form(token: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": token, **extra}


async def test_a11_1_refresh_rotates_the_token(db_lab: Lab) -> None:
    lab = db_lab
    rt1 = (await lab.tokens("spa"))["refresh_token"]
    response = await lab.token(refresh_form(rt1), client="spa")
    assert response.status_code == 200, response.text
    rt2 = response.json()["refresh_token"]
    assert rt2 and rt2 != rt1


async def test_a11_2_reuse_revokes_the_family(db_lab: Lab) -> None:
    lab = db_lab
    first = await lab.tokens("spa")
    rotated = (await lab.token(refresh_form(first["refresh_token"]), client="spa")).json()

    replay = await lab.token(refresh_form(first["refresh_token"]), client="spa")
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    after = await lab.token(refresh_form(rotated["refresh_token"]), client="spa")
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    # NICE (A11.2): the access tokens of the family die too
    for access_token in (first["access_token"], rotated["access_token"]):
        assert await lab.introspect(access_token) == {"active": False}


async def test_a11_3_refresh_token_of_another_client_is_invalid_grant(db_lab: Lab) -> None:
    lab = db_lab
    rt = (await lab.tokens("conf"))["refresh_token"]
    stolen = await lab.token(refresh_form(rt), client="other")
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    # the theft attempt did not burn the token for its owner
    assert (await lab.token(refresh_form(rt), client="conf")).status_code == 200


async def test_a11_4_broader_scope_is_invalid_scope(db_lab: Lab) -> None:
    lab = db_lab
    rt = (await lab.tokens("spa", scope="openid"))["refresh_token"]
    wider = await lab.token(refresh_form(rt, scope="openid notes:read"), client="spa")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrower = await lab.token(refresh_form(rt, scope="openid"), client="spa")
    assert narrower.status_code == 200 and narrower.json()["scope"] == "openid"
