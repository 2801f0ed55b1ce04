"""The documented Starlette sample, on uvicorn, with real tokens from a real tokenpath server."""

from __future__ import annotations

from examples.resource_server.starlette_notes import create_app

from tests.resource.authserver import API, AuthServer
from tests.resource.samples import assert_dpop, assert_protected
from tests.support.servers import serve_asgi


def test_the_sample_is_protected_end_to_end(auth_server: AuthServer) -> None:
    with serve_asgi(create_app(auth_server.issuer, API)) as api:
        assert_protected(api, auth_server)
        assert_dpop(api, auth_server)
