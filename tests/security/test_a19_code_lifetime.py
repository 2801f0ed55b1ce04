"""Catalog A19: authorization codes are short-lived and single-use (RFC 9700 §4.2.4, §4.3.1;
RFC 6749 §4.1.2, §10.5; OAuth 2.1 §7.5.3, §7.7).

A code leaks through history and logs, so a second valid redemption must fail *and* revoke
what the first one obtained; codes die after the configured lifetime (60 s by default, never
above 600 s); they are bound to the client and the ``redirect_uri``; and they cannot be guessed.
Run on SQLite and PostgreSQL, where single use is a conditional UPDATE.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.security.conftest import CONF_CB, ISSUER, Lab, demo_api, location_params
from tokenpath.core.policy import Policy

pytestmark = pytest.mark.anyio


async def api_status(lab: Lab, access_token: str) -> int:
    async with demo_api(lab) as rs:
        response = await rs.get("/api/me", headers={"Authorization": f"Bearer {access_token}"})
    return response.status_code


async def test_a19_1_second_redemption_fails_and_revokes_the_first(db_lab: Lab) -> None:
    lab = db_lab
    code = await lab.code("conf")
    first = await lab.redeem("conf", code)
    assert first.status_code == 200
    tokens = first.json()
    assert await api_status(lab, tokens["access_token"]) == 200

    replay = await lab.redeem("conf", code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert await lab.introspect(tokens["access_token"]) == {"active": False}
    assert await lab.introspect(tokens["refresh_token"]) == {"active": False}
    assert await api_status(lab, tokens["access_token"]) == 401


async def test_a19_3_code_expires_after_its_lifetime(db_lab: Lab) -> None:
    lab = db_lab
    lifetime = lab.server.ctx.policy.code_lifetime
    assert lifetime <= 60
    code = await lab.code("conf")
    lab.server.clock.advance(lifetime)
    response = await lab.redeem("conf", code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a19_3_lifetime_above_ten_minutes_is_refused() -> None:
    with pytest.raises(ValueError, match="600"):
        Policy(issuer=ISSUER, audience=ISSUER, code_lifetime=601)


async def test_a19_4_code_of_another_client_is_invalid_grant(db_lab: Lab) -> None:
    lab = db_lab
    code = await lab.code("conf")
    stolen = await lab.redeem("other", code)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    # the failed theft spent nothing: the rightful client still redeems its code
    assert (await lab.redeem("conf", code)).status_code == 200


async def test_a19_5_redirect_uri_must_match_the_authorization_request(db_lab: Lab) -> None:
    lab = db_lab
    code = await lab.code("conf")
    response = await lab.redeem("conf", code, redirect_uri=CONF_CB + "/")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_a19_5_oauth21_client_omitting_redirect_uri_is_accepted(db_lab: Lab) -> None:
    """OAuth 2.1 §10.2: a client that sent no ``redirect_uri`` sends none to /token either."""
    lab = db_lab
    code = await lab.code("conf", redirect_uri=None)
    response = await lab.redeem("conf", code, redirect_uri=None)
    assert response.status_code == 200, response.text


async def test_a19_6_codes_are_unique_and_carry_at_least_160_bits(lab: Lab) -> None:
    await lab.code("conf")  # sign in and consent once; every later request is a plain 302
    query = "/authorize?" + urlencode(lab.authorize_params("conf"))
    codes = set()
    for _ in range(1000):
        response = await lab.http.get(query)
        assert response.status_code == 302
        codes.add(location_params(response)["code"])
    assert len(codes) == 1000
    # base64url, 6 bits a character: 27 characters carry 162 bits
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{27,}", c) for c in codes)
    # every position of the alphabet is used: the characters are not from a narrow set
    assert len({ch for c in codes for ch in c}) == 64
