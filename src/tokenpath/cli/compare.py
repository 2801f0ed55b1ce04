"""``tokenpath compare``: the code and implicit flows, run for real, their exposures side by side.

It starts a demo of its own (a fresh temporary data directory, free loopback ports, nothing
printed), asks that demo's flow lab for one run of each flow in the system Chromium, prints the
two exposure tables side by side (``--json``: ``{"runs": [{"flow", "exposures": [{"secret",
"place", "seconds"}]}]}``), and stops the demo. Without Chromium or the playwright package it
says what to install and exits 2; a run that did not finish exits 1 after printing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import tempfile
from pathlib import Path
from typing import Any

import click

from tokenpath.cli.base import Command

__all__ = ["compare"]

FLOWS = ("code", "implicit")
READY_TIMEOUT = 60.0
RUN_TIMEOUT = 120.0


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _playwright_installed() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return True


async def _run_flows(chromium: str) -> list[dict[str, Any]]:
    import httpx

    from tokenpath.demo import DemoPorts, run_demo

    with tempfile.TemporaryDirectory(prefix="tokenpath-compare-") as tmp:
        ports = DemoPorts(*_free_ports(6))
        ready, stop = asyncio.Event(), asyncio.Event()
        demo = asyncio.create_task(
            run_demo(Path(tmp), ports, chromium=chromium, banner=False, ready=ready, stop=stop)
        )
        try:
            waiting = asyncio.create_task(ready.wait())
            await asyncio.wait(
                {demo, waiting}, timeout=READY_TIMEOUT, return_when="FIRST_COMPLETED"
            )
            waiting.cancel()
            if demo.done():
                demo.result()  # raises what stopped the demo
            if not ready.is_set():
                raise click.ClickException("the demo did not start")
            lab = f"http://127.0.0.1:{ports.lab_port}"
            async with httpx.AsyncClient(base_url=lab, timeout=RUN_TIMEOUT) as http:
                return [await _one_run(http, flow) for flow in FLOWS]
        finally:
            stop.set()
            await asyncio.wait_for(demo, READY_TIMEOUT)


async def _one_run(http: Any, flow: str) -> dict[str, Any]:
    started = await http.post("/runs", data={"flow": flow})
    if started.status_code != 303:
        raise click.ClickException(f"the lab could not run {flow} ({started.status_code})")
    recording = (await http.get(f"{started.headers['location']}.json")).json()
    return recording  # type: ignore[no-any-return]


def _brief(recording: dict[str, Any]) -> dict[str, Any]:
    exposures = [
        {"secret": x["secret"], "place": x["place"], "seconds": x["seconds"]}
        for x in recording["exposures"]
    ]
    return {"flow": recording["flow"], "exposures": exposures}


def _text(runs: list[dict[str, Any]]) -> str:
    from tokenpath.lab.comparison import compare as compare_rows
    from tokenpath.lab.comparison import side_by_side_text
    from tokenpath.lab.exposures import Exposure

    tables = [
        [Exposure(x["secret"], x["place"], x["seconds"], 0.0, "") for x in run["exposures"]]
        for run in runs
    ]
    rows = compare_rows(tables[0], tables[1])
    return side_by_side_text(runs[0]["flow"], runs[1]["flow"], rows)


@click.command(cls=Command)
@click.option("--json", "as_json", is_flag=True, help='Print {"runs": [...]} as JSON.')
@click.option(
    "--chromium",
    type=click.Path(dir_okay=False),
    default=None,
    help="The Chromium to drive (default: /usr/bin/chromium, else on the PATH).",
)
def compare(as_json: bool, chromium: str | None) -> None:
    """Run the code and implicit flows headlessly and show where each secret went."""
    from tokenpath.lab.browser import INSTALL_HINT, find_chromium

    executable = find_chromium(chromium)
    if executable is None or not _playwright_installed():
        click.echo(f"tokenpath compare needs Chromium and Playwright.\n{INSTALL_HINT}", err=True)
        raise SystemExit(2)
    logging.getLogger().setLevel(logging.INFO)  # recorded by the lab, printed nowhere
    recordings = asyncio.run(_run_flows(executable))
    runs = [_brief(r) for r in recordings]
    click.echo(json.dumps({"runs": runs}, indent=2) if as_json else _text(runs))
    failed = [r["flow"] for r in recordings if r["outcome"] != "ok"]
    if failed:
        click.echo(f"these runs did not finish: {', '.join(failed)}", err=True)
        raise SystemExit(1)
