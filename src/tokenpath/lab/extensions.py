"""The attack playground and the advisor, mounted into the lab when they are installed.

They live in ``tokenpath.lab.attacks`` and ``tokenpath.lab.advisor_pages``; this is the one
place that imports them, so the lab runs (and is tested) with or without them.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from tokenpath.lab.config import LabConfig

__all__ = ["Extensions", "load_extensions"]


class Extensions:
    def __init__(
        self, attack_routes: list[BaseRoute], attacker: ASGIApp | None, advisor: list[BaseRoute]
    ) -> None:
        self.attack_routes = attack_routes
        self.attacker = attacker
        self.advisor_routes = advisor


def _target(config: LabConfig, target_class: Any) -> Any:
    return target_class(
        issuer=config.issuer,
        api_url=config.api_url,
        webapp_url=config.webapp_url,
        spa_url=config.spa_url,
        attacker_url=config.attacker_url,
        lab_url=config.lab_url,
        webapp_client_id=config.webapp_client_id,
        webapp_client_secret=config.webapp_client_secret,
        spa_implicit_client_id=config.spa_implicit_client_id,
        spa_pkce_client_id=config.spa_pkce_client_id,
        native_client_id=config.native_client_id,
        username=config.username,
        password=config.password,
        data_dir=config.data_dir,
    )


def load_extensions(config: LabConfig) -> Extensions:
    """The playground's routes and attacker app and the advisor's routes, or none of them."""
    try:
        from tokenpath.lab import (  # type: ignore[attr-defined, unused-ignore]
            advisor_pages,
            attacks,
        )
        from tokenpath.lab.attacks.target import (  # type: ignore[import-not-found, unused-ignore]
            AttackTarget,
        )
    except ImportError:
        return Extensions([], None, [])
    target = _target(config, AttackTarget)
    return Extensions(
        list(attacks.routes(target)),
        attacks.create_attacker_app(target),
        list(advisor_pages.routes()),
    )
