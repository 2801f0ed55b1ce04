"""``/logout``: RP-Initiated Logout 1.0 over HTTP, and the back-channel logout it triggers."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.support.receiver import HANG, receiver
from tests.web.conftest import ISSUER, Server, forms, make_ctx
from tokenpath.core.login import current_session
from tokenpath.core.records import Client, Grant
from tokenpath.settings import Settings
from tokenpath.storage.memory import memory_stores
from tokenpath.web import create_app
from tokenpath.web.backchannel import BackchannelSender

pytestmark = pytest.mark.anyio

BYE = "https://client.example/bye"


@dataclasses.dataclass
class LogoutServer(Server):
    backchannel: BackchannelSender


@pytest.fixture
async def server() -> AsyncIterator[LogoutServer]:
    settings = Settings(issuer=ISSUER)
    ctx = make_ctx(memory_stores(), settings)
    app = create_app(settings, ctx=ctx)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        yield LogoutServer(settings=settings, ctx=ctx, http=http, backchannel=app.state.backchannel)
    await app.state.backchannel.aclose()


async def logout_client(server: Server, **changes: Any) -> Client:
    client, _ = await server.client()
    client = dataclasses.replace(client, post_logout_redirect_uris=(BYE,), **changes)
    await server.ctx.stores.clients.update(client)
    return client


async def id_token(server: Server, client: Client, **changes: Any) -> str:
    now = server.clock.now()
    claims = {"iss": ISSUER, "sub": "u", "aud": client.client_id, "iat": now, "exp": now + 60}
    return await server.ctx.signer.sign({**claims, **changes}, typ="JWT")


async def signed_in(server: Server) -> str:
    await server.user()
    await server.sign_in()
    return server.http.cookies["tp_session"]


def assert_no_redirect(response: httpx.Response) -> None:
    assert "location" not in response.headers
    assert "client.example" not in response.headers.get("refresh", "")


async def test_metadata_names_the_end_session_endpoint(server: Server) -> None:
    body = (await server.http.get("/.well-known/oauth-authorization-server")).json()
    assert body["end_session_endpoint"] == f"{ISSUER}/logout"
    assert body["backchannel_logout_supported"] is True
    assert body["backchannel_logout_session_supported"] is True


async def test_signing_out_at_the_as_ends_on_the_signed_out_page(server: Server) -> None:
    session_id = await signed_in(server)
    confirm = await server.form("/logout")
    assert confirm.action == "/logout/confirm"
    response = await server.submit(confirm)
    assert response.status_code == 303 and response.headers["location"] == "/logout/done"
    assert 'tp_session=""' in response.headers["set-cookie"]
    assert await current_session(session_id, ctx=server.ctx) is None
    done = await server.http.get("/logout/done")
    assert done.status_code == 200 and "You have signed out" in done.text


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_rp_initiated_logout_returns_to_the_registered_uri_with_state(
    server: Server, method: str
) -> None:
    session_id = await signed_in(server)
    client = await logout_client(server)
    params = {
        "id_token_hint": await id_token(server, client),
        "post_logout_redirect_uri": BYE,
        "state": "a b&c",
        "ui_locales": "fr",
        "logout_hint": "alice",
    }
    if method == "GET":
        page = await server.http.get("/logout?" + urlencode(params))
    else:
        page = await server.post_form("/logout", list(params.items()))
    assert page.status_code == 200, page.text
    assert "Notes &lt;b&gt;app&lt;/b&gt;</strong> asks you" in page.text
    assert await current_session(session_id, ctx=server.ctx) is not None  # not yet: confirm
    form = forms(page.text)[0]
    assert dict(form.fields).items() >= params.items()
    response = await server.submit(form)
    assert response.status_code == 303
    assert response.headers["location"] == f"{BYE}?state=a+b%26c"
    assert await current_session(session_id, ctx=server.ctx) is None


async def test_client_id_alone_identifies_the_client(server: Server) -> None:
    await signed_in(server)
    client = await logout_client(server)
    query = urlencode({"client_id": client.client_id, "post_logout_redirect_uri": BYE})
    response = await server.submit(await server.form(f"/logout?{query}"))
    assert response.headers["location"] == BYE


@pytest.mark.parametrize(
    "uri", ["https://evil.example/", f"{BYE}/", "https://client.example/cb", "/logout/done"]
)
async def test_an_unregistered_uri_is_never_followed(server: Server, uri: str) -> None:
    await signed_in(server)
    client = await logout_client(server)
    hint = await id_token(server, client)
    page = await server.http.get(
        "/logout?" + urlencode({"id_token_hint": hint, "post_logout_redirect_uri": uri})
    )
    assert page.status_code == 200 and "did not register" in page.text
    response = await server.submit(forms(page.text)[0], post_logout_redirect_uri=uri)
    assert response.headers["location"] == "/logout/done"


async def test_without_a_client_no_uri_is_followed(server: Server) -> None:
    await signed_in(server)
    await logout_client(server)
    page = await server.form("/logout?" + urlencode({"post_logout_redirect_uri": BYE}))
    response = await server.submit(page)
    assert response.headers["location"] == "/logout/done"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_bad_hint_is_an_error_page_not_a_redirect(server: Server, method: str) -> None:
    session_id = await signed_in(server)
    client = await logout_client(server)
    other = await logout_client(server)
    for params in [
        {"id_token_hint": "x.y.z"},
        {"id_token_hint": await id_token(server, client, iss="https://other.example")},
        {"id_token_hint": await id_token(server, client), "client_id": other.client_id},
        {"client_id": "nobody"},
    ]:
        params["post_logout_redirect_uri"] = BYE
        if method == "GET":
            response = await server.http.get("/logout?" + urlencode(params))
        else:
            response = await server.post_form("/logout", list(params.items()))
        assert response.status_code == 400, params
        assert_no_redirect(response)
        assert forms(response.text) == []
    assert await current_session(session_id, ctx=server.ctx) is not None


async def test_a_tampered_confirmation_is_refused_and_the_session_kept(server: Server) -> None:
    session_id = await signed_in(server)
    form = await server.form("/logout")
    tampered = await server.submit(form, id_token_hint="x.y.z", post_logout_redirect_uri=BYE)
    assert tampered.status_code == 400
    assert_no_redirect(tampered)
    no_csrf = await server.post_form("/logout/confirm", [("post_logout_redirect_uri", BYE)])
    assert no_csrf.status_code == 403
    assert await current_session(session_id, ctx=server.ctx) is not None


async def test_repeated_parameters_are_refused(server: Server) -> None:
    response = await server.http.get("/logout?state=a&state=b")
    assert response.status_code == 400
    assert_no_redirect(response)


# --- back-channel logout ------------------------------------------------------------------------


async def grant_in_session(server: Server, client: Client, session_id: str) -> str:
    session = await current_session(session_id, ctx=server.ctx)
    assert session is not None and session.sid
    await server.ctx.stores.grants.add(
        Grant(
            grant_id=f"g-{client.client_id}",
            client_id=client.client_id,
            user_id=session.user_id,
            scope=("openid",),
            created_at=server.clock.now(),
            sid=session.sid,
        )
    )
    return session.sid


async def test_logout_sends_the_logout_token_without_waiting_for_it(
    server: LogoutServer,
) -> None:
    session_id = await signed_in(server)
    with receiver([HANG]) as target:
        client = await logout_client(server, backchannel_logout_uri=target.url)
        sid = await grant_in_session(server, client, session_id)
        hint = await id_token(server, client, sid=sid)
        query = urlencode({"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "s"})
        response = await server.submit(await server.form(f"/logout?{query}"))
        # the logout answered; the delivery is still running (or not yet started)
        assert response.headers["location"] == f"{BYE}?state=s"
        await asyncio.to_thread(target.hanging.wait)
        target.release()
        await server.backchannel.idle()
    (token,) = target.tokens
    claims = await server.ctx.signer.verify(token, typ="logout+jwt")
    assert claims is not None and claims["sid"] == sid and claims["aud"] == client.client_id


async def test_signing_out_at_the_as_also_notifies_clients(server: LogoutServer) -> None:
    session_id = await signed_in(server)
    with receiver() as target:
        client = await logout_client(server, backchannel_logout_uri=target.url)
        await grant_in_session(server, client, session_id)
        await server.submit(await server.form("/logout"))
        await server.backchannel.idle()
    assert len(target.tokens) == 1
