"""The composition root: settings, migrations, a production Context, the periodic clean-up."""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path
from typing import Any

import anyio
import pytest

from tokenpath.core.clock import FixedClock
from tokenpath.core.signing import KEY_PUBLISH_AHEAD, key_retirement_delay, rotate_signing_key
from tokenpath.runtime import (
    ConfigError,
    MigrationError,
    build_context,
    load_claims_hook,
    load_settings,
    migrate,
    opened,
    preflight,
    start_clean_up,
    uvicorn_options,
)
from tokenpath.settings import Settings, sqlite_url
from tokenpath.storage.cache import CachedClientStore
from tokenpath.storage.key_encryption import generate_kek
from tokenpath.storage.memory import memory_stores
from tokenpath.storage.sql import maintenance, open_database

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "nested" / "data")


def test_load_settings_ignores_unset_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENPATH_PORT", "9100")
    assert load_settings(port=None).port == 9100
    assert load_settings(port=9200).port == 9200


def test_a_refused_configuration_is_a_config_error_with_every_reason() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(cleanup_interval=-1, client_cache_seconds=-1)
    assert str(raised.value) == (
        "invalid configuration: TOKENPATH_CLIENT_CACHE_SECONDS=-1 is refused: input should be "
        "greater than or equal to 0; expected a whole number at least 0 (set by "
        "--client-cache-seconds); TOKENPATH_CLEANUP_INTERVAL=-1 is refused: input should be "
        "greater than or equal to 0; expected a whole number at least 0 (set by "
        "--cleanup-interval)"
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(issuer="http://as.example")
    assert str(raised.value).startswith(
        "invalid configuration: TOKENPATH_ISSUER: issuer http://as.example uses"
    )


def test_migrate_creates_the_sqlite_directory_and_is_idempotent(settings: Settings) -> None:
    migrate(settings)
    migrate(settings)
    assert (settings.data_dir / "tokenpath.db").is_file()


def test_a_failed_migration_names_the_database_without_its_password(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://u:hunter22@127.0.0.1:1/x"
    with pytest.raises(MigrationError) as raised:
        migrate(Settings(data_dir=tmp_path, database_url=url))
    assert str(raised.value).startswith("cannot migrate postgresql+asyncpg://u:***@127.0.0.1:1/x")
    assert "hunter22" not in str(raised.value)


def test_build_context_caches_client_records_only_when_asked(settings: Settings) -> None:
    stores = memory_stores()
    cached = build_context(settings, stores)
    assert isinstance(cached.stores.clients, CachedClientStore)
    assert cached.policy == settings.policy()
    uncached = build_context(settings.model_copy(update={"client_cache_seconds": 0}), stores)
    assert uncached.stores.clients is stores.clients


async def test_build_context_retires_a_superseded_key_once_its_tokens_expired(
    settings: Settings,
) -> None:
    clock = FixedClock()
    ctx = build_context(settings, memory_stores(), clock=clock)
    await ctx.signer.reload()  # the first key
    newer = await rotate_signing_key(ctx.stores.keys, clock.now())
    clock.current = newer.created_at + KEY_PUBLISH_AHEAD + key_retirement_delay(ctx.policy) - 1
    await ctx.signer.reload()
    assert len(await ctx.stores.keys.list_active()) == 2
    clock.advance(1)
    await ctx.signer.reload()
    assert len(await ctx.stores.keys.list_active()) == 1


async def test_opened_gives_a_working_context_over_the_configured_database(
    settings: Settings,
) -> None:
    await anyio.to_thread.run_sync(migrate, settings)
    async with opened(settings) as ctx:
        token = await ctx.signer.sign({"sub": "alice"})
        assert (await ctx.signer.verify(token)) == {"sub": "alice"}
    async with opened(settings) as again:  # the key was stored, not kept in memory
        assert (await again.signer.verify(token)) == {"sub": "alice"}
    assert settings.database_url == sqlite_url(settings.data_dir / "tokenpath.db")


async def test_no_clean_up_task_when_the_interval_is_zero(settings: Settings) -> None:
    off = settings.model_copy(update={"cleanup_interval": 0})
    database = await open_database(sqlite_url(settings.data_dir.parent / "x.db"))
    try:
        assert start_clean_up(database.executor, off) is None
    finally:
        await database.close()


async def test_the_clean_up_task_purges_the_database(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    purged = asyncio.Event()
    calls: list[tuple[Any, dict[str, Any]]] = []

    async def purge(db: Any, now: int, **options: Any) -> dict[str, int]:
        calls.append((db, options))
        purged.set()
        return {"codes": 0}

    monkeypatch.setattr(maintenance, "purge_expired", purge)
    monkeypatch.setattr(random, "uniform", lambda low, high: 0.0)  # no start-up jitter
    await anyio.to_thread.run_sync(migrate, settings)
    database = await open_database(settings.database_url)
    try:
        task = start_clean_up(database.executor, settings)
        assert task is not None
        with anyio.fail_after(10):
            await purged.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await database.close()
    assert calls == [(database.executor, {"batch": 1000, "pause": 0.01})]


async def test_a_failed_purge_is_logged_and_retried(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[int] = []
    retried = asyncio.Event()

    async def purge(db: Any, now: int, **options: Any) -> dict[str, int]:
        attempts.append(now)
        if len(attempts) == 1:
            raise OSError("database gone")
        retried.set()
        return {}

    monkeypatch.setattr(maintenance, "purge_expired", purge)
    caplog.set_level(logging.INFO, logger="tokenpath")
    task = asyncio.create_task(maintenance.purge_periodically(object(), 0))  # type: ignore[arg-type]
    with anyio.fail_after(10):
        await retried.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "clean-up of expired rows failed" in caplog.text
    assert "expired rows purged" in caplog.text


def test_uvicorn_options_keep_request_lines_and_proxy_headers_out() -> None:
    assert uvicorn_options() == {
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        "log_config": None,  # uvicorn's lines go through tokenpath's one log format
    }


def test_preflight_refuses_a_database_others_can_read(settings: Settings) -> None:
    migrate(settings)
    database = settings.data_dir / "tokenpath.db"
    assert database.stat().st_mode & 0o777 == 0o600
    assert settings.data_dir.stat().st_mode & 0o777 == 0o700
    asyncio.run(preflight(settings))  # private: fine, and the first signing key now exists
    database.chmod(0o644)
    with pytest.raises(ConfigError, match=r"refusing to start: .*tokenpath\.db"):
        asyncio.run(preflight(settings))
    weakened = settings.model_copy(update={"allow_readable_database": True})
    asyncio.run(preflight(weakened))
    assert "allow_readable_database" in weakened.weakened()


def test_preflight_names_a_wrong_key_encryption_key(settings: Settings) -> None:
    right = settings.model_copy(update={"key_encryption_key": generate_kek()})
    migrate(right)
    asyncio.run(preflight(right))
    wrong = settings.model_copy(update={"key_encryption_key": generate_kek()})
    with pytest.raises(ConfigError, match="set TOKENPATH_KEY_ENCRYPTION_KEY to that key"):
        asyncio.run(preflight(wrong))
    with pytest.raises(ConfigError, match="set TOKENPATH_KEY_ENCRYPTION_KEY to that key"):
        asyncio.run(preflight(settings))  # none at all: the stored key cannot be read either


def test_a_malformed_key_encryption_key_is_a_config_error(settings: Settings) -> None:
    broken = settings.model_copy(update={"key_encryption_key": "not-a-key"})
    with pytest.raises(ConfigError, match="key_encryption_key"):
        migrate(broken)


def test_the_claims_hook_is_loaded_by_its_dotted_path() -> None:
    """``TOKENPATH_ACCESS_TOKEN_CLAIMS``: empty is none; a bad path stops the start, by name."""
    from tokenpath.core.token_claims import static_claims

    assert load_claims_hook("") is None
    assert load_claims_hook("tokenpath.core.token_claims:static_claims") is static_claims
    for bad in ("no.such.module:f", "tokenpath.core.token_claims:nothing", "tokenpath.core"):
        with pytest.raises(ConfigError, match="TOKENPATH_ACCESS_TOKEN_CLAIMS"):
            load_claims_hook(bad)
    with pytest.raises(ConfigError, match="not callable"):
        load_claims_hook("tokenpath.core.token_claims:RESERVED_CLAIMS")
