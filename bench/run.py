"""Benchmark tokenpath the way operators size it: real server, real database, loopback load.

One command (``make bench``) starts ``tokenpath serve`` on a fresh database, seeds a client, a user
and signed-in sessions with remembered consent (untimed, through the same core functions the
login and consent forms call: no benchmark-only hook in the server), runs the peers' load
generator (``../shared/peers/loadgen.py``) for each scenario, and writes ``results.json`` and
``results.md`` under ``bench/results/<stamp>/``: median throughput, p50/p99 latency, server CPU
time per operation and peak RSS. Every load window is bounded by ``--duration`` and loadgen's
request cap; all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOADGEN = ROOT.parent / "shared" / "peers" / "loadgen.py"
SCENARIOS = ("client_credentials", "auth_code", "refresh_token", "introspection")
REDIRECT_URI = "http://127.0.0.1:7999/cb"


def _rss_peak_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MiB."""
    total = 0
    pids = [pid] + [int(p) for p in _children(pid)]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def _postgres_database() -> str:
    name = f"tp_bench_{secrets.token_hex(4)}"
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-qc",
            f'CREATE DATABASE "{name}"',
        ],
        check=True,
    )
    return name


def _wait(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _loadgen(
    args: argparse.Namespace,
    scenario: str,
    creds: dict[str, str],
    cookies: Path,
    pid: int,
    out: Path,
    issuer: str,
) -> dict[str, object]:
    command = [
        sys.executable, str(LOADGEN), "--issuer", issuer, "--scenario", scenario,
        "--client-id", creds["client_id"], "--client-secret", creds["client_secret"],
        "--concurrency", str(args.concurrency), "--duration", str(args.duration),
        "--warmup", str(args.warmup), "--repeat", str(args.repeat),
        "--scope", "notes:read", "--code-scope", "openid notes:read",
        "--redirect-uri", REDIRECT_URI, "--cookies-file", str(cookies), "--user-header", "",
        "--server-pids", str(pid), "--label", f"tokenpath-{args.db}-w{args.workers}",
        "--json-out", str(out), "--quiet",
    ]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=args.duration * 10 + 120)
    summary: dict[str, object] = json.loads(out.read_text().splitlines()[-1])
    return summary


def run(args: argparse.Namespace) -> Path:
    if not LOADGEN.exists():
        raise SystemExit(f"load generator not found at {LOADGEN}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_dir = Path(args.out or HERE / "results" / stamp)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tokenpath-bench-"))
    issuer = f"http://127.0.0.1:{args.port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}
    env |= {
        "TOKENPATH_ISSUER": issuer,
        "TOKENPATH_DATA_DIR": str(work),
        "TOKENPATH_PORT": str(args.port),
    }
    if args.db == "postgresql":
        env["TOKENPATH_DATABASE_URL"] = (
            f"postgresql+asyncpg://postgres@127.0.0.1:5432/{_postgres_database()}"
        )
    tokenpath = [sys.executable, "-m", "tokenpath"]
    subprocess.run([*tokenpath, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    cookies = work / "cookies.txt"
    seeded = subprocess.run(
        [sys.executable, str(HERE / "seed.py"), "--sessions", str(max(args.concurrency, 1)),
         "--cookies-file", str(cookies)],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    creds = json.loads(seeded.stdout.strip().splitlines()[-1])
    server = subprocess.Popen(
        [*tokenpath, "serve", "--port", str(args.port), "--workers", str(args.workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results = []
    try:
        _wait(f"{issuer}/.well-known/oauth-authorization-server", server)
        for scenario in args.scenarios:
            summary = _loadgen(
                args, scenario, creds, cookies, server.pid, work / f"{scenario}.jsonl", issuer
            )
            results.append(summary)
            rps, p50, p99 = (summary[k] for k in ("median_rps", "median_p50_ms", "median_p99_ms"))
            print(f"{scenario:<20} {rps:>9} ops/s  p50 {p50} ms  p99 {p99} ms", flush=True)
        rss = _rss_peak_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    machine = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    document = {
        "machine": machine,
        "db": args.db,
        "workers": args.workers,
        "peak_rss_mb": rss,
        "results": results,
    }
    (out_dir / "results.json").write_text(json.dumps(document, indent=2))
    (out_dir / "results.md").write_text(_table(document))
    return out_dir


def _table(document: dict[str, object]) -> str:
    rows = [
        f"tokenpath, {document['db']}, {document['workers']} worker(s); "
        f"peak RSS {document['peak_rss_mb']} MiB; machine: {document['machine']}",
        "",
        "| scenario | conc | ops/s (median) | p50 ms | p99 ms | server CPU ms/op | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in document["results"]:  # type: ignore[attr-defined]
        cpu = r["median_server_cpu_pct"]
        per_op = round(cpu * 10 / r["median_rps"], 3) if cpu and r["median_rps"] else None
        rows.append(
            f"| {r['scenario']} | {r['concurrency']} | {r['median_rps']} | {r['median_p50_ms']} | "
            f"{r['median_p99_ms']} | {per_op} | {r['total_errors']} |"
        )
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per measured repetition"
    )
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument(
        "--out", default="", help="results directory (default bench/results/<stamp>)"
    )
    print(f"results in {run(parser.parse_args())}")


if __name__ == "__main__":
    main()
