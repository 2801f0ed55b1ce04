"""Signing keys at rest: the table never holds a private ``d`` once a key-encryption key is set,
a missing or wrong KEK is named in the error, rewrapping moves every key (retired ones too) and
can run twice, and the migration wraps the keys a database already had."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from tokenpath.core.signing import generate_signing_key
from tokenpath.storage.key_encryption import (
    EncryptedKeyStore,
    KeyEncryptionError,
    KeyEncryptionKey,
    generate_kek,
    load_keks,
    parse_keks,
)
from tokenpath.storage.sql import (
    Database,
    encrypt_plaintext_keys,
    open_database,
    rewrap_keys,
    upgrade,
)
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.database import _alembic_config

pytestmark = pytest.mark.anyio
OLD = KeyEncryptionKey.parse(generate_kek())
NEW = KeyEncryptionKey.parse(generate_kek())


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    database = await open_database(db_url)
    try:
        yield database
    finally:
        await database.close()


async def _raw(database: Database) -> dict[str, str]:
    table = m.signing_keys
    rows = await database.executor.all(select(table.c.kid, table.c.private_jwk))
    return {row.kid: row.private_jwk for row in rows}


async def _insert_plain(database: Database, now: int, *, retired: bool = False) -> str:
    key = generate_signing_key(now)
    await database.executor.write(
        insert(m.signing_keys).values(
            kid=key.kid,
            alg=key.alg,
            private_jwk=key.private_jwk,
            created_at=key.created_at,
            retired_at=now if retired else None,
        )
    )
    return key.kid


def _assert_sealed(stored: str, kek: KeyEncryptionKey) -> None:
    assert stored.startswith(f"enc:v1:{kek.id}:")
    assert '"d"' not in stored
    with pytest.raises(ValueError):
        json.loads(stored)


def test_kek_values_parse_and_bad_ones_are_refused(tmp_path: Path) -> None:
    fernet_key = Fernet.generate_key().decode()
    (kek,) = parse_keks(fernet_key)
    assert len(kek.id) == 12 and kek.id == KeyEncryptionKey.parse(fernet_key).id
    assert fernet_key not in repr(kek)
    assert parse_keks("") == ()
    first, second = parse_keks(f"{generate_kek()}, {fernet_key}")
    assert second.id == kek.id and first.id != kek.id
    for bad in ("short", "!" * 44, Fernet.generate_key().decode()[:-4]):
        with pytest.raises(KeyEncryptionError, match="32 random bytes"):
            parse_keks(bad)
    with pytest.raises(KeyEncryptionError, match="twice"):
        parse_keks(f"{fernet_key},{fernet_key}")


def test_the_file_variant_reads_the_key(tmp_path: Path) -> None:
    path = tmp_path / "kek"
    value = generate_kek()
    path.write_text(value + "\n")
    assert [k.id for k in load_keks("", path)] == [KeyEncryptionKey.parse(value).id]
    with pytest.raises(KeyEncryptionError, match="not both"):
        load_keks(value, path)
    path.write_text("")
    with pytest.raises(KeyEncryptionError, match="empty"):
        load_keks("", path)
    with pytest.raises(KeyEncryptionError, match="cannot read"):
        load_keks("", path.with_name("missing"))


async def test_no_private_key_is_readable_in_the_table(database: Database) -> None:
    keys = EncryptedKeyStore(database.stores.keys, [OLD])
    key = generate_signing_key(100)
    await keys.add(key)
    _assert_sealed((await _raw(database))[key.kid], OLD)
    assert list(await keys.list_active()) == [key]  # the round trip gives the key back intact
    await keys.retire(key.kid, 200)
    assert list(await keys.list_active()) == []


async def test_a_missing_or_wrong_kek_is_named(database: Database) -> None:
    key = generate_signing_key(100)
    await EncryptedKeyStore(database.stores.keys, [OLD]).add(key)
    expected = (
        f"signing key {key.kid} is encrypted with key-encryption key {OLD.id}; "
        "set TOKENPATH_KEY_ENCRYPTION_KEY"
    )
    for keks in ([], [NEW]):
        with pytest.raises(KeyEncryptionError, match=expected):
            await EncryptedKeyStore(database.stores.keys, keks).list_active()


async def test_a_wrapped_key_moved_to_another_row_does_not_decrypt(database: Database) -> None:
    keys = EncryptedKeyStore(database.stores.keys, [OLD])
    first, second = generate_signing_key(100), generate_signing_key(101)
    await keys.add(first)
    await keys.add(second)
    raw = await _raw(database)
    table = m.signing_keys
    await database.executor.write(
        table.update().where(table.c.kid == second.kid).values(private_jwk=raw[first.kid])
    )
    with pytest.raises(KeyEncryptionError, match=f"signing key {second.kid} does not decrypt"):
        await keys.list_active()


async def test_plain_text_loads_without_a_kek_and_is_refused_with_one(database: Database) -> None:
    kid = await _insert_plain(database, 100)
    assert [k.kid for k in await EncryptedKeyStore(database.stores.keys, []).list_active()] == [kid]
    with pytest.raises(KeyEncryptionError, match=f"signing key {kid} is stored in plain text"):
        await EncryptedKeyStore(database.stores.keys, [OLD]).list_active()
    assert await encrypt_plaintext_keys(database.executor, OLD) == 1
    assert await encrypt_plaintext_keys(database.executor, OLD) == 0
    _assert_sealed((await _raw(database))[kid], OLD)
    assert [k.kid for k in await EncryptedKeyStore(database.stores.keys, [OLD]).list_active()] == [
        kid
    ]


async def test_rewrap_moves_every_key_and_can_run_twice(database: Database) -> None:
    keys = EncryptedKeyStore(database.stores.keys, [OLD])
    active = generate_signing_key(100)
    await keys.add(active)
    retired = await _insert_plain(database, 90, retired=True)
    await encrypt_plaintext_keys(database.executor, OLD)

    with pytest.raises(KeyEncryptionError, match=f"key-encryption key {OLD.id}"):
        await rewrap_keys(database.executor, [], NEW)  # nothing written without the old KEK
    assert all(v.startswith(f"enc:v1:{OLD.id}:") for v in (await _raw(database)).values())

    assert await rewrap_keys(database.executor, [OLD], NEW) == 2
    assert await rewrap_keys(database.executor, [OLD], NEW) == 0
    raw = await _raw(database)
    assert set(raw) == {active.kid, retired}
    for stored in raw.values():
        _assert_sealed(stored, NEW)

    with pytest.raises(KeyEncryptionError, match=f"key-encryption key {NEW.id}"):
        await EncryptedKeyStore(database.stores.keys, [OLD]).list_active()
    assert list(await EncryptedKeyStore(database.stores.keys, [NEW]).list_active()) == [active]


async def test_the_migration_wraps_existing_keys_and_downgrade_unwraps(
    db_url: str, database: Database
) -> None:
    kids = {await _insert_plain(database, 100), await _insert_plain(database, 90, retired=True)}
    await asyncio.to_thread(command.downgrade, _alembic_config(db_url, None), "0002")
    plain = await _raw(database)

    await asyncio.to_thread(command.upgrade, _alembic_config(db_url, None, (OLD,)), "head")
    raw = await _raw(database)
    assert set(raw) == kids
    for stored in raw.values():
        _assert_sealed(stored, OLD)

    with pytest.raises(KeyEncryptionError, match="is encrypted with key-encryption key"):
        await asyncio.to_thread(command.downgrade, _alembic_config(db_url, None), "0002")
    assert await _raw(database) == raw  # refused, and nothing changed
    await asyncio.to_thread(command.downgrade, _alembic_config(db_url, None, (OLD,)), "0002")
    assert await _raw(database) == plain


async def test_upgrade_with_a_kek_wraps_keys_of_an_up_to_date_database(
    db_url: str, database: Database
) -> None:
    """A KEK configured after the migration ran: the next start-up's upgrade wraps the keys."""
    kid = await _insert_plain(database, 100)
    await asyncio.to_thread(upgrade, db_url)
    assert '"d"' in (await _raw(database))[kid]
    text = generate_kek()
    await asyncio.to_thread(upgrade, db_url, key_encryption_key=text)
    stored = (await _raw(database))[kid]
    _assert_sealed(stored, KeyEncryptionKey.parse(text))
    # Already wrapped keys stay as they are, whichever KEK now comes first.
    await asyncio.to_thread(upgrade, db_url, key_encryption_key=[NEW, *parse_keks(text)])
    assert (await _raw(database))[kid] == stored
