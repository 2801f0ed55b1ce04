"""Fixtures: one real loopback issuer server per module, reset (fresh keys, zero hits) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
