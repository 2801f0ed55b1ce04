"""Lab recordings at rest: one SQLite file, ``lab.db``, in the demo's data directory.

Why a file of its own and not a table in the demo database: the recordings belong to the lab,
which exists only in ``tokenpath demo``; keeping them out of the server's schema means no
migration of the authorization server carries lab data, and deleting ``lab.db`` forgets every
run. The schema is one table, created on open; a run is stored as its JSON document
(:meth:`~tokenpath.lab.recording.Run.to_json`), which is also what the lab exports.

The file holds real demo tokens and secrets (that is what the lab shows), so it is created
readable by its owner only, like the demo's other files.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from pathlib import Path

from tokenpath.lab.recording import Run, run_from_json

__all__ = ["RunStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lab_runs (
    run_id TEXT PRIMARY KEY,
    flow TEXT NOT NULL,
    started REAL NOT NULL,
    outcome TEXT NOT NULL,
    body TEXT NOT NULL
)
"""


class RunStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)

    def _save(self, run: Run) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO lab_runs VALUES (?, ?, ?, ?, ?)",
                (run.run_id, run.flow, run.started, run.outcome, run.dumps()),
            )

    def _get(self, run_id: str) -> Run | None:
        with self._connect() as db:
            row = db.execute("SELECT body FROM lab_runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else run_from_json(json.loads(row[0]))

    def _recent(self, limit: int) -> list[tuple[str, str, float, str]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT run_id, flow, started, outcome FROM lab_runs ORDER BY started DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [(str(a), str(b), float(c), str(d)) for a, b, c, d in rows]

    def _latest(self, flow: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT run_id FROM lab_runs WHERE flow = ? AND outcome = 'ok' "
                "ORDER BY started DESC LIMIT 1",
                (flow,),
            ).fetchone()
        return None if row is None else str(row[0])

    async def save(self, run: Run) -> None:
        await asyncio.to_thread(self._save, run)

    async def get(self, run_id: str) -> Run | None:
        return await asyncio.to_thread(self._get, run_id)

    async def recent(self, limit: int = 30) -> list[tuple[str, str, float, str]]:
        """(run_id, flow, started, outcome), newest first."""
        return await asyncio.to_thread(self._recent, limit)

    async def latest(self, flow: str) -> str | None:
        """The newest successful run of ``flow``."""
        return await asyncio.to_thread(self._latest, flow)
