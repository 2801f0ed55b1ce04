"""Where the attacks aim: the URLs and demo credentials of one running lab stack.

The lab stack builds one :class:`AttackTarget` when it starts (every server on its own
loopback origin) and hands it to :func:`tokenpath.lab.attacks.routes`,
:func:`tokenpath.lab.attacks.create_attacker_app` and
:func:`tokenpath.lab.attacks.run_attack`.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

__all__ = ["AttackTarget"]


@dataclass(frozen=True, slots=True)
class AttackTarget:
    issuer: str
    api_url: str
    webapp_url: str
    spa_url: str
    attacker_url: str
    lab_url: str
    webapp_client_id: str
    webapp_client_secret: str
    spa_implicit_client_id: str
    spa_pkce_client_id: str
    native_client_id: str
    username: str
    password: str
    data_dir: pathlib.Path

    def lab_path(self, path: str) -> str:
        """A URL under the lab's ``/attacks`` mount (where the lab app serves these routes)."""
        return f"{self.lab_url}/attacks{path}"
