"""Wiring: settings, schema and a production Context, in one place.

The web app, the command line, the demo, the benchmarks and the tests all need the same
composition: settings read from ``TOKENPATH_*``, the schema brought up to date, the stores of the
configured database wired to a system clock, ``secrets`` randomness, argon2id and rotating ES256
keys. This module is that composition root. It sits below ``web`` and the CLI and imports only
``core``, ``storage`` and ``settings`` (``tests/test_layering.py`` checks it), so getting a
Context never loads an HTTP framework or a command-line parser.

Failures are plain exceptions: :class:`ConfigError` (settings tokenpath will not run with) and
:class:`MigrationError` (the database cannot be brought up to date). The CLI maps them to exit
codes 2 and 1. A configuration error names the variable, what is wrong with its value and what
is accepted, and, when the value came from the TOML file or a flag, that place.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, cast

from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tokenpath.configuration import SettingsSourceError, origins, unknown_variables
from tokenpath.core.clock import Clock, SecretsTokenSource, SystemClock
from tokenpath.core.context import Context
from tokenpath.core.events import LogEventSink
from tokenpath.core.ports import PasswordHasher, Stores
from tokenpath.core.signing import (
    KEY_PUBLISH_AHEAD,
    KEY_REFRESH_SECONDS,
    Signer,
    key_retirement_delay,
)
from tokenpath.core.token_claims import ClaimsHook
from tokenpath.observability import logs, metrics
from tokenpath.settings import Settings
from tokenpath.storage.key_encryption import (
    EncryptedKeyStore,
    KeyEncryptionError,
    KeyEncryptionKey,
    load_keks,
)

if TYPE_CHECKING:
    from tokenpath.storage.sql.execution import Executor

__all__ = [
    "ConfigError",
    "MigrationError",
    "build_context",
    "configure_logging",
    "key_encryption_keys",
    "load_settings",
    "migrate",
    "opened",
    "preflight",
    "safe_url",
    "start_clean_up",
    "start_pool_gauge",
    "uvicorn_options",
]


class ConfigError(Exception):
    """A setting or option tokenpath will not run with (the CLI exits with code 2)."""


class MigrationError(Exception):
    """The schema could not be brought up to date (the CLI exits with code 1)."""


log = logging.getLogger("tokenpath")


def load_settings(**overrides: Any) -> Settings:
    """Settings from flags (``overrides``; None means unset), the environment and the TOML file.

    In a process where nobody has set up logging yet (a command), logging is set up in the
    configured format; then every ``TOKENPATH_*`` variable that names no setting is warned about.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = Settings(**given)
    except ValidationError as error:
        raise ConfigError(f"invalid configuration: {_reasons(error, given)}") from None
    except (SettingsSourceError, SettingsError) as error:
        raise ConfigError(f"invalid configuration: {error}") from None
    if not logs.is_configured() and not logging.getLogger().handlers:
        configure_logging(settings)
    for warning in unknown_variables(Settings):
        log.warning("%s", warning)
    return settings


def _reasons(error: ValidationError, given: dict[str, Any]) -> str:
    """Each refused value's message, with the file or flag that set it when not the env."""
    where = origins(Settings, given)
    reasons = []
    for detail in error.errors():
        reason = str(detail["msg"]).removeprefix("Value error, ")
        name = str(detail["loc"][0]) if detail["loc"] else ""
        if name in where and where[name].origin in ("file", "flag"):
            reason += f" (set by {where[name].via})"
        reasons.append(reason)
    return "; ".join(reasons)


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def key_encryption_keys(settings: Settings) -> tuple[KeyEncryptionKey, ...]:
    """The configured key-encryption keys (the first wraps, all unwrap); empty when none."""
    try:
        return load_keks(settings.key_encryption_key, settings.key_encryption_key_file)
    except (KeyEncryptionError, OSError) as error:
        raise ConfigError(f"invalid configuration: key_encryption_key: {error}") from None


def migrate(settings: Settings) -> None:
    """Bring the schema to the newest migration (creating a SQLite file private to this user,
    in a 0700 directory) and wrap any plain-text signing key under the configured KEK."""
    from tokenpath.storage.sql import upgrade

    keks = key_encryption_keys(settings)
    try:
        upgrade(settings.database_url, key_encryption_key=keks)
    except KeyEncryptionError as error:
        raise ConfigError(f"invalid configuration: {error}") from None
    except OSError as error:
        if _is_local_file(settings):
            raise ConfigError(_unusable_sqlite(settings, error)) from None
        raise MigrationError(f"cannot migrate {safe_url(settings.database_url)}: {error}") from None
    except SQLAlchemyError as error:
        reason = str(error).splitlines()[0]
        if _is_local_file(settings) and "unable to open database file" in reason:
            raise ConfigError(_unusable_sqlite(settings, error)) from None
        raise MigrationError(
            f"cannot migrate {safe_url(settings.database_url)}: {reason}"
        ) from None


def _is_local_file(settings: Settings) -> bool:
    return settings.database_url.startswith("sqlite")


def _unusable_sqlite(settings: Settings, error: Exception) -> str:
    """Name the variable that chose the SQLite path, and what is wrong with the path."""
    path = settings.database_url.removeprefix("sqlite+aiosqlite:///")
    explicit = origins(Settings).get("database_url")
    variable = "TOKENPATH_DATABASE_URL"
    if explicit is None or explicit.origin == "default":
        variable = f"TOKENPATH_DATA_DIR={settings.data_dir}"
    reason = getattr(error, "strerror", None) or str(error).splitlines()[0]
    return (
        f"invalid configuration: {variable}: cannot create or open the SQLite database {path} "
        f"({reason}); expected a directory this user can write (it is created 0700 if missing)"
    )


def build_context(
    settings: Settings,
    stores: Stores,
    *,
    passwords: PasswordHasher | None = None,
    clock: Clock | None = None,
    access_token_claims: ClaimsHook | None = None,
) -> Context:
    """Wire a production context: system clock, ``secrets`` randomness, argon2id, ES256 keys,
    client records cached for ``settings.client_cache_seconds``, and the access-token claims
    hook passed in or named by ``settings.access_token_claims``."""
    if passwords is None:
        from tokenpath.storage.passwords import Argon2PasswordHasher

        passwords = Argon2PasswordHasher(threads=settings.password_hash_threads or None)
    clock = clock or SystemClock()
    policy = settings.policy()
    # Always wrapped: without a KEK, plain-text keys load and an encrypted one is a clear error.
    stores = dataclasses.replace(
        stores, keys=EncryptedKeyStore(stores.keys, key_encryption_keys(settings))
    )
    if settings.client_cache_seconds:
        from tokenpath.storage.cache import CachedClientStore

        cached = CachedClientStore(stores.clients, clock, ttl=settings.client_cache_seconds)
        stores = dataclasses.replace(stores, clients=cached)
    from tokenpath.storage.remote_key_sets import RemoteKeySets  # httpx, loaded only here

    return Context(
        policy=policy,
        stores=stores,
        clock=clock,
        random=SecretsTokenSource(),
        signer=Signer(
            stores.keys,
            clock,
            refresh_seconds=KEY_REFRESH_SECONDS,
            retire_after=key_retirement_delay(policy),
            publish_ahead=KEY_PUBLISH_AHEAD,
        ),
        passwords=passwords,
        key_sets=RemoteKeySets(clock),
        events=metrics.CountingEventSink(LogEventSink()),
        access_token_claims=access_token_claims or load_claims_hook(settings.access_token_claims),
    )


def load_claims_hook(path: str) -> ClaimsHook | None:
    """The callable ``package.module:name`` names (``TOKENPATH_ACCESS_TOKEN_CLAIMS``), or None
    when empty; a path that does not lead to a callable is a :class:`ConfigError` at start."""
    if not path:
        return None
    module_name, _, attribute = path.partition(":")
    try:
        hook = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigError(
            f"TOKENPATH_ACCESS_TOKEN_CLAIMS={path!r} cannot be loaded: {error}"
        ) from None
    if not callable(hook):
        raise ConfigError(f"TOKENPATH_ACCESS_TOKEN_CLAIMS={path!r} is not callable")
    return cast("ClaimsHook", hook)


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Context]:
    """A production context over the configured database, closed on exit."""
    from tokenpath.storage.sql import open_database

    database = await open_database(settings.database_url)
    try:
        yield build_context(settings, database.stores)
    finally:
        await database.close()


async def preflight(settings: Settings) -> None:
    """What ``serve`` checks before it listens, so a bad deployment fails at start, by name.

    * A SQLite file or directory others may read is refused (the signing keys and every
      session live there) unless ``allow_readable_database`` is set.
    * The signing keys must load: a wrong or missing key-encryption key is found now, not at the
      first token request. The first key is created here if there is none.
    """
    from tokenpath.storage.sql import check_database_permissions

    problems = check_database_permissions(settings.database_url)
    if problems and not settings.allow_readable_database:
        raise ConfigError(
            "refusing to start: " + "; ".join(problems) + " (or set "
            "TOKENPATH_ALLOW_READABLE_DATABASE=1 to accept it)"
        )
    for problem in problems:
        logging.getLogger("tokenpath").warning("%s", problem)
    async with opened(settings) as ctx:
        try:
            await ctx.signer.reload()
        except KeyEncryptionError as error:
            raise ConfigError(f"invalid configuration: {error}") from None


def start_clean_up(executor: Executor, settings: Settings) -> asyncio.Task[None] | None:
    """The server's periodic purge of expired rows as a task, or None when
    ``settings.cleanup_interval`` is 0 (purging is then left to ``tokenpath db cleanup``).
    The caller cancels the task on shutdown."""
    from tokenpath.storage.sql.maintenance import purge_periodically

    if not settings.cleanup_interval:
        return None
    return asyncio.create_task(purge_periodically(executor, settings.cleanup_interval))


POOL_GAUGE_SECONDS = 2.0
"""How often each server process reports its database pool use to the metrics."""


def start_pool_gauge(executor: object) -> asyncio.Task[None] | None:
    """Report the database pool's use to the metrics every :data:`POOL_GAUGE_SECONDS`, as a
    task the caller cancels on shutdown (None for a store without a pool: SQLite)."""
    status = getattr(executor, "pool_status", None)
    if status is None:
        return None

    async def report() -> None:
        while True:
            metrics.pool_in_use(*status())
            await asyncio.sleep(POOL_GAUGE_SECONDS)

    return asyncio.create_task(report())


def configure_logging(settings: Settings | None = None) -> None:
    """Every log line to standard error in ``TOKENPATH_LOG_FORMAT`` at ``TOKENPATH_LOG_LEVEL``
    (text at INFO without settings); Alembic's per-migration lines are muted."""
    if settings is None:
        logs.configure_logging()
        return
    logs.configure_logging(settings.log_format, settings.log_level)


def uvicorn_options() -> dict[str, Any]:
    """Shared by serve and demo: no uvicorn access log (its request lines carry query strings,
    which can hold codes and tokens: the web layer writes its own, path only), uvicorn's
    messages through tokenpath's log format (``log_config=None``), and no proxy headers (URLs
    come from the issuer, never from ``X-Forwarded-*``: RFC 9700 §4.13).
    """
    return {
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        "log_config": None,
    }
