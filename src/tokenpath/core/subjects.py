"""The ``sub`` a client sees for a user (OpenID Connect Core §8).

* ``public`` clients all see the same identifier: the user's id at this server.
* ``pairwise`` clients each see their own (§8.1): a SHA-256 over the client's sector (the host of
  its redirect URIs; registration keeps them on one host), the user id and a server secret
  (``Policy.pairwise_salt``), so two clients cannot correlate a user by ``sub``, and nobody
  without the secret can recompute it from the user id.

Access tokens keep the server's own user id (resource servers of this deployment share one
namespace); id_tokens and userinfo use :func:`subject_for`.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from tokenpath.core.policy import Policy
from tokenpath.core.records import Client

__all__ = ["sector_of", "subject_for"]


def sector_of(client: Client) -> str:
    """The sector identifier host (§8.1): the one host of the client's redirect URIs."""
    hosts = {urlsplit(uri).hostname or uri for uri in client.redirect_uris}
    if len(hosts) != 1:
        raise ValueError("a pairwise client's redirect URIs must share one host")
    return hosts.pop()


def subject_for(user_id: str, client: Client, policy: Policy) -> str:
    """The ``sub`` of ``user_id`` as ``client`` sees it."""
    if client.subject_type != "pairwise":
        return user_id
    if not policy.pairwise_salt:
        raise ValueError("pairwise subjects need a pairwise_salt")
    material = "\x1f".join((sector_of(client), user_id, policy.pairwise_salt))
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
