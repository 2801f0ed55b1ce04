"""The JSON shapes of clients, users, grants, keys and admin tokens: one place, so the CLI's
``--json`` and the admin API print the same objects. None of them carries a secret or a hash.
"""

from __future__ import annotations

import json

from tokenpath.core.claims import parse_stored
from tokenpath.core.ports import RevokedCount
from tokenpath.core.records import AdminToken, Api, Client, Grant, SigningKey, User

__all__ = [
    "admin_token_view",
    "api_view",
    "client_view",
    "grant_view",
    "key_view",
    "revoked_view",
    "user_view",
]


def client_view(c: Client, now: int) -> dict[str, object]:
    """RFC 7591 names for the metadata, plus the operator's state."""
    overlap = c.previous_secret_expires_at
    return {
        "client_id": c.client_id,
        "client_name": c.client_name,
        "client_type": c.client_type.value,
        "redirect_uris": list(c.redirect_uris),
        "scope": " ".join(c.scopes),
        "grant_types": [g.value for g in c.grant_types],
        "response_types": [r.value for r in c.response_types],
        "token_endpoint_auth_method": c.token_endpoint_auth_method,
        "require_pkce": c.require_pkce or c.is_public,
        "access_token_format": c.access_token_format,
        "jwks": json.loads(c.jwks) if c.jwks else None,
        "jwks_uri": c.jwks_uri,
        "post_logout_redirect_uris": list(c.post_logout_redirect_uris),
        "backchannel_logout_uri": c.backchannel_logout_uri,
        "subject_type": c.subject_type,
        "require_pushed_authorization_requests": c.require_pushed_authorization_requests,
        "dpop_bound_access_tokens": c.dpop_bound_access_tokens,
        "dynamic": c.dynamic,
        "resources": list(c.resources),
        "default_resource": c.default_resource,
        "created_at": c.created_at,
        "disabled": c.disabled_at is not None,
        "disabled_at": c.disabled_at,
        "previous_secret_valid_until": overlap if overlap is not None and now < overlap else None,
    }


def user_view(u: User) -> dict[str, object]:
    return {
        "user_id": u.user_id,
        "username": u.username,
        "claims": parse_stored(u.claims),
        "created_at": u.created_at,
        "disabled": u.disabled_at is not None,
        "disabled_at": u.disabled_at,
    }


def grant_view(g: Grant) -> dict[str, object]:
    return {
        "grant_id": g.grant_id,
        "client_id": g.client_id,
        "user_id": g.user_id,
        "scope": " ".join(g.scope),
        "created_at": g.created_at,
        "auth_time": g.auth_time,
        "revoked": g.revoked_at is not None,
        "revoked_at": g.revoked_at,
    }


def revoked_view(count: RevokedCount) -> dict[str, object]:
    return {"revoked_grants": count.grants, "ended_sessions": count.sessions}


def key_view(k: SigningKey, *, signing: bool) -> dict[str, object]:
    """The public facts of a signing key; its private half never leaves the store."""
    return {"kid": k.kid, "alg": k.alg, "created_at": k.created_at, "signing": signing}


def admin_token_view(t: AdminToken, now: int) -> dict[str, object]:
    expired = t.expires_at is not None and t.expires_at <= now
    return {
        "token_id": t.token_id,
        "name": t.name,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "revoked_at": t.revoked_at,
        "active": t.revoked_at is None and not expired,
    }


def api_view(api: Api) -> dict[str, object]:
    """A registered API: its scopes with their consent texts, and its credentials' client id."""
    return {
        "identifier": api.identifier,
        "scopes": [{"name": s.name, "description": s.description} for s in api.scopes],
        "token_format": api.token_format,
        "access_token_lifetime": api.access_token_lifetime,
        "claims": json.loads(api.claims),
        "client_id": api.client_id,
    }
