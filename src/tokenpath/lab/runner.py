"""Runs one flow at a time, records it, and stores the recording.

Why one at a time: the recorder tags what the servers see with "the run in progress"
(:mod:`tokenpath.lab.recorder`), so two runs at once would mix. A run that fails is stored too,
with ``outcome`` saying where it stopped, so the lab can show how far it got.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable

from tokenpath.lab.browser import Chromium, LabUnavailable
from tokenpath.lab.config import LabConfig
from tokenpath.lab.flows import STEPS, FlowContext
from tokenpath.lab.recorder import Recorder
from tokenpath.lab.recording import FLOWS, Run
from tokenpath.lab.store import RunStore

__all__ = ["RUN_TIMEOUT", "Lab"]

RUN_TIMEOUT = 60.0
"""Seconds a whole run may take."""


class Lab:
    def __init__(
        self, config: LabConfig, recorder: Recorder, on_close: Callable[[], None] = lambda: None
    ) -> None:
        self.config = config
        self._on_close = on_close
        self.recorder = recorder
        self.store = RunStore(config.lab_database)
        self.chromium = Chromium(config.chromium)
        self._one_at_a_time = asyncio.Lock()

    async def run(self, flow: str) -> Run:
        """Run ``flow`` for real and store its recording. Raises LabUnavailable without Chromium."""
        if flow not in FLOWS:
            raise ValueError(f"unknown flow {flow!r}")
        async with self._one_at_a_time:
            if flow != "client_credentials":
                await self.chromium.browser()  # fail before recording if there is none
            run = Run(run_id=secrets.token_hex(8), flow=flow, started=time.time())
            with self.recorder.recording(run):
                try:
                    async with asyncio.timeout(RUN_TIMEOUT):
                        await STEPS[flow](FlowContext(self.config, self.chromium, run))
                    run.outcome = "ok"
                except LabUnavailable:
                    raise
                except Exception as stopped:  # stored and shown: where the run stopped
                    run.outcome = f"stopped: {type(stopped).__name__}: {stopped}"[:300]
            await self.store.save(run)
            return run

    async def close(self) -> None:
        self._on_close()
        await self.chromium.close()
