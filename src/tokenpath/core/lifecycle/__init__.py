"""The lifecycle of clients, users, grants, signing keys and admin tokens: one place for the
rules an operator's change follows, called by the ``tokenpath`` CLI and the admin API alike.

Each function takes a :class:`~tokenpath.core.context.Context`, returns records, and refuses
with a :class:`~tokenpath.core.lifecycle.errors.LifecycleError` that both front ends render the
same way (exit code, HTTP status). The JSON shapes are in :mod:`~tokenpath.core.lifecycle.views`.
"""

from __future__ import annotations

from tokenpath.core.lifecycle.admin_tokens import (
    authenticate_admin,
    create_admin_token,
    list_admin_tokens,
    revoke_admin_token,
)
from tokenpath.core.lifecycle.apis import add_api, change_api, delete_api, find_api, list_apis
from tokenpath.core.lifecycle.clients import (
    MAX_OVERLAP,
    add_client,
    change_client,
    delete_client,
    disable_client,
    enable_client,
    find_client,
    list_clients,
    rotate_client_secret,
)
from tokenpath.core.lifecycle.errors import Conflict, Invalid, LifecycleError, NotFound
from tokenpath.core.lifecycle.grants import list_grants, revoke_grants
from tokenpath.core.lifecycle.keys import list_keys, rotate_keys
from tokenpath.core.lifecycle.users import (
    add_user,
    change_user,
    delete_user,
    disable_user,
    enable_user,
    find_user,
    list_users,
    set_password,
)

__all__ = [
    "MAX_OVERLAP",
    "Conflict",
    "Invalid",
    "LifecycleError",
    "NotFound",
    "add_api",
    "add_client",
    "add_user",
    "authenticate_admin",
    "change_api",
    "change_client",
    "change_user",
    "create_admin_token",
    "delete_api",
    "delete_client",
    "delete_user",
    "disable_client",
    "disable_user",
    "enable_client",
    "enable_user",
    "find_api",
    "find_client",
    "find_user",
    "list_admin_tokens",
    "list_apis",
    "list_clients",
    "list_grants",
    "list_keys",
    "list_users",
    "revoke_admin_token",
    "revoke_grants",
    "rotate_client_secret",
    "rotate_keys",
    "set_password",
]
