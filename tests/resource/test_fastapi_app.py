"""The documented FastAPI sample, on uvicorn, with real tokens from a real tokenpath server."""

from __future__ import annotations

import httpx
from examples.resource_server.fastapi_notes import create_app

from tests.resource.authserver import API, AuthServer
from tests.resource.samples import assert_dpop, assert_protected
from tests.support.servers import serve_asgi


def test_the_sample_is_protected_end_to_end(auth_server: AuthServer) -> None:
    with serve_asgi(create_app(auth_server.issuer, API)) as api:
        assert_protected(api, auth_server)
        assert_dpop(api, auth_server)


def test_the_openapi_schema_names_the_scheme_and_each_operation_s_scopes(
    auth_server: AuthServer,
) -> None:
    with serve_asgi(create_app(auth_server.issuer, API)) as api:
        schema = httpx.get(f"{api}/openapi.json").json()
    assert schema["components"]["securitySchemes"] == {
        "tokenpath": {"type": "http", "scheme": "bearer"}
    }
    assert schema["paths"]["/notes"]["get"]["security"] == [{"tokenpath": ["notes:read"]}]
    assert schema["paths"]["/notes"]["post"]["security"] == [{"tokenpath": ["notes:write"]}]
    assert "security" not in schema["paths"]["/health"]["get"]
