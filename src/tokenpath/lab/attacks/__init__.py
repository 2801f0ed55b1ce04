"""The attack playground: the classic OAuth attacks run for real on loopback (RFC 9700).

Each attack plays the victim and the attacker against the demo's real servers, from the lab's
attacker origin, in a mode where it succeeds (a deliberately vulnerable lab-only client, or a
bearer token) and one where it is stopped. The ``insecure_*`` modules live here and only here.
"""

from __future__ import annotations

from tokenpath.lab.attacks.actors import LabActors, ensure_lab_actors
from tokenpath.lab.attacks.attacker import create_attacker_app
from tokenpath.lab.attacks.engine import AttackError, run_attack
from tokenpath.lab.attacks.pages import routes
from tokenpath.lab.attacks.registry import ATTACKS, Attack, Mode, find_attack
from tokenpath.lab.attacks.report import AttackReport, AttackUnavailable, RequestRecord
from tokenpath.lab.attacks.target import AttackTarget

__all__ = [
    "ATTACKS",
    "Attack",
    "AttackError",
    "AttackReport",
    "AttackTarget",
    "AttackUnavailable",
    "LabActors",
    "Mode",
    "RequestRecord",
    "create_attacker_app",
    "ensure_lab_actors",
    "find_attack",
    "routes",
    "run_attack",
]
