"""The admin API's operations, one row each, grouped by resource (:data:`SECTIONS`).

Each handler maps a :class:`~tokenpath.web.admin_api.Call` onto one
:mod:`tokenpath.core.lifecycle` function and its result onto a view from
``core/lifecycle/views.py``, the same JSON the CLI's ``--json`` prints. A new resource is one
more :class:`~tokenpath.web.admin_api.Section` appended to :data:`SECTIONS`.
"""

from __future__ import annotations

from tokenpath.core import lifecycle
from tokenpath.core.lifecycle import Invalid
from tokenpath.core.lifecycle.views import (
    api_view,
    client_view,
    grant_view,
    key_view,
    revoked_view,
    user_view,
)
from tokenpath.core.records import ApiScope, ClientType, GrantType, ResponseType
from tokenpath.web.admin_schema import Call, Operation, Reply, Section

__all__ = ["SECTIONS"]


def _words(text: str | None) -> list[str] | None:
    return text.split() if text is not None else None


def _enums(kind: type[GrantType] | type[ResponseType], values: list[str] | None) -> list[object]:
    try:
        return [kind(v) for v in values or ()]
    except ValueError as error:
        raise Invalid(str(error)) from None


async def list_clients(call: Call) -> Reply:
    now = call.ctx.clock.now()
    return Reply(200, [client_view(c, now) for c in await lifecycle.list_clients(call.ctx)])


async def add_client(call: Call) -> Reply:
    b = call.body
    client, secret = await lifecycle.add_client(
        call.ctx,
        name=b["client_name"],
        client_type=ClientType(b["client_type"]),
        redirect_uris=b.get("redirect_uris", []),
        scopes=b["scope"].split(),
        grant_types=_enums(GrantType, b.get("grant_types")) or [GrantType.AUTHORIZATION_CODE],
        response_types=_enums(ResponseType, b.get("response_types")) or None,
        require_pkce=b.get("require_pkce", False),
        access_token_format=b.get("access_token_format", "jwt"),
        token_endpoint_auth_method=b.get("token_endpoint_auth_method"),
        jwks_uri=b.get("jwks_uri"),
        post_logout_redirect_uris=b.get("post_logout_redirect_uris", []),
        backchannel_logout_uri=b.get("backchannel_logout_uri"),
        subject_type=b.get("subject_type", "public"),
        resources=b.get("resources", []),
        default_resource=b.get("default_resource"),
        dpop_bound_access_tokens=b.get("dpop_bound_access_tokens", False),
        require_pushed_authorization_requests=b.get("require_pushed_authorization_requests", False),
    )
    view = client_view(client, call.ctx.clock.now())
    return Reply(201, {"client": view, "client_secret": secret})


async def show_client(call: Call) -> Reply:
    client = await lifecycle.find_client(call.ctx, call.path["client_id"])
    return Reply(200, client_view(client, call.ctx.clock.now()))


async def change_client(call: Call) -> Reply:
    b = call.body
    client = await lifecycle.change_client(
        call.ctx,
        call.path["client_id"],
        name=b.get("client_name"),
        redirect_uris=b.get("redirect_uris"),
        scopes=_words(b.get("scope")),
        grant_types=_enums(GrantType, b.get("grant_types")) or None,
        response_types=_enums(ResponseType, b.get("response_types")) or None,
        require_pkce=b.get("require_pkce"),
        access_token_format=b.get("access_token_format"),
        jwks_uri=b.get("jwks_uri"),
        resources=b.get("resources"),
        default_resource=b.get("default_resource"),
        dpop_bound_access_tokens=b.get("dpop_bound_access_tokens"),
        require_pushed_authorization_requests=b.get("require_pushed_authorization_requests"),
    )
    return Reply(200, client_view(client, call.ctx.clock.now()))


async def delete_client(call: Call) -> Reply:
    await lifecycle.delete_client(call.ctx, call.path["client_id"])
    return Reply(204)


async def disable_client(call: Call) -> Reply:
    client = await lifecycle.disable_client(call.ctx, call.path["client_id"])
    return Reply(200, client_view(client, call.ctx.clock.now()))


async def enable_client(call: Call) -> Reply:
    client = await lifecycle.enable_client(call.ctx, call.path["client_id"])
    return Reply(200, client_view(client, call.ctx.clock.now()))


async def rotate_secret(call: Call) -> Reply:
    overlap = call.body.get("overlap", 0)
    client, secret = await lifecycle.rotate_client_secret(call.ctx, call.path["client_id"], overlap)
    until = client_view(client, call.ctx.clock.now())["previous_secret_valid_until"]
    body = {"client_id": client.client_id, "client_secret": secret,
            "previous_secret_valid_until": until}  # fmt: skip
    return Reply(200, body)


async def list_users(call: Call) -> Reply:
    return Reply(200, [user_view(u) for u in await lifecycle.list_users(call.ctx)])


async def add_user(call: Call) -> Reply:
    b = call.body
    user = await lifecycle.add_user(call.ctx, b["username"], b["password"], b.get("claims"))
    return Reply(201, user_view(user))


async def show_user(call: Call) -> Reply:
    return Reply(200, user_view(await lifecycle.find_user(call.ctx, call.path["username"])))


async def change_user(call: Call) -> Reply:
    user = await lifecycle.change_user(call.ctx, call.path["username"], call.body["claims"])
    return Reply(200, user_view(user))


async def set_password(call: Call) -> Reply:
    await lifecycle.set_password(call.ctx, call.path["username"], call.body["password"])
    return Reply(204)


async def disable_user(call: Call) -> Reply:
    return Reply(200, user_view(await lifecycle.disable_user(call.ctx, call.path["username"])))


async def enable_user(call: Call) -> Reply:
    return Reply(200, user_view(await lifecycle.enable_user(call.ctx, call.path["username"])))


async def delete_user(call: Call) -> Reply:
    await lifecycle.delete_user(call.ctx, call.path["username"])
    return Reply(204)


async def list_grants(call: Call) -> Reply:
    raw_limit = call.query.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
        raise Invalid("limit must be an integer from 1 to 1000")
    grants = await lifecycle.list_grants(
        call.ctx,
        username=call.query.get("user"),
        client_id=call.query.get("client"),
        limit=int(raw_limit),
    )
    return Reply(200, [grant_view(g) for g in grants])


async def revoke_grants(call: Call) -> Reply:
    b = call.body
    count = await lifecycle.revoke_grants(
        call.ctx, username=b.get("user"), client_id=b.get("client"), grant_id=b.get("grant")
    )
    return Reply(200, revoked_view(count))


async def list_keys(call: Call) -> Reply:
    keys = await lifecycle.list_keys(call.ctx)
    return Reply(200, [key_view(k, signing=i == 0) for i, k in enumerate(keys)])


async def rotate_keys(call: Call) -> Reply:
    return Reply(201, key_view(await lifecycle.rotate_keys(call.ctx), signing=False))


def _identifier(call: Call) -> str:
    identifier = call.query.get("identifier")
    if not identifier:
        raise Invalid("name the API with ?identifier=")
    return identifier


def _api_scopes(raw: list[dict[str, str]] | None) -> list[ApiScope] | None:
    if raw is None:
        return None
    return [ApiScope(name=s["name"], description=s["description"]) for s in raw]


async def list_apis(call: Call) -> Reply:
    return Reply(200, [api_view(a) for a in await lifecycle.list_apis(call.ctx)])


async def add_api(call: Call) -> Reply:
    b = call.body
    api, secret = await lifecycle.add_api(
        call.ctx,
        identifier=b["identifier"],
        scopes=_api_scopes(b["scopes"]) or [],
        token_format=b.get("token_format", "jwt"),
        access_token_lifetime=b.get("access_token_lifetime"),
        claims=b.get("claims"),
    )
    body = {"identifier": api.identifier, "client_id": api.client_id, "client_secret": secret}
    return Reply(201, body | {"api": api_view(api)})


async def show_api(call: Call) -> Reply:
    return Reply(200, api_view(await lifecycle.find_api(call.ctx, _identifier(call))))


async def change_api(call: Call) -> Reply:
    b = call.body
    api = await lifecycle.change_api(
        call.ctx,
        _identifier(call),
        scopes=_api_scopes(b.get("scopes")),
        token_format=b.get("token_format"),
        access_token_lifetime=b.get("access_token_lifetime"),
        claims=b.get("claims"),
    )
    return Reply(200, api_view(api))


async def delete_api(call: Call) -> Reply:
    await lifecycle.delete_api(call.ctx, _identifier(call))
    return Reply(204)


CLIENTS = Section("clients", (
    Operation(method="GET", path="/clients", handler=list_clients, summary="List clients",
              answers=(), response="array"),
    Operation(method="POST", path="/clients", handler=add_client, ok=201, body="ClientCreate",
              summary="Register a client; its secret is in this answer only", answers=()),
    Operation(method="GET", path="/clients/{client_id}", handler=show_client,
              summary="Show a client"),
    Operation(method="PATCH", path="/clients/{client_id}", handler=change_client,
              body="ClientUpdate", summary="Change a client's metadata"),
    Operation(method="DELETE", path="/clients/{client_id}", handler=delete_client, ok=204,
              summary="Delete a client with its grants and tokens", response="empty"),
    Operation(method="POST", path="/clients/{client_id}/disable", handler=disable_client,
              summary="Disable a client"),
    Operation(method="POST", path="/clients/{client_id}/enable", handler=enable_client,
              summary="Enable a client"),
    Operation(method="POST", path="/clients/{client_id}/rotate-secret", handler=rotate_secret,
              body="SecretRotation", body_required=False, answers=(404, 409),
              summary="A new secret (in this answer only); the old one valid `overlap` seconds"),
))  # fmt: skip
USERS = Section("users", (
    Operation(method="GET", path="/users", handler=list_users, summary="List users",
              answers=(), response="array"),
    Operation(method="POST", path="/users", handler=add_user, ok=201, body="UserCreate",
              summary="Create a user", answers=(409,)),
    Operation(method="GET", path="/users/{username}", handler=show_user, summary="Show a user"),
    Operation(method="PATCH", path="/users/{username}", handler=change_user, body="UserUpdate",
              summary="Merge claims (null removes one)"),
    Operation(method="PUT", path="/users/{username}/password", handler=set_password, ok=204,
              body="Password", summary="Set a new password", response="empty"),
    Operation(method="POST", path="/users/{username}/disable", handler=disable_user,
              summary="Disable a user: no sign-in, sessions end, grants stay"),
    Operation(method="POST", path="/users/{username}/enable", handler=enable_user,
              summary="Enable a user"),
    Operation(method="DELETE", path="/users/{username}", handler=delete_user, ok=204,
              summary="Delete a user; their grants are revoked", response="empty"),
))  # fmt: skip
GRANTS = Section("grants", (
    Operation(method="GET", path="/grants", handler=list_grants, query=("user", "client", "limit"),
              summary="The grants of ?user= or ?client=, newest first", response="array"),
    Operation(method="POST", path="/grants/revoke", handler=revoke_grants, body="GrantRevocation",
              summary="Revoke the grants of one user, one client or one grant"),
))  # fmt: skip
KEYS = Section("keys", (
    Operation(method="GET", path="/keys", handler=list_keys, summary="Active signing keys",
              answers=(), response="array"),
    Operation(method="POST", path="/keys/rotate", handler=rotate_keys, ok=201, answers=(),
              summary="Add a signing key"),
))  # fmt: skip

APIS = Section("apis", (
    Operation(method="GET", path="/apis", handler=list_apis, summary="List registered APIs",
              answers=(), response="array"),
    Operation(method="POST", path="/apis", handler=add_api, ok=201, body="ApiCreate",
              answers=(409,),
              summary="Register an API; its credentials' secret is in this answer only"),
    Operation(method="GET", path="/api", handler=show_api, query=("identifier",),
              summary="Show the API ?identifier="),
    Operation(method="PATCH", path="/api", handler=change_api, query=("identifier",),
              body="ApiUpdate", summary="Change the API ?identifier= (what is absent stays)"),
    Operation(method="DELETE", path="/api", handler=delete_api, query=("identifier",), ok=204,
              response="empty", summary="Delete the API ?identifier=; its tokens go inactive"),
))  # fmt: skip

SECTIONS: tuple[Section, ...] = (CLIENTS, USERS, GRANTS, KEYS, APIS)
"""Every resource the admin API serves; append a section to add one."""
