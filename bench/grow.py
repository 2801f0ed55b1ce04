"""Grow a tokenpath database to a given size before measuring: the growth runs.

Bulk-inserts, for each of N grants, one access token, one refresh token and one authorization
code straight into the tables of ``tokenpath.storage.sql.models`` (SQLAlchemy Core executemany,
batches of 10,000 rows, one transaction per batch), so N = 1,000,000 means 4,000,000 rows.
Rows look like the server's own: random ids, SHA-256 hex hashes, the bench client's id, half
the access tokens opaque (with a hash) and half JWT (without). About 85 % are live; 15 % expired
two days ago (past ``tokenpath db cleanup``'s default grace, so clean-up has work to do), and a
tenth of the live refresh tokens were used two days ago (rotated away). Half the codes were
consumed. A column the server adds later that is NOT NULL without a default gets a neutral
value, so the seeder keeps working while the schema evolves.

Usage (standalone): ``python bench/grow.py --database-url URL --client-id ID --rows 1000000``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import time
from typing import Any

from sqlalchemy import Boolean, Integer, String, Table, Text, bindparam, func, select
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import make_url

from tokenpath.storage.sql import create_engine
from tokenpath.storage.sql import models as m

BATCH = 10_000
EXPIRED_EVERY = 7  # one row in 7 (~15 %) expired long ago
DAY = 24 * 3600
SCOPE = "openid profile notes:read"
REDIRECT_URI = "http://127.0.0.1:7999/cb"
TABLES = ("grants", "access_tokens", "refresh_tokens", "codes")


def _hex() -> str:
    return os.urandom(32).hex()


def _id() -> str:
    return secrets.token_urlsafe(16)


def _neutral(column: Any, now: int) -> Any:
    """A harmless value for a NOT NULL column this seeder does not know about."""
    if isinstance(column.type, Boolean):
        return False
    if isinstance(column.type, Integer):
        return now
    if isinstance(column.type, String | Text):
        return ""
    return None


def _fit(table: Table, rows: list[dict[str, Any]], now: int) -> list[dict[str, Any]]:
    """Drop keys the table no longer has; fill required columns it gained."""
    names = set(table.c.keys())
    missing = {
        c.name: _neutral(c, now)
        for c in table.c
        if c.name not in rows[0]
        and not c.nullable
        and c.default is None
        and c.server_default is None
        and not c.primary_key
    }
    if set(rows[0]) <= names and not missing:
        return rows
    return [{**{k: v for k, v in r.items() if k in names}, **missing} for r in rows]


def _batch(count: int, client_id: str, users: list[str], now: int, serial: int) -> dict[str, list]:
    grants, tokens, refresh, codes = [], [], [], []
    for i in range(count):
        n = serial + i
        expired = n % EXPIRED_EVERY == 0
        issued = now - 3 * DAY if expired else now - (n % 300)
        user = users[n % len(users)]
        grant_id = _id()
        grants.append(
            {
                "grant_id": grant_id,
                "client_id": client_id,
                "user_id": user,
                "scope": SCOPE,
                "created_at": issued,
                "auth_time": issued,
                "revoked_at": None,
            }
        )
        opaque = n % 2 == 0
        tokens.append(
            {
                "jti": _id(),
                "token_hash": _hex() if opaque else None,
                "grant_id": grant_id,
                "client_id": client_id,
                "subject": user,
                "scope": SCOPE,
                "audience": "http://127.0.0.1:9001",
                "grant_type": "authorization_code",
                "issued_at": issued,
                "expires_at": now - 2 * DAY if expired else now + 600,
                "revoked_at": None,
            }
        )
        used = not expired and n % 10 == 1
        refresh.append(
            {
                "token_hash": _hex(),
                "grant_id": grant_id,
                "client_id": client_id,
                "user_id": user,
                "scope": SCOPE,
                "issued_at": issued,
                "expires_at": now - 2 * DAY if expired else now + 30 * DAY,
                "idle_expires_at": now - 2 * DAY if expired else now + 7 * DAY,
                "used_at": now - 2 * DAY if used else None,
                "revoked_at": None,
            }
        )
        codes.append(
            {
                "code_hash": _hex(),
                "grant_id": grant_id,
                "client_id": client_id,
                "user_id": user,
                "redirect_uri": REDIRECT_URI,
                "redirect_uri_in_request": True,
                "scope": SCOPE,
                "code_challenge": _hex()[:43],
                "code_challenge_method": "S256",
                "nonce": None,
                "auth_time": issued,
                "issued_at": issued,
                "expires_at": now - 2 * DAY if expired else now + 60,
                "consumed_at": issued + 1 if n % 2 else None,
            }
        )
    return {"grants": grants, "access_tokens": tokens, "refresh_tokens": refresh, "codes": codes}


def _insert_sql(table: Table, columns: list[str], dialect: Any) -> tuple[str, list[str]]:
    """The table's INSERT compiled once for the driver, and the order its parameters go in."""
    compiled = table.insert().values({c: bindparam(c) for c in columns}).compile(dialect=dialect)
    return str(compiled), list(compiled.positiontup or columns)


def _grow_sqlite(url: str, rows: int, client_id: str, serial: int, progress: bool) -> None:
    """SQLite: the synchronous driver and pre-compiled executemany (about 2x faster than rows
    through the async engine); the seeding connection skips fsync and gets a 1 GiB page cache."""
    engine = sa_create_engine(make_url(url).set(drivername="sqlite"))
    now, users, started, done = int(time.time()), _users(rows), time.perf_counter(), 0
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-1048576")
            while done < rows:
                count = min(BATCH, rows - done)
                batch = _batch(count, client_id, users, now, serial + done)
                for name in TABLES:
                    table = m.metadata.tables[name]
                    fitted = _fit(table, batch[name], now)
                    sql, order = _insert_sql(table, list(fitted[0]), engine.dialect)
                    conn.exec_driver_sql(sql, [tuple(r[c] for c in order) for r in fitted])
                conn.commit()
                done += count
                _progress(progress, done, rows, started)
    finally:
        engine.dispose()


async def _grow_async(url: str, rows: int, client_id: str, serial: int, progress: bool) -> None:
    engine = create_engine(url, pool_size=1)
    now, users, started, done = int(time.time()), _users(rows), time.perf_counter(), 0
    try:
        while done < rows:
            count = min(BATCH, rows - done)
            batch = _batch(count, client_id, users, now, serial + done)
            async with engine.begin() as conn:
                for name in TABLES:
                    table = m.metadata.tables[name]
                    await conn.execute(table.insert(), _fit(table, batch[name], now))
            done += count
            _progress(progress, done, rows, started)
    finally:
        await engine.dispose()


def _users(rows: int) -> list[str]:
    return [_id() for _ in range(min(10_000, max(rows // 10, 1)))]


def _progress(enabled: bool, done: int, rows: int, started: float) -> None:
    if enabled and (done % 200_000 == 0 or done == rows):
        print(f"  grown {done:,}/{rows:,} in {time.perf_counter() - started:.1f} s", flush=True)


async def count_rows(url: str) -> dict[str, int]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return {
                name: (
                    await conn.execute(select(func.count()).select_from(m.metadata.tables[name]))
                ).scalar_one()
                for name in TABLES
            }
    finally:
        await engine.dispose()


async def grow(
    url: str, *, rows: int, client_id: str, serial: int = 0, progress: bool = False
) -> dict[str, Any]:
    """Insert ``rows`` grants (each with an access token, a refresh token and a code).

    ``serial`` numbers the first new grant, so growing 10,000 then 990,000 more gives the same
    live/expired mix as 1,000,000 at once. Returns the seconds taken and the rows per table.
    """
    started = time.perf_counter()
    if rows > 0:
        if make_url(url).get_backend_name() == "sqlite":
            await asyncio.to_thread(_grow_sqlite, url, rows, client_id, serial, progress)
        else:
            await _grow_async(url, rows, client_id, serial, progress)
    seconds = round(time.perf_counter() - started, 1)
    return {"inserted": rows, "seconds": seconds, "rows": await count_rows(url)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="SQLAlchemy async URL")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--rows", type=int, required=True, help="grants to add (x4 rows)")
    args = parser.parse_args()
    result = asyncio.run(
        grow(args.database_url, rows=args.rows, client_id=args.client_id, progress=True)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
