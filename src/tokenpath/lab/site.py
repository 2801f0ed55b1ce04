"""The lab as the demo wires it: one recorder for every server, the lab app, the attacker app.

:func:`build_lab_site` is all ``tokenpath demo`` calls: it gets the demo's origins and clients
as a :class:`~tokenpath.lab.config.LabConfig` and returns the middleware to give every demo app
factory, and the two extra apps to serve on their own loopback ports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.types import ASGIApp

from tokenpath.lab.app import create_lab_app
from tokenpath.lab.config import LabConfig
from tokenpath.lab.extensions import load_extensions
from tokenpath.lab.recorder import Recorder, RecordingMiddleware, RunLogHandler
from tokenpath.lab.runner import Lab

__all__ = ["LabSite", "build_lab_site"]


@dataclass(frozen=True, slots=True)
class LabSite:
    config: LabConfig
    recorder: Recorder
    lab: Lab
    app: ASGIApp
    attacker: ASGIApp | None
    """The attack playground's attacker origin, when the playground is installed."""

    def middleware(self, server: str) -> list[Middleware]:
        """For a demo app factory's ``middleware=``: records that server's exchanges."""
        return self.recorder.middleware(server)


def build_lab_site(config: LabConfig) -> LabSite:
    recorder = Recorder()
    handler = RunLogHandler(recorder)
    logging.getLogger().addHandler(handler)
    lab = Lab(config, recorder, on_close=lambda: logging.getLogger().removeHandler(handler))
    extensions = load_extensions(config)
    attacker = extensions.attacker
    if attacker is not None:
        attacker = RecordingMiddleware(attacker, recorder=recorder, server="attacker")
    return LabSite(config, recorder, lab, create_lab_app(lab, extensions), attacker)
