"""Resource indicators (RFC 8707): which API a request is for, and the scope a token gets there.

Rules, shared by ``/authorize`` and every grant at ``/token``:

* ``resource`` values are read apart from the other parameters, because RFC 8707 §2 lets
  ``/authorize`` repeat the parameter. Each value must be an absolute URI without a fragment,
  and no value may appear twice; at ``/token`` one value at most, since a token has exactly one
  audience (:func:`read_token_form`). Anything else is ``invalid_target``.
* A value must be a registered API the client may use (``core/apis.py``); an unknown or
  unpermitted one is ``invalid_target``, answered alike, so the error tells a client nothing
  about APIs it is not allowed on.
* No ``resource``: the client's default API (its ``default_resource``, else the first it lists,
  else the server's default API). A client with no API gets tokens for ``/userinfo`` only
  (``aud`` is the issuer) with OpenID scopes only.
* A token for an API carries only OpenID scopes and that API's scopes; asking for a scope of
  another API is ``invalid_scope`` (:func:`token_scope`).
* A grant approved for several APIs (``Grant.resources``) mints a token for any one of them at
  the token endpoint, by code or refresh token (§2.2): its scope is the grant's, narrowed to
  that API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from tokenpath.core.apis import MAX_IDENTIFIER, OPENID_SCOPES, client_apis
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidScope, InvalidTarget
from tokenpath.core.params import parse_pairs, parse_scope
from tokenpath.core.records import Api, Client

__all__ = [
    "Target",
    "allowed_scopes",
    "check_resource_syntax",
    "client_target",
    "grant_target",
    "load_apis",
    "read_token_form",
    "resource_values",
    "select_apis",
    "token_scope",
]

_RESOURCE = "resource"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The API a token is minted for (None: ``/userinfo`` only) and the scope it carries."""

    api: Api | None
    scope: tuple[str, ...]

    def lifetime(self, default: int) -> int:
        """The API's access-token lifetime, else ``default`` (never longer than ``default`` for
        a token delivered in a URL, where the caller passes the shorter implicit lifetime)."""
        if self.api is None or self.api.access_token_lifetime is None:
            return default
        return self.api.access_token_lifetime

    def opaque(self, client: Client) -> bool:
        """The API decides the format; a token for ``/userinfo`` follows the client's."""
        fmt = self.api.token_format if self.api is not None else client.access_token_format
        return fmt == "opaque"


def check_resource_syntax(value: str) -> str:
    """RFC 8707 §2: an absolute URI without a fragment, else ``invalid_target``."""
    if len(value) > MAX_IDENTIFIER:
        raise InvalidTarget("resource is too long")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise InvalidTarget("resource must be an absolute URI") from None
    if not parts.scheme or not parts.netloc or not value.isprintable() or " " in value:
        raise InvalidTarget("resource must be an absolute URI")
    if "#" in value:
        raise InvalidTarget("resource must not contain a fragment")
    return value


def resource_values(pairs: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """Every ``resource`` value, checked for syntax, none twice (``invalid_target``)."""
    values = [value for name, value in pairs if name == _RESOURCE]
    if len(set(values)) != len(values):
        raise InvalidTarget("resource is repeated")
    return tuple(check_resource_syntax(v) for v in values)


def read_token_form(pairs: Sequence[tuple[str, str]], *, max_length: int) -> dict[str, str]:
    """The token endpoint's form (``parse_pairs``) with at most one checked ``resource``."""
    form = parse_pairs([p for p in pairs if p[0] != _RESOURCE], max_length=max_length)
    if any(name == _RESOURCE and len(value) > max_length for name, value in pairs):
        raise InvalidTarget("resource is too long")
    resources = resource_values(pairs)
    if len(resources) > 1:
        raise InvalidTarget("one resource per token request: a token has one audience")
    if resources:
        form[_RESOURCE] = resources[0]
    return form


async def load_apis(client: Client, ctx: Context) -> dict[str, Api]:
    """The registered APIs ``client`` may use, by identifier, its default first."""
    found: dict[str, Api] = {}
    for identifier in client_apis(client, ctx.policy.audience):
        api = await ctx.stores.apis.get(identifier)
        if api is not None:
            found[identifier] = api
    return found


def select_apis(requested: Sequence[str], allowed: Mapping[str, Api]) -> tuple[Api, ...]:
    """The APIs ``requested`` names, all of them allowed; none requested: the default one."""
    if not requested:
        return tuple(allowed.values())[:1]
    unknown = [r for r in requested if r not in allowed]
    if unknown:
        raise InvalidTarget("resource is not a registered API this client may use")
    return tuple(allowed[r] for r in requested)


def allowed_scopes(apis: Iterable[Api]) -> set[str]:
    allowed = set(OPENID_SCOPES)
    for api in apis:
        allowed.update(api.scope_names)
    return allowed


def token_scope(
    requested: tuple[str, ...] | None, granted: Sequence[str], api: Api | None
) -> tuple[str, ...]:
    """The scope of a token for ``api``: ``requested`` (each granted and OpenID or the API's,
    else ``invalid_scope``), or when absent every granted scope that is OpenID or the API's."""
    allowed = allowed_scopes((api,) if api is not None else ())
    if requested is None:
        return tuple(s for s in granted if s in allowed)
    outside = [s for s in requested if s not in allowed or s not in granted]
    if outside:
        raise InvalidScope(f"scope not allowed for this resource: {' '.join(outside)}")
    return requested


async def grant_target(
    ctx: Context,
    named: str | None,
    resources: Sequence[str],
    granted: Sequence[str],
    requested: tuple[str, ...] | None = None,
) -> Target:
    """A token from a grant approved for ``resources`` (code, refresh token): the API ``named``
    among them, else the first; its scope ``requested`` or the granted one, for that API."""
    if named is not None and named not in resources:
        raise InvalidTarget("resource was not approved for this grant")
    identifier = named or (resources[0] if resources else None)
    api = await ctx.stores.apis.get(identifier) if identifier is not None else None
    if identifier is not None and api is None:
        raise InvalidTarget("resource is no longer a registered API")
    return Target(api=api, scope=token_scope(requested, granted, api))


async def client_target(ctx: Context, form: Mapping[str, str], client: Client) -> Target:
    """A client-credentials token: the API ``form`` names, else the client's default; scope as
    requested (the client's and the API's) or the client's default scopes for that API."""
    allowed = await load_apis(client, ctx)
    named = form.get(_RESOURCE)
    apis = select_apis((named,) if named is not None else (), allowed)
    api = apis[0] if apis else None
    requested = parse_scope(form.get("scope"))
    if requested is None:
        default = client.default_scopes or client.scopes
        return Target(api=api, scope=token_scope(None, default, api))
    return Target(api=api, scope=token_scope(requested, client.scopes, api))
