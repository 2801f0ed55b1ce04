"""The HTTP steps every attack repeats: discovery, signing in at the authorization server the
way a browser does (its own login and consent forms), PKCE, and token requests.

Nothing here is lab-specific protocol: these are the requests a browser and a client send,
driven by httpx so each one lands in the run's :class:`~tokenpath.lab.attacks.report.Journal`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

__all__ = [
    "FlowError",
    "Form",
    "authorize",
    "metadata",
    "pkce_pair",
    "query_of",
    "read_forms",
    "with_query",
]

MAX_STEPS = 12
"""Navigations one sign-in may take (authorize, login, consent, redirects) before giving up."""


class FlowError(Exception):
    """A step did not go the way a working sign-in goes (the message says where it stopped)."""


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif self.forms and tag == "input" and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif self.forms and tag == "button" and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))


def read_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def pkce_pair() -> tuple[str, str]:
    """A fresh RFC 7636 verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def query_of(url: str, *, fragment: bool = False) -> dict[str, str]:
    parts = urlsplit(url)
    pairs = parse_qs(parts.fragment if fragment else parts.query)
    return {k: v[0] for k, v in pairs.items()}


async def metadata(client: httpx.AsyncClient, issuer: str) -> dict[str, Any]:
    response = await client.get(f"{issuer}/.well-known/oauth-authorization-server")
    document: dict[str, Any] = response.json()
    return document


async def _submit(
    client: httpx.AsyncClient, page: httpx.Response, username: str, password: str
) -> httpx.Response | None:
    """Fill the server's login form, or approve on its consent form; None if neither is there."""
    for form in read_forms(page.text):
        target = urljoin(str(page.url), form.action)
        if "password" in form.fields:
            data = {**form.fields, "username": username, "password": password}
            return await client.post(target, data=data)
        if ("decision", "approve") in form.buttons:
            return await client.post(target, data={**form.fields, "decision": "approve"})
    return None


async def authorize(
    client: httpx.AsyncClient, url: str, *, username: str, password: str, stop_at: str
) -> str:
    """Open ``url`` as a browser would, signing in and consenting when asked, and return the
    first redirect that goes to ``stop_at`` (the redirect URI) without following it."""
    response = await client.get(url)
    for _ in range(MAX_STEPS):
        if response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(stop_at):
                return location
            response = await client.get(location)
            continue
        if response.status_code != 200:
            raise FlowError(f"the server answered {response.status_code} at {response.url}")
        submitted = await _submit(client, response, username, password)
        if submitted is None:
            raise FlowError(f"no sign-in or consent form at {response.url}")
        response = submitted
    raise FlowError(f"no redirect to {stop_at} after {MAX_STEPS} steps")
