"""SQL implementations of the core ports: one explicit statement per method where possible.

Invariants (pinned by ``tests/storage`` on SQLite and PostgreSQL):

* ``consume`` / ``use`` are a single conditional ``UPDATE ... RETURNING``: the database decides
  which of several concurrent callers wins, never the application.
* Counters and replay entries are single ``INSERT ... ON CONFLICT`` statements.
* Rows map to core records in ``mapping.py`` and nowhere else.
* Statements on the token path are built once, with bound parameters, so a request pays only
  for executing them (SQLAlchemy's compiled cache does the rest).

The stores live by concern: ``token_stores.py`` (grants, codes, access and refresh tokens) and
``account_stores.py`` (clients, users, keys, consents, sessions); ``limits.py`` holds the shared
counters and the replay cache; ``pushed_requests.py`` the RFC 9126 requests; this module
bundles them all in :class:`SqlStores`.
"""

from __future__ import annotations

from tokenpath.storage.sql.account_stores import (
    SqlClientStore,
    SqlConsentStore,
    SqlInitialAccessTokenStore,
    SqlKeyStore,
    SqlSessionStore,
    SqlUserStore,
)
from tokenpath.storage.sql.admin_stores import SqlAdminTokenStore
from tokenpath.storage.sql.api_stores import SqlApiStore, SqlRevocationFeedStore
from tokenpath.storage.sql.execution import Executor
from tokenpath.storage.sql.limits import SqlRateLimiter, SqlReplayCache
from tokenpath.storage.sql.pushed_requests import SqlPushedRequestStore
from tokenpath.storage.sql.token_stores import (
    SqlCodeStore,
    SqlGrantStore,
    SqlRefreshTokenStore,
    SqlTokenStore,
)

__all__ = [
    "SqlAdminTokenStore",
    "SqlApiStore",
    "SqlClientStore",
    "SqlCodeStore",
    "SqlConsentStore",
    "SqlGrantStore",
    "SqlInitialAccessTokenStore",
    "SqlKeyStore",
    "SqlPushedRequestStore",
    "SqlRateLimiter",
    "SqlRefreshTokenStore",
    "SqlReplayCache",
    "SqlRevocationFeedStore",
    "SqlSessionStore",
    "SqlStores",
    "SqlTokenStore",
    "SqlUserStore",
]


class SqlStores:
    """Factory for the ``Stores`` bundle over one executor."""

    def __init__(self, db: Executor) -> None:
        from tokenpath.core.ports import Stores

        self.stores = Stores(
            clients=SqlClientStore(db),
            users=SqlUserStore(db),
            grants=SqlGrantStore(db),
            codes=SqlCodeStore(db),
            tokens=SqlTokenStore(db),
            refresh_tokens=SqlRefreshTokenStore(db),
            consents=SqlConsentStore(db),
            sessions=SqlSessionStore(db),
            keys=SqlKeyStore(db),
            replay=SqlReplayCache(db),
            rate_limits=SqlRateLimiter(db),
            initial_access_tokens=SqlInitialAccessTokenStore(db),
            pushed_requests=SqlPushedRequestStore(db),
            admin_tokens=SqlAdminTokenStore(db),
            apis=SqlApiStore(db),
            revocation_feed=SqlRevocationFeedStore(db),
        )
