"""The app as deployed: its own lifespan over SQL, the middleware hook, and real uvicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import anyio
import httpx
import pytest
from sqlalchemy import select
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.web.conftest import Server, forms, serve
from tests.web.test_endpoints import VERIFIER, authorize_query, basic
from tokenpath.core.ports import Stores
from tokenpath.core.records import Session
from tokenpath.runtime import migrate
from tokenpath.settings import Settings
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql import open_database
from tokenpath.web import create_app

pytestmark = pytest.mark.anyio


async def test_lifespan_opens_the_configured_database(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    await anyio.to_thread.run_sync(migrate, settings)

    async def jwks_of_a_fresh_app() -> object:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=settings.issuer) as http:
                assert (await http.get("/")).status_code == 200
                return (await http.get("/jwks")).json()

    first = await jwks_of_a_fresh_app()
    assert first["keys"][0]["alg"] == "ES256"  # type: ignore[index]
    # A second app over the same database publishes the same (persisted) key.
    assert await jwks_of_a_fresh_app() == first


async def test_the_server_purges_expired_rows_itself(tmp_path: Path) -> None:
    """With ``cleanup_interval`` set, the running server deletes expired sessions unprompted."""
    settings = Settings(data_dir=tmp_path, cleanup_interval=1)
    await anyio.to_thread.run_sync(migrate, settings)
    database = await open_database(settings.database_url)
    expired = Session(session_hash="old", user_id="u", auth_time=0, expires_at=int(time.time()) - 1)
    try:
        await database.stores.sessions.add(expired)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            for _ in range(60):  # bounded: the first run starts within one interval
                rows = await database.executor.all(select(m.sessions.c.session_hash))
                if not rows:
                    break
                await anyio.sleep(0.1)
        assert rows == []
    finally:
        await database.close()


class Recorder:
    """What a traffic recorder would see: the response as the browser gets it."""

    seen: list[tuple[str, dict[str, str]]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def spy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = {k.decode(): v.decode() for k, v in message["headers"]}
                Recorder.seen.append((scope["path"], headers))
            await send(message)

        await self.app(scope, receive, spy)


async def test_middleware_hook_wraps_outside_the_security_headers(tmp_path: Path) -> None:
    from tests.web.conftest import make_ctx
    from tokenpath.storage.memory import memory_stores

    settings = Settings(data_dir=tmp_path)
    app = create_app(
        settings, ctx=make_ctx(memory_stores(), settings), middleware=[Middleware(Recorder)]
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=settings.issuer
    ) as http:
        await http.get("/login")
    path, headers = Recorder.seen[-1]
    assert path == "/login" and headers["x-frame-options"] == "DENY"


@pytest.fixture
async def sql_server(stores: Stores) -> AsyncIterator[Server]:
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024)
    async for s in serve(stores, passwords=hasher):
        yield s


async def test_code_flow_on_sql_storage_with_argon2(sql_server: Server) -> None:
    server = sql_server
    await server.user()
    client, secret = await server.client()
    assert secret is not None
    page = await server.http.get(authorize_query(client.client_id))
    signed_in = await server.submit(
        forms(page.text)[0], username="alice", password="correct horse battery"
    )
    assert signed_in.status_code == 303
    consent = await server.http.get(signed_in.headers["location"])
    approved = await server.submit(forms(consent.text)[0], ("decision", "approve"))
    query = dict(parse_qsl(urlsplit(approved.headers["location"]).query))
    assert query["iss"] == server.settings.issuer and query["state"] == "s t+a/te"
    form = [
        ("grant_type", "authorization_code"),
        ("code", query["code"]),
        ("redirect_uri", "https://client.example/cb"),
        ("code_verifier", VERIFIER),
    ]
    auth = basic(client.client_id, secret)
    token = await server.post_form("/token", form, Authorization=auth)
    assert token.status_code == 200, token.text
    replay = await server.post_form("/token", form, Authorization=auth)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    wrong = await server.submit(
        await server.form("/login"), username="alice", password="not the password"
    )
    assert wrong.status_code == 400


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_runs_real_uvicorn_without_access_log(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}
    env.update(TOKENPATH_DATA_DIR=str(tmp_path), TOKENPATH_ISSUER=f"http://127.0.0.1:{port}")
    process = subprocess.Popen(
        [sys.executable, "-m", "tokenpath", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                meta = httpx.get(f"{base}/.well-known/oauth-authorization-server", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
        assert meta.json()["issuer"] == base
        assert httpx.get(f"{base}/authorize?client_id=x&state=SECRETSTATE").status_code == 400
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert process.returncode in (0, -15), output  # uvicorn re-raises the signal it handled
    assert "Application shutdown complete" in output
    assert "insecure-dev" in output  # the http issuer is announced loudly
    assert "SECRETSTATE" not in output  # uvicorn's access log (it prints queries) stays off
    assert "tokenpath.access: GET /authorize 400" in output  # ours names the path only


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_serve_with_workers_runs_one_listener_each_and_stops_cleanly(tmp_path: Path) -> None:
    """``--workers 2``: two uvicorn processes on one port (SO_REUSEPORT), both shut down."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}
    env.update(TOKENPATH_DATA_DIR=str(tmp_path), TOKENPATH_ISSUER=f"http://127.0.0.1:{port}")
    process = subprocess.Popen(
        [sys.executable, "-m", "tokenpath", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        started = 0
        for _ in range(150):
            try:
                with httpx.Client() as fresh:  # a new connection each time
                    assert fresh.get(f"{base}/jwks", timeout=1).status_code == 200
                started += 1
                if started >= 20:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert started >= 20, "server did not start"
        workers = [
            c
            for c in _children(process.pid)
            if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()
        ]
        assert len(workers) == 2
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=40)
    assert process.returncode == 0, output
    assert output.count("Application shutdown complete") == 2


def test_serve_with_workers_stops_when_a_worker_cannot_start(tmp_path: Path) -> None:
    """A port held by another program: the workers cannot bind, and serve says so and exits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env.update(TOKENPATH_DATA_DIR=str(tmp_path), TOKENPATH_ISSUER=f"http://127.0.0.1:{port}")
        done = subprocess.run(
            [sys.executable, "-m", "tokenpath", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1  # checked before any worker starts: the port is named
    assert f"cannot listen on 127.0.0.1:{port}: the address is already in use" in done.stderr
