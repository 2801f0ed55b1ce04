"""One attack run: the target, the lab's actors, the journal, and the protocol steps the
attacks share (sign in for a code, redeem it, refresh, call the API, ask introspection)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from tokenpath.lab.attacks.actors import NATIVE_REDIRECT, LabActors
from tokenpath.lab.attacks.dpop import DpopKey
from tokenpath.lab.attacks.flows import FlowError, authorize, pkce_pair, query_of, with_query
from tokenpath.lab.attacks.report import Journal
from tokenpath.lab.attacks.target import AttackTarget

__all__ = ["Code", "Run"]

VICTIM_BROWSER = "victim browser"
VICTIM_APP = "victim app"
ATTACKER = "attacker"


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    redirect_uri: str
    verifier: str | None
    state: str


@dataclass
class Run:
    target: AttackTarget
    actors: LabActors
    journal: Journal = field(default_factory=Journal)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, actor: str) -> httpx.AsyncClient:
        """A new HTTP client (its own cookie jar: one browser or one machine) for ``actor``."""
        client = self.journal.client(actor)
        self.clients.append(client)
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()

    def step(self, text: str) -> None:
        self.journal.step(text)

    def native_redirect(self, origin: str) -> str:
        """The CLI-style loopback redirect (RFC 8252 §7.3) on the port of ``origin``."""
        return NATIVE_REDIRECT.replace("127.0.0.1", urlsplit(origin).netloc)

    async def sign_in(
        self,
        browser: httpx.AsyncClient,
        *,
        client_id: str,
        redirect_uri: str,
        username: str,
        password: str,
        pkce: bool = True,
        follow: bool = False,
    ) -> Code:
        """Start an authorization request, sign in and consent, and read the code from the
        redirect; with ``follow`` the browser then opens the redirect URI (whoever listens)."""
        state = secrets.token_urlsafe(16)
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "notes:read",
            "state": state,
        }
        verifier = None
        if pkce:
            verifier, params["code_challenge"] = pkce_pair()
            params["code_challenge_method"] = "S256"
        url = with_query(f"{self.target.issuer}/authorize", params)
        location = await authorize(
            browser, url, username=username, password=password, stop_at=redirect_uri
        )
        answer = query_of(location)
        if "code" not in answer:
            raise FlowError(f"the redirect carries no code: {answer.get('error', '')}")
        if follow:
            await browser.get(location)
        return Code(answer["code"], redirect_uri, verifier, state)

    async def alice(self, browser: httpx.AsyncClient, **options: Any) -> Code:
        return await self.sign_in(
            browser, username=self.target.username, password=self.target.password, **options
        )

    async def redeem(
        self,
        client: httpx.AsyncClient,
        code: Code,
        *,
        client_id: str,
        secret: str | None = None,
        verifier: str | None = None,
        dpop: DpopKey | None = None,
    ) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code.code,
            "redirect_uri": code.redirect_uri,
        }
        if verifier:
            form["code_verifier"] = verifier
        return await self._token(client, form, client_id, secret, dpop)

    async def refresh(
        self,
        client: httpx.AsyncClient,
        refresh_token: str,
        *,
        client_id: str,
        secret: str | None = None,
    ) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return await self._token(client, form, client_id, secret, None)

    async def _token(
        self,
        client: httpx.AsyncClient,
        form: dict[str, str],
        client_id: str,
        secret: str | None,
        dpop: DpopKey | None,
    ) -> httpx.Response:
        url = f"{self.target.issuer}/token"

        async def send(nonce: str | None) -> httpx.Response:
            headers = {"DPoP": dpop.proof("POST", url, nonce=nonce)} if dpop else {}
            if secret is None:
                data = {**form, "client_id": client_id}
                return await client.post(url, data=data, headers=headers)
            return await client.post(url, data=form, auth=(client_id, secret), headers=headers)

        return await _with_nonce(send, dpop is not None)

    async def api_me(
        self, client: httpx.AsyncClient, token: str, *, dpop: DpopKey | None = None
    ) -> httpx.Response:
        url = f"{self.target.api_url}/api/me"
        if dpop is None:
            return await client.get(url, headers={"Authorization": f"Bearer {token}"})
        key = dpop

        async def send(nonce: str | None) -> httpx.Response:
            proof = key.proof("GET", url, access_token=token, nonce=nonce)
            return await client.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": proof})

        return await _with_nonce(send, True)

    async def active(self, token: str) -> bool:
        """What introspection (RFC 7662) says, asked with the demo web app's credentials."""
        client = self.client("lab (introspection)")
        response = await client.post(
            f"{self.target.issuer}/introspect",
            data={"token": token},
            auth=(self.target.webapp_client_id, self.target.webapp_client_secret),
        )
        return bool(response.json().get("active"))

    async def loot(self, key: str) -> list[dict[str, str]]:
        """What reached the attacker's origin under ``key``."""
        attacker = self.client(ATTACKER)
        response = await attacker.get(f"{self.target.attacker_url}/loot", params={"key": key})
        entries: list[dict[str, str]] = response.json()
        return entries


async def _with_nonce(
    send: Callable[[str | None], Awaitable[httpx.Response]], dpop: bool
) -> httpx.Response:
    """One request, sent again once with the server's nonce when it asks (RFC 9449 §8, §9)."""
    response = await send(None)
    nonce = response.headers.get("dpop-nonce")
    if not dpop or nonce is None or response.status_code not in (400, 401):
        return response
    asked = 'error="use_dpop_nonce"' in response.headers.get("www-authenticate", "")
    if response.status_code == 400:
        asked = response.json().get("error") == "use_dpop_nonce"
    return await send(nonce) if asked else response
