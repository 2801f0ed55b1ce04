"""The documented Flask sample, on a real WSGI server, with real tokens from tokenpath."""

from __future__ import annotations

from examples.resource_server.flask_notes import create_app

from tests.resource.authserver import API, AuthServer, serve_wsgi
from tests.resource.samples import assert_dpop, assert_protected


def test_the_sample_is_protected_end_to_end(auth_server: AuthServer) -> None:
    with serve_wsgi(create_app(auth_server.issuer, API)) as api:
        assert_protected(api, auth_server)
        assert_dpop(api, auth_server)
