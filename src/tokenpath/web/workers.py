"""``tokenpath serve --workers N``: N server processes, each with its own listening socket.

Every worker binds the same address with ``SO_REUSEPORT``, so the kernel spreads new
connections across the workers by hash. With one shared listening socket (uvicorn's own
multi-worker mode) the worker that wakes first accepts a whole burst of connections and keeps
them for their keep-alive lifetime: in ``bench/`` one of two workers often carried every
connection while the other idled. The parent only supervises: it replaces a worker that dies
after a healthy start, stops when a worker cannot start at all, and on SIGTERM or SIGINT stops
the workers gracefully (each finishes its requests and runs its shutdown).
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

__all__ = ["run_workers"]

_HEALTHY_AFTER = 5.0
"""A worker that exits sooner than this after starting is broken, not crashed: stop."""


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    sock = _listen(host, port)
    config = uvicorn.Config("tokenpath.web.app:create_app_from_env", factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(
    host: str,
    port: int,
    workers: int,
    options: dict[str, Any],
    *,
    on_exit: Callable[[int], None] = lambda pid: None,
) -> int:
    """Run ``workers`` processes until a signal; the exit status for the command.

    ``on_exit`` is told the process id of each worker that has ended (its metrics go stale).
    """
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_worker, args=(host, port, options), daemon=False)
        process.start()
        return process, time.monotonic()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    running = [start() for _ in range(workers)]
    status = 0
    try:
        while not stopping:
            for index, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                on_exit(process.pid or 0)
                if time.monotonic() - started < _HEALTHY_AFTER:
                    stopping, status = True, 1
                    break
                running[index] = start()
            time.sleep(0.2)
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()
        for process, _ in running:
            process.join(timeout=30)
            on_exit(process.pid or 0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
