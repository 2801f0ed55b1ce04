"""DELIBERATELY VULNERABLE (lab only): a web client that sends no ``state``.

RFC 9700 §4.7.1 requires a client to tie the redirect to the browser that started the sign-in:
a one-time ``state``, or PKCE (the verifier waits in that browser's session). This client skips
``state``, so the attack playground can show a CSRF on its redirect URI (the victim's browser
signed in as the attacker). Mounted twice under the lab's ``/attacks/insecure/``: without PKCE
(the attack works) and with PKCE (the server refuses the foreign code). Its sessions live in
memory, bounded. It exists only under ``tokenpath.lab.attacks``; ``tokenpath serve`` cannot
load it (``tests/test_layering.py``).
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tokenpath.lab.attacks.actors import LabActors
from tokenpath.lab.attacks.flows import pkce_pair, with_query
from tokenpath.lab.attacks.target import AttackTarget
from tokenpath.lab.attacks.templating import render

__all__ = ["create_insecure_web_client"]

COOKIE = "lab_insecure_session"
MAX_SESSIONS = 500


@dataclass
class _Session:
    verifier: str | None = None
    sub: str | None = None


def create_insecure_web_client(
    target: AttackTarget, actors: Callable[[], Awaitable[LabActors]], *, pkce: bool
) -> Starlette:
    name = "no-state-pkce" if pkce else "no-state"
    base = target.lab_path(f"/insecure/{name}")
    sessions: OrderedDict[str, _Session] = OrderedDict()

    def session_of(request: Request) -> _Session | None:
        return sessions.get(request.cookies.get(COOKIE, ""))

    def with_session(response: Response, session: _Session) -> Response:
        sid = secrets.token_urlsafe(24)
        sessions[sid] = session
        while len(sessions) > MAX_SESSIONS:
            sessions.popitem(last=False)
        response.set_cookie(COOKIE, sid, path=f"/attacks/insecure/{name}", httponly=True)
        return response

    async def home(request: Request) -> Response:
        session = session_of(request)
        return render(
            request,
            "attack_insecure_client.html",
            pkce=pkce,
            sub=session.sub if session else None,
            login=f"{base}/login",
        )

    async def login(request: Request) -> Response:
        found = await actors()
        params = {
            "response_type": "code",
            "client_id": found.insecure_web_id,
            "redirect_uri": f"{base}/callback",
            "scope": "notes:read",
        }  # no state: the flaw this client exists to show
        session = _Session()
        if pkce:
            session.verifier, params["code_challenge"] = pkce_pair()
            params["code_challenge_method"] = "S256"
        response = RedirectResponse(with_query(f"{target.issuer}/authorize", params), 302)
        return with_session(response, session)

    async def callback(request: Request) -> Response:
        found = await actors()
        code = request.query_params.get("code", "")
        session = session_of(request) or _Session()
        form = {"grant_type": "authorization_code", "code": code}
        form["redirect_uri"] = f"{base}/callback"
        if session.verifier:
            form["code_verifier"] = session.verifier
        auth = (found.insecure_web_id, found.insecure_web_secret)
        async with httpx.AsyncClient(timeout=15) as client:
            tokens = await client.post(f"{target.issuer}/token", data=form, auth=auth)
            if tokens.status_code != 200:
                error = tokens.json().get("error", "error")
                return render(
                    request,
                    "attack_insecure_client.html",
                    status_code=400,
                    pkce=pkce,
                    sub=None,
                    login=f"{base}/login",
                    refused=f"The server refused the code: {error}",
                )
            token = tokens.json()["access_token"]
            me = await client.get(
                f"{target.api_url}/api/me", headers={"Authorization": f"Bearer {token}"}
            )
        signed_in = _Session(sub=str(me.json().get("sub")))
        return with_session(RedirectResponse(f"{base}/", 303), signed_in)

    async def whoami(request: Request) -> Response:
        session = session_of(request)
        return JSONResponse({"sub": session.sub if session else None})

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login),
            Route("/callback", callback),
            Route("/whoami", whoami),
        ]
    )
