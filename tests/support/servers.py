"""Real servers for tests: any ASGI app under uvicorn on a free 127.0.0.1 port, in a thread.

Ports are *reserved*, not guessed: :func:`free_port` binds a socket and keeps it open until
:func:`serve_asgi` hands that very socket to uvicorn, so another process (or another test
server) cannot take the port in between. A test stack can therefore know all its URLs before
any server starts (the authorization server must know the API's URL as its audience, and so on).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

__all__ = ["free_port", "serve_asgi"]

_reserved: dict[int, socket.socket] = {}
_lock = threading.Lock()


def _bound_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def free_port() -> int:
    """A loopback port that stays reserved for this process until a server takes it."""
    sock = _bound_socket()
    port: int = sock.getsockname()[1]
    with _lock:
        _reserved[port] = sock
    return port


@contextmanager
def serve_asgi(app: ASGIApp, *, port: int | None = None) -> Iterator[str]:
    """Run ``app`` until the block ends; yields its base URL (``http://127.0.0.1:PORT``).

    Waits until uvicorn has started (lifespan included) and, on exit, until it has shut down,
    so the app's resources are closed before the next test runs.
    """
    if port is None:
        port = free_port()
    with _lock:
        sock = _reserved.pop(port, None)
    if sock is None:
        sock = _bound_socket(port)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # as `tokenpath serve` runs: the app decides whom to believe
        lifespan="on",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"server on port {port} failed to start (see the log above)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not start within 20 s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
