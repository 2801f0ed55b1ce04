"""Benchmark tokenpath the way operators size it: real server, real database, loopback load.

``make bench`` starts ``tokenpath serve`` on a fresh database, seeds a client, users and signed-in
sessions with remembered consent (untimed, through the same core functions the login and consent
forms call: no benchmark-only hook in the server), and measures each scenario with the peers'
load generator (``../shared/peers/loadgen.py``) or, for what it cannot express (sign-ins, bearer
GETs), with ``bench/closedloop.py``, which reuses its client and accounting. Options add:

* ``--concurrency 8,32``: every scenario at each concurrency;
* ``--grow 10000,1000000``: bulk-insert that many grants (+ access/refresh tokens and codes)
  before measuring, level by level, then time ``tokenpath db cleanup`` once;
* ``--peers node,node2,node-opaque,authlib``: the peer servers, set up in ``bench/.peers``, measured
  in the same run with the same tool, for a tokenpath / peer ratio per scenario.

Writes ``results.json`` (every summary with its repetitions, the machine, the set-up) and
``results.md`` under ``bench/results/<stamp>/`` (or ``--out``). Every load window is bounded by
``--duration`` and a request cap; all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import grow
import httpx
import machine
import peers
import report

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_PEERS_DIR = ROOT.parent / "shared" / "peers"
LOADGEN_SCENARIOS = ("client_credentials", "auth_code", "refresh_token", "introspection")
SCENARIOS = (*LOADGEN_SCENARIOS, "discovery", "jwks", "resource", "login", "dpop")
STORE_FREE = ("discovery", "resource")
"""Scenarios that read nothing that grows: measured at the first growth level only."""
REDIRECT_URI = "http://127.0.0.1:7999/cb"
METADATA = "/.well-known/oauth-authorization-server"


def log(message: str) -> None:
    print(message, flush=True)


def loud(message: str) -> None:
    bar = "!" * 78
    print(f"{bar}\n!! {message}\n{bar}", file=sys.stderr, flush=True)


# --- processes ----------------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        p = stack.pop()
        found.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        stack.extend(int(c) for c in children)
    return found


def rss_peak_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) summed over a process tree, in MiB."""
    total = 0
    for p in _descendants(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def wait_http(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {seconds:.0f} s")


@contextmanager
def serving(
    command: list[str], env: dict[str, str], url: str, name: str
) -> Iterator[subprocess.Popen[bytes]]:
    if peers.port_busy(int(url.split(":")[2].split("/")[0])):
        raise RuntimeError(f"{name}: the port of {url} is already in use; pick another --port")
    descriptor, name_of_log = tempfile.mkstemp(prefix="tokenpath-bench-", suffix=".log")
    os.close(descriptor)
    log_path = Path(name_of_log)
    with log_path.open("wb") as log_file:  # a file, not a pipe nobody drains during the run
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        try:
            wait_http(url, process)
        except RuntimeError as error:
            process.terminate()
            process.wait(timeout=30)
            err = log_path.read_text(errors="replace")[-1500:]
            raise RuntimeError(f"{name}: {error}\n{err}") from None
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log_path.unlink(missing_ok=True)


def psql(sql: str, database: str = "test") -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qc", sql],
        check=True,
        timeout=600,
    )


# --- one measurement ------------------------------------------------------------------------


class Measure:
    """Runs loadgen / closedloop with the run's bounds and returns their JSON summaries."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.loadgen = args.peers_dir / "loadgen.py"
        self.serial = 0

    def _bounds(self, concurrency: int) -> list[str]:
        a = self.args
        return [
            "--concurrency", str(concurrency), "--duration", str(a.duration),
            "--warmup", str(a.warmup), "--repeat", str(a.repeat),
            "--max-requests", str(a.max_requests), "--quiet-wait", str(a.quiet_wait),
        ]  # fmt: skip

    def _run(self, command: list[str], pids: list[int], aux: list[int], label: str) -> dict:
        self.serial += 1
        out = self.work / f"m{self.serial}.jsonl"
        command = [
            *command, "--label", label, "--json-out", str(out), "--quiet",
            "--server-pids", ",".join(map(str, pids)),
        ]  # fmt: skip
        if aux:
            command += ["--aux-pids", ",".join(map(str, aux))]
        a = self.args
        timeout = a.warmup + a.repeat * (a.duration + a.quiet_wait + 60) + 240
        done = subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, check=False
        )
        if done.returncode != 0 or not out.exists():
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"exit {done.returncode}: {' | '.join(tail)[-600:]}")
        summary: dict[str, Any] = json.loads(out.read_text().splitlines()[-1])
        return summary

    def loadgen_run(
        self,
        scenario: str,
        concurrency: int,
        *,
        issuer: str = "",
        url: str = "",
        extra: list[str] | None = None,
        pids: list[int],
        aux: list[int],
        label: str,
    ) -> dict:
        command = [sys.executable, str(self.loadgen), "--scenario", scenario]
        command += ["--url", url] if scenario == "hello" else ["--issuer", issuer]
        command += [*(extra or []), *self._bounds(concurrency)]
        return self._run(command, pids, aux, label)

    def closedloop_run(
        self,
        scenario: str,
        concurrency: int,
        *,
        url: str,
        extra: list[str],
        pids: list[int],
        aux: list[int],
        label: str,
    ) -> dict:
        command = [
            sys.executable, str(HERE / "closedloop.py"), "--scenario", scenario, "--url", url,
            "--loadgen", str(self.loadgen), *extra, *self._bounds(concurrency),
        ]  # fmt: skip
        return self._run(command, pids, aux, label)


def _record(
    results: list[dict],
    target: str,
    scenario: str,
    concurrency: int,
    level: int,
    run: Any,
) -> None:
    """Run one measurement; keep its summary, or the reason it failed, and say so."""
    started = time.monotonic()
    try:
        summary = run()
    except Exception as error:  # one failed cell must not end the run
        summary = {"error": str(error) or repr(error), "median_rps": None}
        loud(f"{target} {scenario} c={concurrency} failed: {summary['error']}")
    summary.update(
        target=target, scenario=scenario, concurrency=concurrency, level=level,
        loadgen_scenario=summary.get("scenario"),
    )  # fmt: skip
    results.append(summary)
    if not summary.get("error"):
        errors = summary.get("total_errors") or 0
        log(
            f"  {target:<11} {scenario:<18} c={concurrency:<3} {summary['median_rps']:>9} ops/s"
            f"  p50 {summary['median_p50_ms']} ms  p99 {summary['median_p99_ms']} ms"
            + (
                f"  ERRORS {errors}: "
                + next((r["first_error"][:120] for r in summary["reps"] if "first_error" in r), "")
                if errors
                else ""
            )
            + f"  ({time.monotonic() - started:.0f} s)"
        )


# --- tokenpath ------------------------------------------------------------------------------


class Tokenpath:
    def __init__(self, args: argparse.Namespace, work: Path, measure: Measure) -> None:
        self.args = args
        self.work = work
        self.measure = measure
        self.issuer = f"http://127.0.0.1:{args.port}"
        self.resource = f"http://127.0.0.1:{args.port + 1}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}
        self.env |= {
            "TOKENPATH_ISSUER": self.issuer,
            "TOKENPATH_DATA_DIR": str(work),
            "TOKENPATH_PORT": str(args.port),
            "TOKENPATH_AUDIENCE": self.resource,
        }
        self.database = ""
        self.aux: list[int] = []
        if args.db == "postgresql":
            self.database = f"tp_bench_{os.getpid()}_{int(time.time())}"
            self.env["TOKENPATH_DATABASE_URL"] = (
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.database}"
            )
            self.aux = machine.storage_pids("postgresql")
        self.url = self.env.get("TOKENPATH_DATABASE_URL") or (
            f"sqlite+aiosqlite:///{work / 'tokenpath.db'}"
        )
        self.creds: dict[str, Any] = {}
        self.peak_rss = 0.0
        self.tokenpath = [sys.executable, "-m", "tokenpath"]

    def prepare(self) -> None:
        if self.database:
            psql(f'CREATE DATABASE "{self.database}"')
        subprocess.run(
            [*self.tokenpath, "db", "upgrade"], env=self.env, check=True,
            stdout=subprocess.DEVNULL, timeout=300,
        )  # fmt: skip
        users = self.args.login_users if "login" in self.args.scenarios else 0
        seeded = subprocess.run(
            [sys.executable, str(HERE / "seed.py"),
             "--sessions", str(max(self.args.concurrency)), "--users", str(users),
             "--cookies-file", str(self.work / "cookies.txt")],
            env=self.env, check=True, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        self.creds = json.loads(seeded.stdout.strip().splitlines()[-1])
        users_file = self.work / "users.json"
        users_file.write_text(
            json.dumps({"prefix": self.creds["user_prefix"], "count": users,
                        "password": "bench-password"})
        )  # fmt: skip
        users_file.chmod(0o600)

    def close(self) -> None:
        if self.database:
            try:
                psql(f'DROP DATABASE IF EXISTS "{self.database}"')
            except (subprocess.SubprocessError, OSError) as error:
                loud(f"could not drop the bench database {self.database}: {error}")

    def server(self) -> Any:
        command = [*self.tokenpath, "serve", "--port", str(self.args.port)]
        command += ["--workers", str(self.args.workers)]
        return serving(command, self.env, self.issuer + METADATA, "tokenpath serve")

    def resource_app(self, jwks_uri: str) -> Any:
        env = self.env | {
            "BENCH_ISSUER": self.issuer,
            "BENCH_AUDIENCE": self.resource,
            "BENCH_JWKS_URI": jwks_uri,
        }
        command = [
            sys.executable, "-m", "uvicorn", "resource_app:app", "--app-dir", str(HERE),
            "--host", "127.0.0.1", "--port", str(self.args.port + 1),
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        return serving(command, env, self.resource + "/bare/notes", "bench resource app")

    def access_token(self) -> Path:
        """A fresh JWT access token (client_credentials, notes:read) in a private file."""
        response = httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "scope": "notes:read"},
            auth=(self.creds["client_id"], self.creds["client_secret"]),
            timeout=10,
        )
        response.raise_for_status()
        path = self.work / "token.txt"
        path.write_text(response.json()["access_token"])
        path.chmod(0o600)
        return path

    def dpop_access_token(self) -> Path:
        """A fresh DPoP-bound access token and its private key (ES256), in a private file."""
        from joserfc import jwt
        from joserfc.jwk import ECKey

        key = ECKey.generate_key("P-256", private=True)
        url = f"{self.issuer}/token"
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
        now = int(time.time())
        claims = {"jti": secrets.token_urlsafe(16), "htm": "POST", "htu": url, "iat": now}
        response = httpx.post(
            url,
            data={"grant_type": "client_credentials", "scope": "notes:read"},
            auth=(self.creds["client_id"], self.creds["client_secret"]),
            headers={"DPoP": jwt.encode(header, claims, key)},
            timeout=10,
        )
        response.raise_for_status()
        held = {"access_token": response.json()["access_token"], "jwk": key.as_dict(private=True)}
        path = self.work / "dpop_token.json"
        path.write_text(json.dumps(held))
        path.chmod(0o600)
        return path

    def measure_level(self, level: int, results: list[dict], *, first: bool) -> None:
        a, m = self.args, self.measure
        creds = [
            "--client-id", self.creds["client_id"], "--client-secret", self.creds["client_secret"],
            "--scope", "notes:read", "--code-scope", "openid notes:read",
            "--redirect-uri", REDIRECT_URI, "--cookies-file", str(self.work / "cookies.txt"),
            "--user-header", "",
        ]  # fmt: skip
        label = f"tokenpath-{a.db}-w{a.workers}"
        with self.server() as server:
            common = {"pids": [server.pid], "aux": self.aux, "label": label}
            metadata = httpx.get(self.issuer + METADATA, timeout=5).json()
            urls = {"discovery": self.issuer + METADATA, "jwks": metadata["jwks_uri"]}
            for scenario in a.scenarios:
                if scenario in STORE_FREE and not first:
                    continue
                if scenario == "resource":
                    self._resource(level, results, metadata["jwks_uri"], label)
                    continue
                if scenario == "dpop":
                    self._dpop(level, results, common)
                    continue
                for c in a.concurrency:
                    if scenario in LOADGEN_SCENARIOS:
                        run = partial(
                            m.loadgen_run, scenario, c, issuer=self.issuer, extra=creds, **common
                        )
                    elif scenario in urls:
                        run = partial(m.loadgen_run, "hello", c, url=urls[scenario], **common)
                    else:  # login
                        users = ["--users-file", str(self.work / "users.json")]
                        url = f"{self.issuer}/login"
                        run = partial(m.closedloop_run, "login", c, url=url, extra=users, **common)
                    _record(results, "tokenpath", scenario, c, level, run)
            self.peak_rss = max(self.peak_rss, rss_peak_mb(server.pid))

    def _resource(self, level: int, results: list[dict], jwks_uri: str, label: str) -> None:
        """The same handler bare, behind JWT validation, and the demo API's own endpoint."""
        try:
            app = self.resource_app(jwks_uri)
            process = app.__enter__()
        except Exception as error:  # reported; the run goes on
            for c in self.args.concurrency:
                _record(results, "tokenpath", "resource_jwt", c, level, partial(_raise, error))
            return
        common = {"pids": [process.pid], "aux": [], "label": f"{label}-resource"}
        try:
            for c in self.args.concurrency:
                token = ["--token-file", str(self.access_token())]
                bound = ["--token-file", str(self.dpop_access_token())]
                cells = (
                    ("resource_bare", "get", "/bare/notes", []),
                    ("resource_jwt", "bearer", "/jwt/notes", token),
                    ("resource_dpop", "dpop_get", "/jwt/notes", bound),
                    ("resource_demo", "bearer", "/demo/api/notes", token),
                )
                for name, kind, path, extra in cells:
                    url = self.resource + path
                    run = partial(
                        self.measure.closedloop_run, kind, c, url=url, extra=extra, **common
                    )
                    _record(results, "tokenpath", name, c, level, run)
        finally:
            app.__exit__(None, None, None)

    def _dpop(self, level: int, results: list[dict], common: dict[str, Any]) -> None:
        """client_credentials with and without a DPoP proof, by the same closed-loop tool, so
        the difference is the proof alone (made by the tool, checked by the server)."""
        client = self.work / "client.json"
        client.write_text(json.dumps({k: self.creds[k] for k in ("client_id", "client_secret")}))
        client.chmod(0o600)
        url = f"{self.issuer}/token"
        for c in self.args.concurrency:
            for name, kind in (("cc_closedloop", "token"), ("cc_dpop", "dpop_token")):
                extra = ["--client-file", str(client)]
                run = partial(self.measure.closedloop_run, kind, c, url=url, extra=extra, **common)
                _record(results, "tokenpath", name, c, level, run)

    def cleanup_time(self, level: int) -> dict[str, Any]:
        started = time.perf_counter()
        done = subprocess.run(
            [*self.tokenpath, "db", "cleanup"], env=self.env, capture_output=True, text=True,
            timeout=3600, check=False,
        )  # fmt: skip
        seconds = round(time.perf_counter() - started, 1)
        result = {"level": level, "seconds": seconds, "returncode": done.returncode}
        if done.returncode == 0:
            result["output"] = done.stdout.strip().splitlines()[-1]
        else:
            result["error"] = done.stderr.strip()[-600:]
        return result


def _raise(error: Exception) -> None:
    raise error


def run_tokenpath(args: argparse.Namespace, work: Path, results: list[dict]) -> dict[str, Any]:
    measure = Measure(args, work)
    tp = Tokenpath(args, work, measure)
    out: dict[str, Any] = {"growth": [], "cleanup": None, "argon2": None, "errors": []}
    try:
        log(f"tokenpath: {args.db}, {args.workers} worker(s), issuer {tp.issuer}; seeding")
        try:
            tp.prepare()
        except (subprocess.SubprocessError, OSError, ValueError, KeyError) as error:
            detail = getattr(error, "stderr", None) or ""
            loud(f"tokenpath could not be set up: {error} {str(detail)[-800:]}")
            out["errors"].append(f"set-up: {error} {str(detail)[-800:]}")
            out["peak_rss_mb"] = None
            return out
        levels = args.grow or [0]
        grown = 0
        for level in levels:
            if args.grow:
                log(f"growth level {level:,}: adding {max(level - grown, 0):,} grants")
                info = asyncio.run(
                    grow.grow(
                        tp.url,
                        rows=max(level - grown, 0),
                        client_id=tp.creds["client_id"],
                        serial=grown,
                        progress=True,
                    )
                )
                grown = max(level, grown)
                out["growth"].append({"level": level, **info})
                log(f"  done in {info['seconds']} s; rows {info['rows']}")
            try:
                tp.measure_level(level, results, first=level == levels[0])
            except (RuntimeError, OSError, httpx.HTTPError) as error:  # the server did not serve
                loud(f"tokenpath could not be measured at level {level:,}: {error}")
                out["errors"].append(f"level {level:,}: {error}")
        if args.grow:
            log("timing `tokenpath db cleanup` on the grown database")
            out["cleanup"] = tp.cleanup_time(levels[-1])
            log(f"  {out['cleanup']}")
        if "login" in args.scenarios:
            log("raw argon2id in-process (server stopped)")
            out["argon2"] = machine.argon2_rate(
                tp.creds["argon2"],
                seconds=min(args.duration, 5.0),
                repeat=args.repeat,
                quiet_wait=args.quiet_wait,
            )
            log(f"  {out['argon2']}")
    finally:
        tp.close()
    out["peak_rss_mb"] = tp.peak_rss
    return out


# --- peers ----------------------------------------------------------------------------------


def run_peers(
    args: argparse.Namespace, work: Path, results: list[dict], setup: peers.SetupReport
) -> dict[str, Any]:
    measure = Measure(args, work)
    measure.loadgen = peers.PEERS_DIR / "loadgen.py"
    status: dict[str, Any] = {}
    for name in args.peers:
        peer = peers.PEERS.get(name)
        status[name] = {
            "ok": False,
            "what": peer.what if peer else None,
            "storage": peer.storage if peer else None,
            "notes": peer.notes if peer else "",
            "scenarios": [s for s in args.scenarios if peer and s in peer.scenarios],
        }
        if name in setup.problems or peer is None:
            status[name]["problem"] = setup.problems.get(name, "unknown peer")
            loud(f"peer {name} is not measured: {status[name]['problem']}")
            continue
        log(f"peer {name}: starting")
        started = peers.start(name)
        if isinstance(started, str):
            status[name]["problem"] = started
            loud(f"peer {name} did not start: {started}")
            continue
        pid, metadata = started
        issuer = f"http://127.0.0.1:{peer.port}"
        aux = machine.storage_pids(peer.storage)
        common = {"pids": [pid], "aux": aux, "label": name}
        creds = ["--client-id", peers.CLIENT_ID, "--client-secret", peers.CLIENT_SECRET]
        urls = {
            "discovery": issuer + "/.well-known/openid-configuration",
            "jwks": str(metadata.get("jwks_uri", issuer + "/jwks")),
        }
        try:
            for scenario in [s for s in args.scenarios if s in peer.scenarios]:
                for c in args.concurrency:
                    if scenario in LOADGEN_SCENARIOS:
                        run = partial(
                            measure.loadgen_run, scenario, c, issuer=issuer, extra=creds, **common
                        )
                    else:
                        run = partial(measure.loadgen_run, "hello", c, url=urls[scenario], **common)
                    _record(results, name, scenario, c, 0, run)
            status[name]["peak_rss_mb"] = rss_peak_mb(pid)
            status[name]["ok"] = True
        finally:
            peers.stop(name, pid)
            log(f"peer {name}: stopped")
    return status


# --- the run --------------------------------------------------------------------------------


def _ints(value: str) -> list[int]:
    try:
        numbers = sorted({int(v.replace("_", "")) for v in value.split(",") if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {value}") from None
    if not numbers or numbers[0] < 0:
        raise argparse.ArgumentTypeError(f"need non-negative integers: {value}")
    return numbers


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def run(args: argparse.Namespace) -> Path:
    if not (args.peers_dir / "loadgen.py").exists():
        raise SystemExit(f"load generator not found at {args.peers_dir / 'loadgen.py'}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_dir = Path(args.out or HERE / "results" / stamp)
    out_dir.mkdir(parents=True, exist_ok=True)
    setup = peers.SetupReport()
    if args.peers:
        log(f"peers: setting up {', '.join(args.peers)} in {peers.PEERS_DIR}")
        setup = peers.setup(args.peers_dir, args.peers)
        for name, problem in setup.problems.items():
            loud(f"peer {name} cannot run: {problem}")
    log("describing the machine (2 s load sample)")
    uses_node = any(p.startswith("node") for p in args.peers)
    description = machine.describe(
        postgres=args.db == "postgresql" or "authlib" in args.peers,
        redis=uses_node,
        node=uses_node,
    )
    load = description["load_before"]
    log(f"  {description['cpu_model']}, {description['cores']} cores; other CPU before the run "
        f"{load['other_cpu_pct']} % of one core")  # fmt: skip
    if load["other_cpu_pct"] > 25:
        loud(f"the box is busy before the run: {load['busiest'][:3]}; figures will be lower")
    results: list[dict] = []
    work = Path(tempfile.mkdtemp(prefix="tokenpath-bench-"))
    try:
        tokenpath = run_tokenpath(args, work, results)
        peer_status = run_peers(args, work, results, setup) if args.peers else {}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    document = {
        "format": 2,
        "stamp": stamp,
        "machine": description,
        "db": args.db,
        "workers": args.workers,
        "peak_rss_mb": tokenpath["peak_rss_mb"],
        "settings": {
            "scenarios": args.scenarios,
            "concurrency": args.concurrency,
            "duration": args.duration,
            "warmup": args.warmup,
            "repeat": args.repeat,
            "max_requests": args.max_requests,
            "quiet_wait": args.quiet_wait,
            "grow": args.grow,
            "login_users": args.login_users,
            "peers": args.peers,
        },
        "tokenpath_errors": tokenpath["errors"],
        "growth": tokenpath["growth"],
        "cleanup": tokenpath["cleanup"],
        "argon2": tokenpath["argon2"],
        "peers": peer_status,
        "peers_setup_log": setup.log,
        "results": results,
    }
    (out_dir / "results.json").write_text(json.dumps(document, indent=2))
    (out_dir / "results.md").write_text(report.render(document))
    failed = [r for r in results if r.get("error")]
    failed_peers = [n for n, p in peer_status.items() if not p.get("ok")]
    if failed or failed_peers:
        loud(
            f"{len(failed)} measurement(s) failed"
            + (f"; peers not measured: {', '.join(failed_peers)}" if failed_peers else "")
            + f" (see {out_dir / 'results.md'})"
        )
    return out_dir


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--scenarios", nargs="+", default=list(SCENARIOS),
        help=f"any of {', '.join(SCENARIOS)} (space- or comma-separated; default all)",
    )  # fmt: skip
    parser.add_argument(
        "--concurrency", type=_ints, default=[8], help="virtual users, e.g. 8 or 8,32"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per repetition")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument("--max-requests", type=int, default=500_000, help="cap per window")
    parser.add_argument(
        "--quiet-wait", type=float, default=8.0,
        help="before each repetition wait up to this long for other CPU use < 25%% of a core",
    )  # fmt: skip
    parser.add_argument(
        "--grow", type=_ints, default=[], help="growth levels in grants, e.g. 10000,1000000"
    )
    parser.add_argument("--login-users", type=int, default=2000, help="users for login")
    parser.add_argument(
        "--peers", type=_names, default=[],
        help=f"peer servers to measure too: {','.join(peers.PEERS)}",
    )  # fmt: skip
    parser.add_argument("--peers-dir", type=Path, default=DEFAULT_PEERS_DIR)
    parser.add_argument("--port", type=int, default=9100, help="tokenpath; the API gets +1")
    parser.add_argument("--out", default="", help="results directory (default results/<stamp>)")
    args = parser.parse_args()
    args.scenarios = [s for item in args.scenarios for s in _names(item)]
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(
            f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}"
        )
    unknown = sorted(set(args.peers) - set(peers.PEERS))
    if unknown:
        parser.error(f"unknown peer(s) {', '.join(unknown)}; choose from {', '.join(peers.PEERS)}")
    if args.duration <= 0 or args.duration > 300 or args.repeat < 1 or args.warmup < 0:
        parser.error("--duration in (0, 300], --repeat >= 1, --warmup >= 0")
    if args.concurrency[0] < 1 or args.concurrency[-1] > 1024:
        parser.error("--concurrency values must be 1..1024")
    out_dir = run(args)
    log(f"results in {out_dir}")
    log((out_dir / "results.md").read_text())


if __name__ == "__main__":
    main()
