"""What the figures were measured on, how busy the box was, and what argon2id costs on it.

``describe()`` reads /proc and asks the tools (bounded: a few seconds in all): CPU model, cores,
RAM, kernel, Python, SQLite, PostgreSQL, Redis and Node versions, the versions of the libraries
on the hot path, the tokenpath commit, and the load on the box before the run (load average, the
CPU share used by other processes over a short window, and the busiest of them).

``argon2_rate()`` times argon2id verifications in this process with given parameters (those of
the hashes the server stores), on one thread and on one thread per core: the ceiling for
password sign-ins on this machine.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import argon2

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = (
    "tokenpath", "uvicorn", "starlette", "httptools", "uvloop", "SQLAlchemy", "aiosqlite",
    "asyncpg", "argon2-cffi", "joserfc", "cryptography", "httpx",
)  # fmt: skip


def _run(command: list[str], timeout: float = 5) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _busy_ticks() -> int:
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values[:8]) - values[3] - values[4]


def _process_ticks() -> dict[int, tuple[str, int]]:
    ticks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2 :].split()
        # own time plus that of reaped children, so short-lived processes (a test run's
        # workers, say) are charged to the parent that started them
        ticks[int(entry)] = (name, sum(int(v) for v in rest[11:15]))
    return ticks


def load_before(seconds: float = 2.0) -> dict[str, Any]:
    """The box's load now: load average, other processes' CPU share and the busiest of them."""
    hz = os.sysconf("SC_CLK_TCK")
    procs0, busy0, own0 = _process_ticks(), _busy_ticks(), time.process_time()
    time.sleep(seconds)
    procs1, busy1, own1 = _process_ticks(), _busy_ticks(), time.process_time()
    busy = (busy1 - busy0) / hz - (own1 - own0)
    top = sorted(
        (
            (round(100 * (t - procs0[pid][1]) / hz / seconds, 1), pid, name)
            for pid, (name, t) in procs1.items()
            if pid in procs0 and pid != os.getpid() and t > procs0[pid][1]
        ),
        reverse=True,
    )[:5]
    return {
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "other_cpu_pct": round(100 * busy / seconds, 1),
        "busiest": [{"pid": pid, "name": name, "cpu_pct": pct} for pct, pid, name in top],
        "window_s": seconds,
    }


def describe(*, postgres: bool, redis: bool, node: bool) -> dict[str, Any]:
    uname = platform.uname()
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    commit = _run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"])
    machine: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "kernel": uname.release,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "libraries": versions,
        "tokenpath_commit": f"{commit}{'+dirty' if dirty else ''}" if commit else None,
    }
    if postgres:
        machine["postgresql"] = _run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-tAc",
             "SHOW server_version"]
        )  # fmt: skip
    if redis:
        info = _run(["redis-cli", "-h", "127.0.0.1", "INFO", "server"]) or ""
        found = [ln.split(":", 1)[1] for ln in info.splitlines() if ln.startswith("redis_version")]
        machine["redis"] = found[0].strip() if found else None
    if node:
        machine["node"] = _run(["node", "--version"])
    machine["load_before"] = load_before()
    return machine


def storage_pids(kind: str) -> list[int]:
    """The PostgreSQL postmaster or the Redis server (their trees are sampled as storage CPU)."""
    names = {"postgresql": "postgres", "redis": "redis-server"}
    wanted = names.get(kind)
    if wanted is None:
        return []
    procs = _process_ticks()
    found = []
    for pid, (name, _) in procs.items():
        if name != wanted:
            continue
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if procs.get(ppid, ("", 0))[0] != wanted:
            found.append(pid)
    return sorted(found)


def _wait_quiet(max_wait: float, threshold: float = 25.0) -> float:
    """Wait (bounded) until other processes use < ``threshold`` % of one core; that share."""
    hz = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + max_wait
    while True:
        busy0, own0 = _busy_ticks(), time.process_time()
        time.sleep(0.5)
        other = 100 * ((_busy_ticks() - busy0) / hz - (time.process_time() - own0)) / 0.5
        if other < threshold or time.monotonic() >= deadline:
            return round(other, 1)


def argon2_rate(
    params: dict[str, Any],
    *,
    seconds: float,
    repeat: int = 3,
    max_ops: int = 10_000,
    quiet_wait: float = 8.0,
) -> dict[str, Any]:
    """argon2id verifications per second with ``params``, on 1 thread and on one per core.

    Each window is bounded by ``seconds`` and ``max_ops``, and starts once the box is quiet
    (bounded wait, as loadgen does); the best of ``repeat`` windows is kept (other work on a
    shared box only ever slows a window down), with the other processes' CPU share during it.
    argon2-cffi releases the GIL, so the threads run in parallel, as the server's
    ``asyncio.to_thread`` calls do.
    """
    hasher = argon2.PasswordHasher(
        time_cost=params["time_cost"],
        memory_cost=params["memory_cost_kib"],
        parallelism=params["parallelism"],
        hash_len=params.get("hash_len", 32),
        salt_len=params.get("salt_len", 16),
        type=argon2.Type.ID,
    )
    password = "bench-password"
    stored = hasher.hash(password)
    hasher.verify(stored, password)  # warm: allocate once
    hz = os.sysconf("SC_CLK_TCK")

    def window(threads: int) -> tuple[float, float]:
        _wait_quiet(quiet_wait)
        lock, count = threading.Lock(), [0]
        stop_at = time.perf_counter() + seconds

        def work() -> None:
            while time.perf_counter() < stop_at:
                with lock:
                    if count[0] >= max_ops:
                        return
                    count[0] += 1
                hasher.verify(stored, password)

        started, busy0, own0 = time.perf_counter(), _busy_ticks(), time.process_time()
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(work) for _ in range(threads)]:
                future.result()
        wall = time.perf_counter() - started
        other = 100 * ((_busy_ticks() - busy0) / hz - (time.process_time() - own0)) / wall
        return count[0] / wall, round(other, 1)

    cores = os.cpu_count() or 1
    one, other_one = max(window(1) for _ in range(repeat))
    many, other_many = max(window(cores) for _ in range(repeat))
    return {
        "params": params,
        "verify_per_s_1_thread": round(one, 1),
        "ms_per_verify": round(1000 / one, 2) if one else None,
        "threads": cores,
        "verify_per_s_all_cores": round(many, 1),
        "other_cpu_pct": [other_one, other_many],
        "window_s": seconds,
        "best_of": repeat,
    }
