"""HTML pages and JSON replies: the only place responses are built from templates or core values.

Templates are Jinja2 with autoescaping on and ``StrictUndefined`` (a missing variable is a bug,
not an empty string). No page loads anything from another origin (RFC 9700 §4.2.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse, JSONResponse

from tokenpath.core.errors import OAuthError
from tokenpath.core.messages import ConsentPrompt, JsonResponse
from tokenpath.observability import metrics

__all__ = [
    "OPENID_SCOPE_TEXTS",
    "STATIC",
    "TEMPLATES",
    "Pages",
    "consent_groups",
    "json_error",
    "json_reply",
]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

OPENID_SCOPE_TEXTS: Mapping[str, str] = {
    "openid": "Know who you are (your account identifier)",
    "profile": "Read your profile: name, nickname, picture, birthdate, locale and time zone",
    "email": "Read your email address and whether it is verified",
    "address": "Read your postal address",
    "phone": "Read your phone number and whether it is verified",
    "offline_access": "Keep access while you are away",
}
"""What the consent page says each built-in OpenID Connect scope lets the application do (they
release the claims of OIDC Core §5.4); an API's scopes carry their own texts (``Api.scopes``)."""

ScopeGroup = tuple[str, list[tuple[str, str]]]


def consent_groups(prompt: ConsentPrompt) -> list[ScopeGroup]:
    """The consent page's lists: the OpenID scopes first (title ""), then one per API, titled
    with its identifier, each scope with the text its API registered."""
    groups: list[ScopeGroup] = []
    about_you = [(s, OPENID_SCOPE_TEXTS[s]) for s in prompt.scopes if s in OPENID_SCOPE_TEXTS]
    if about_you:
        groups.append(("", about_you))
    for api in prompt.apis:
        texts = {scope.name: scope.description for scope in api.scopes}
        listed = [(s, texts[s]) for s in prompt.scopes if s in texts]
        if listed:
            groups.append((api.identifier, listed))
    return groups


class Pages:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def html(
        self,
        name: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: object,
    ) -> HTMLResponse:
        body = self.env.get_template(name).render(**context)
        return HTMLResponse(body, status_code=status, headers=headers)

    def error(
        self,
        error: OAuthError,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        title: str = "Request refused",
        note: str = "",
    ) -> HTMLResponse:
        """An error shown at the AS: status, ``error`` and ``error_description``; no Location."""
        metrics.oauth_error(error.error)
        return self.html(
            "error.html",
            status=status or error.status,
            headers=headers,
            error=error.error,
            description=error.description,
            title=title,
            note=note,
        )

    def problem(self, status: int, title: str, description: str) -> HTMLResponse:
        """A non-OAuth HTTP error page (404, 405, 500)."""
        return self.html(
            "error.html", status=status, error="", description=description, title=title, note=""
        )


def json_reply(reply: JsonResponse, extra: Sequence[tuple[str, str]] = ()) -> JSONResponse:
    code = reply.body.get("error") if reply.status >= 400 else None
    if isinstance(code, str):
        metrics.oauth_error(code)
    return JSONResponse(
        dict(reply.body), status_code=reply.status, headers=dict([*reply.headers, *extra])
    )


def json_error(
    error: OAuthError,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """RFC 6749 §5.2 error body, ``no-store`` like every token-endpoint answer."""
    metrics.oauth_error(error.error)
    return JSONResponse(
        error.to_dict(),
        status_code=status or error.status,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache", **(headers or {})},
    )
