"""The sans-IO OAuth protocol core: typed requests in, decisions out; no HTTP, no SQL.

Entry points: ``core.authorize.authorize``, ``core.token_endpoint.token``, :func:`login`, the
metadata builder and registration helpers. Storage is reached only through the Protocols in
:mod:`.ports`.
"""

from tokenpath.core.context import Context
from tokenpath.core.login import current_session, login
from tokenpath.core.metadata import authorization_server_metadata
from tokenpath.core.policy import Policy
from tokenpath.core.registration import create_user, register_client

__all__ = [
    "Context",
    "Policy",
    "authorization_server_metadata",
    "create_user",
    "current_session",
    "login",
    "register_client",
]
