"""Fixtures: one real loopback issuer server per module, reset (fresh keys, zero hits) per test;
a real tokenpath authorization server per module for the sample apps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.resource.authserver import AuthServer, running_authorization_server
from tests.resource.support import NOW, TokenIssuer
from tests.support.servers import free_port, serve_asgi
from tokenpath.core.clock import FixedClock


@pytest.fixture(scope="module")
def issuer_server() -> Iterator[TokenIssuer]:
    port = free_port()
    issuer = TokenIssuer(f"http://127.0.0.1:{port}")
    with serve_asgi(issuer.app(), port=port):
        yield issuer


@pytest.fixture
def issuer(issuer_server: TokenIssuer) -> TokenIssuer:
    issuer_server.reset()
    return issuer_server


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    """A real tokenpath authorization server (uvicorn, SQLite) issuing tokens for the samples."""
    with running_authorization_server(tmp_path_factory.mktemp("as")) as server:
        yield server
