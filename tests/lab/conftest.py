"""One real demo (every server, the flow lab, SQLite in a temporary directory) for the lab tests.

The demo runs in a thread with its own event loop, exactly as ``tokenpath demo`` runs it, on free
loopback ports; the lab inside it drives the system Chromium. Started once for the package.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import require_service
from tests.support.servers import free_port
from tokenpath.demo import DemoPorts, run_demo

CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT = 60.0


@dataclass
class Demo:
    ports: DemoPorts
    data_dir: Path

    @property
    def lab(self) -> str:
        return f"http://127.0.0.1:{self.ports.lab_port}"

    def run(self, flow: str) -> dict[str, Any]:
        """Start a run from the lab and return its exported recording (with exposures)."""
        started = httpx.post(f"{self.lab}/runs", data={"flow": flow}, timeout=120)
        assert started.status_code == 303, started.text
        recording: dict[str, Any] = httpx.get(
            f"{self.lab}{started.headers['location']}.json"
        ).json()
        assert recording["outcome"] == "ok", recording["outcome"]
        return recording


def _ports() -> DemoPorts:
    # reserved by tests.support.servers; released just before uvicorn binds them
    from tests.support import servers

    numbers = [free_port() for _ in range(6)]
    for number in numbers:
        servers._reserved.pop(number).close()
    return DemoPorts(*numbers)


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if not Path(CHROMIUM).exists():
        require_service(f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)")
    data_dir = tmp_path_factory.mktemp("lab-demo")
    ports = _ports()
    started = threading.Event()
    control: dict[str, Any] = {}

    async def main() -> None:
        ready, stop = asyncio.Event(), asyncio.Event()
        control["stop"], control["loop"] = stop, asyncio.get_running_loop()
        serving = asyncio.create_task(
            run_demo(data_dir, ports, chromium=CHROMIUM, banner=False, ready=ready, stop=stop)
        )
        await ready.wait()
        started.set()
        await serving

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(START_TIMEOUT), "the demo did not start"
    try:
        yield Demo(ports, data_dir)
    finally:
        control["loop"].call_soon_threadsafe(control["stop"].set)
        thread.join(START_TIMEOUT)
