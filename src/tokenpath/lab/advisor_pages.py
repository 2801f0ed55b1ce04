"""The advisor's pages, mounted by the lab app at ``/advisor``."""

from __future__ import annotations

from starlette.routing import BaseRoute

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    return []
