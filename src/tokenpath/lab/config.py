"""What the lab knows about the demo it records: origins, clients, the demo user, files.

The demo builds one :class:`LabConfig` when it starts; the lab never reads settings itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["LabConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LabConfig:
    issuer: str
    api_url: str
    webapp_url: str
    spa_url: str
    lab_url: str
    attacker_url: str
    webapp_client_id: str
    webapp_client_secret: str
    spa_implicit_client_id: str
    spa_pkce_client_id: str
    native_client_id: str
    machine_client_id: str
    machine_client_secret: str
    username: str
    password: str
    data_dir: Path
    webapp_database: Path
    """The web app's SQLite file: the lab reads its session table to see what the app keeps."""
    chromium: str | None
    """The Chromium executable the lab drives, or None when none was found."""

    @property
    def lab_database(self) -> Path:
        return self.data_dir / "lab.db"
