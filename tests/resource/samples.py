"""The black-box checks every sample API must pass, over real HTTP with real tokens."""

from __future__ import annotations

import httpx

from tests.resource.authserver import AuthServer
from tests.support.dpop import Prover

DPOP_CHALLENGE = 'DPoP realm="notes", algs="ES256 EdDSA RS256 PS256"'
"""The DPoP challenge every sample answers next to Bearer's (RFC 9449 §7.1)."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_protected(api: str, server: AuthServer) -> None:
    """RFC 6750 §3 on the wire: 200 with the scope, 401 without a (valid) token, 403 without
    the scope, 400 for a malformed request; every refusal with its challenge and no-store."""
    with httpx.Client(base_url=api, timeout=10) as http:
        assert http.get("/health").json() == {"status": "ok"}

        missing = http.get("/notes")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == f'Bearer realm="notes", {DPOP_CHALLENGE}'
        assert missing.headers["cache-control"] == "no-store"

        reader, writer = server.token("notes:read"), server.token("notes:read notes:write")
        listed = http.get("/notes", headers=bearer(reader))
        assert listed.status_code == 200, listed.text
        assert listed.json() == {"sub": server.client_id, "notes": []}

        refused = http.post("/notes", json={"text": "hi"}, headers=bearer(reader))
        assert refused.status_code == 403
        assert refused.headers["www-authenticate"] == (
            'Bearer realm="notes", error="insufficient_scope", '
            'error_description="this call needs scope notes:write", scope="notes:write", '
            + DPOP_CHALLENGE
        )
        assert refused.json()["error"] == "insufficient_scope"

        added = http.post("/notes", json={"text": "hi"}, headers=bearer(writer))
        assert added.status_code == 201 and added.json()["text"] == "hi"
        assert http.get("/notes", headers=bearer(reader)).json()["notes"] == ["hi"]

        forged = reader[:-4] + ("AAAA" if not reader.endswith("AAAA") else "BBBB")
        invalid = http.get("/notes", headers=bearer(forged))
        assert invalid.status_code == 401
        assert invalid.headers["www-authenticate"].startswith(
            'Bearer realm="notes", error="invalid_token", error_description="'
        )
        assert invalid.json()["error"] == "invalid_token"

        in_query = http.get("/notes", params={"access_token": reader})
        assert in_query.status_code == 401 and in_query.json()["error"] == "invalid_request"

        malformed = http.get("/notes", headers={"Authorization": "Bearer a b"})
        assert malformed.status_code == 400
        assert 'error="invalid_request"' in malformed.headers["www-authenticate"]


def assert_dpop(api: str, server: AuthServer) -> None:
    """RFC 9449 §7 on the wire: a DPoP-bound token works with a proof of its key, and is refused
    alone (as Bearer), with another key's proof, with a replayed proof or one for another URL."""
    key = Prover()
    token = server.dpop_token("notes:read notes:write", key)

    def dpop(method: str, path: str, prover: Prover = key) -> dict[str, str]:
        proof = prover.proof(method, f"{api}{path}", access_token=token)
        return {"Authorization": f"DPoP {token}", "DPoP": proof}

    with httpx.Client(base_url=api, timeout=10) as http:
        listed = http.get("/notes", headers=dpop("GET", "/notes"))
        assert listed.status_code == 200, listed.text
        added = http.post("/notes", json={"text": "bound"}, headers=dpop("POST", "/notes"))
        assert added.status_code == 201, added.text

        stolen = http.get("/notes", headers=bearer(token))
        assert stolen.status_code == 401 and stolen.json()["error"] == "invalid_token"
        assert stolen.headers["www-authenticate"].startswith(
            'Bearer realm="notes", error="invalid_token"'
        )

        other_key = http.get("/notes", headers=dpop("GET", "/notes", Prover()))
        assert other_key.status_code == 401
        assert other_key.json()["error"] == "invalid_dpop_proof"
        assert other_key.headers["www-authenticate"].startswith(
            'Bearer realm="notes", DPoP realm="notes", error="invalid_dpop_proof"'
        )

        replay = dpop("GET", "/notes")
        assert http.get("/notes", headers=replay).status_code == 200
        again = http.get("/notes", headers=replay)
        assert again.status_code == 401 and "already used" in again.json()["error_description"]

        elsewhere = http.get("/notes", headers=dpop("GET", "/health"))
        assert elsewhere.status_code == 401 and "htu" in elsewhere.json()["error_description"]
