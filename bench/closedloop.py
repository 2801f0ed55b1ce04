"""Closed-loop load for what the peers' load generator cannot express: sign-ins and bearer GETs.

It imports that load generator (``loadgen.py``, by path) and reuses its minimal HTTP/1.1 client,
its measurement window and its CPU accounting, so its JSON summary has the same fields and its
figures are comparable with loadgen's: median ops/s over ``--repeat`` windows, p50/p99 of one
operation, errors, and the CPU share of this tool, the server process tree (``--server-pids``),
storage (``--aux-pids``) and everything else on the box.

Scenarios (one operation each):

* ``get``: ``GET --url``, answered 200;
* ``bearer``: ``GET --url`` with ``Authorization: Bearer <token from --token-file>``, answered 200;
* ``token`` / ``dpop_token``: ``POST --url`` (the token endpoint) with
  ``grant_type=client_credentials`` and HTTP Basic for the client in ``--client-file``
  (``{"client_id", "client_secret"}``), answered 200; ``dpop_token`` adds a fresh ES256 DPoP
  proof (RFC 9449) per request, made here with joserfc for ``POST --url``, and expects
  ``token_type: DPoP``. The two differ only by the proof, so their difference is its cost.
* ``login``: a fresh browser signs in: ``GET --url`` (the login page: CSRF cookie and hidden
  field), then ``POST`` username, password and CSRF token with the ``Origin`` and
  ``Sec-Fetch-Site`` headers a browser sends, answered 303 with a session cookie. Users come
  from ``--users-file`` (``{"prefix", "count", "password"}``) in rotation, ``prefix0`` first.

Every window is bounded by ``--duration`` and ``--max-requests``, every request by
``--timeout``, the whole run by a hard wall-clock cap. Loopback URLs only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import importlib.util
import itertools
import json
import re
import statistics
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
DEFAULT_LOADGEN = HERE.parent.parent / "shared" / "peers" / "loadgen.py"
FORM = "application/x-www-form-urlencoded"
_CSRF = re.compile(rb'name="csrf" value="([^"]+)"')
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def load_loadgen(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_loadgen", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import the load generator at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Ops:
    def __init__(self, args: argparse.Namespace, lg: ModuleType) -> None:
        self.a = args
        self.lg = lg
        self.url = args.url
        parts = urlsplit(args.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.headers: dict[str, str] = {}
        if args.scenario == "bearer":
            token = Path(args.token_file).read_text().strip()
            self.headers = {"Authorization": f"Bearer {token}"}
        if args.scenario == "dpop_get":  # a DPoP-bound token and its key: a fresh proof per GET
            from joserfc.jwk import ECKey

            held = json.loads(Path(args.token_file).read_text())
            self.key = ECKey.import_key(held["jwk"])
            self.jwk = dict(self.key.as_dict(private=False))
            self.access_token = str(held["access_token"])
            digest = hashlib.sha256(self.access_token.encode()).digest()
            self.ath = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if args.scenario in ("token", "dpop_token"):
            client = json.loads(Path(args.client_file).read_text())
            pair = f"{client['client_id']}:{client['client_secret']}".encode()
            self.headers = {
                "Authorization": "Basic " + base64.b64encode(pair).decode(),
                "Content-Type": FORM,
            }
            self.form = b"grant_type=client_credentials&scope=notes%3Aread"
            self.key: Any = None
            if args.scenario == "dpop_token":
                from joserfc.jwk import ECKey

                self.key = ECKey.generate_key("P-256", private=True)
                self.jwk = dict(self.key.as_dict(private=False))
        if args.scenario == "login":
            users = json.loads(Path(args.users_file).read_text())
            self.prefix, self.count = users["prefix"], int(users["count"])
            self.password = users["password"]
            self.next_user = itertools.count()

    async def get(self, c: Any, state: dict[str, Any]) -> None:
        status, _, body = await c.request("GET", self.url, self.headers or None)
        if status != 200:
            raise self.lg.HTTPError(f"GET {status}: {body[:200]!r}")

    def proof(self, method: str = "POST", **extra: str) -> str:
        from joserfc import jws

        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk}
        claims = {"jti": uuid.uuid4().hex, "htm": method, "htu": self.url, "iat": int(time.time())}
        return jws.serialize_compact(header, json.dumps({**claims, **extra}).encode(), self.key)

    async def dpop_get(self, c: Any, state: dict[str, Any]) -> None:
        headers = {
            "Authorization": f"DPoP {self.access_token}",
            "DPoP": self.proof("GET", ath=self.ath),
        }
        status, _, body = await c.request("GET", self.url, headers)
        if status != 200:
            raise self.lg.HTTPError(f"GET {status}: {body[:200]!r}")

    async def token(self, c: Any, state: dict[str, Any]) -> None:
        headers = dict(self.headers)
        if self.key is not None:
            headers["DPoP"] = self.proof()
        status, _, body = await c.request("POST", self.url, headers, self.form)
        expected = b'"DPoP"' if self.key is not None else b'"Bearer"'
        if status != 200 or expected not in body:
            raise self.lg.HTTPError(f"token {status}: {body[:200]!r}")

    async def login(self, c: Any, state: dict[str, Any]) -> None:
        c.cookies.clear()  # a browser that has never been here
        status, _, body = await c.request("GET", self.url)
        found = _CSRF.search(body)
        if status != 200 or found is None:
            raise self.lg.HTTPError(f"login page {status}: {body[:200]!r}")
        user = f"{self.prefix}{next(self.next_user) % self.count}"
        form = urlencode(
            {
                "username": user,
                "password": self.password,
                "csrf": found.group(1).decode(),
                "return_to": "/",
            }
        ).encode()
        headers = {"Content-Type": FORM, "Origin": self.origin, "Sec-Fetch-Site": "same-origin"}
        status, _, body = await c.request("POST", self.url, headers, form)
        jar = next(iter(c.cookies.values()), {})
        if status != 303 or not any(name.endswith("tp_session") for name in jar):
            raise self.lg.HTTPError(f"sign-in {status}: {body[:200]!r}")

    def op(self) -> Any:
        if self.a.scenario in ("token", "dpop_token"):
            return self.token
        if self.a.scenario == "dpop_get":
            return self.dpop_get
        return self.login if self.a.scenario == "login" else self.get


async def measure(a: argparse.Namespace, lg: ModuleType) -> dict[str, Any]:
    ops = Ops(a, lg)
    op = ops.op()
    clients = [lg.Client(a.timeout, None) for _ in range(a.concurrency)]
    states: list[dict[str, Any]] = [{} for _ in clients]
    if a.warmup > 0:
        _, werr, _ = await lg.run_window(clients, states, op, a.warmup, a.max_requests, False)
        if werr and len(werr) > 0.5 * a.concurrency:
            print(f"warm-up errors: {len(werr)} e.g. {werr[0]}", file=sys.stderr)
    pids = [int(p) for p in a.server_pids.split(",")] if a.server_pids else []
    aux = [int(p) for p in a.aux_pids.split(",")] if a.aux_pids else []
    reps = []
    for r in range(a.repeat):
        waited, pre_other = (0.0, None)
        if a.quiet_wait > 0:
            waited, pre_other = await lg.wait_quiet(a.quiet_wait, pids + aux)
        req0 = sum(c.requests for c in clients)
        c0, s0, x0, b0 = (
            time.process_time(),
            lg.proc_tree_cpu(pids),
            lg.proc_tree_cpu(aux),
            lg.box_cpu(),
        )
        lat, errors, wall = await lg.run_window(
            clients, states, op, a.duration, a.max_requests, True
        )
        cpu_c, cpu_s = time.process_time() - c0, lg.proc_tree_cpu(pids) - s0
        cpu_x, cpu_b = lg.proc_tree_cpu(aux) - x0, lg.box_cpu() - b0
        lat.sort()
        rep = {
            "ok": len(lat),
            "errors": len(errors),
            "wall_s": round(wall, 3),
            "rps": round(len(lat) / wall, 1),
            "http_rps": round((sum(c.requests for c in clients) - req0) / wall, 1),
            "p50_ms": round(lg.pct(lat, 0.50), 3),
            "p90_ms": round(lg.pct(lat, 0.90), 3),
            "p99_ms": round(lg.pct(lat, 0.99), 3),
            "max_ms": round(lat[-1] / 1e6, 3) if lat else None,
            "loadgen_cpu_pct": round(100 * cpu_c / wall, 1),
            "server_cpu_pct": round(100 * cpu_s / wall, 1) if pids else None,
            "storage_cpu_pct": round(100 * cpu_x / wall, 1) if aux else None,
            "box_cpu_pct": round(100 * cpu_b / wall, 1),
            "other_cpu_pct": round(100 * (cpu_b - cpu_c - cpu_s - cpu_x) / wall, 1),
            "quiet_wait_s": round(waited, 1),
            "pre_other_cpu_pct": None if pre_other is None else round(pre_other, 1),
        }
        if errors:
            rep["first_error"] = errors[0]
        reps.append(rep)
        if not a.quiet:
            print(
                f"  rep {r + 1}: {rep['rps']:.1f} ops/s  p50 {rep['p50_ms']:.2f} ms  "
                f"p99 {rep['p99_ms']:.2f} ms  err {rep['errors']}",
                file=sys.stderr,
            )
    for c in clients:
        c.close()

    def med(key: str) -> float | None:
        values = [r[key] for r in reps if r[key] is not None]
        return statistics.median(values) if values else None

    return {
        "label": a.label,
        "issuer": a.url,
        "scenario": a.scenario,
        "concurrency": a.concurrency,
        "duration_s": a.duration,
        "warmup_s": a.warmup,
        "repeat": a.repeat,
        "median_rps": med("rps"),
        "median_http_rps": med("http_rps"),
        "median_p50_ms": med("p50_ms"),
        "median_p99_ms": med("p99_ms"),
        "total_errors": sum(r["errors"] for r in reps),
        "median_loadgen_cpu_pct": med("loadgen_cpu_pct"),
        "median_server_cpu_pct": med("server_cpu_pct"),
        "median_storage_cpu_pct": med("storage_cpu_pct"),
        "median_box_cpu_pct": med("box_cpu_pct"),
        "median_other_cpu_pct": med("other_cpu_pct"),
        "reps": reps,
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--scenario",
        required=True,
        choices=["get", "bearer", "dpop_get", "login", "token", "dpop_token"],
    )
    p.add_argument("--url", required=True, help="the endpoint (login: the /login page)")
    p.add_argument(
        "--token-file",
        default="",
        help='bearer: file holding the access token; dpop_get: {"access_token", "jwk"}',
    )
    p.add_argument("--users-file", default="", help='login: {"prefix", "count", "password"}')
    p.add_argument("--client-file", default="", help='token: {"client_id", "client_secret"}')
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per repetition")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--max-requests", type=int, default=500_000, help="cap on ops per window")
    p.add_argument("--timeout", type=float, default=10.0, help="per HTTP request")
    p.add_argument("--server-pids", default="")
    p.add_argument("--aux-pids", default="")
    p.add_argument("--quiet-wait", type=float, default=8.0)
    p.add_argument("--loadgen", type=Path, default=DEFAULT_LOADGEN)
    p.add_argument("--label", default="")
    p.add_argument("--json-out", default="")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    if urlsplit(a.url).hostname not in LOOPBACK:
        p.error("loopback URLs only")
    if a.scenario == "bearer" and not a.token_file:
        p.error("--token-file is required for bearer")
    if a.scenario in ("token", "dpop_token") and not a.client_file:
        p.error("--client-file is required for token and dpop_token")
    if a.scenario == "login" and not a.users_file:
        p.error("--users-file is required for login")
    if not 1 <= a.concurrency <= 1024 or not 0 < a.duration <= 300 or a.repeat < 1:
        p.error("--concurrency 1..1024, --duration in (0, 300], --repeat >= 1")
    lg = load_loadgen(a.loadgen)
    if lg.uvloop is not None:
        lg.uvloop.install()
    hard_cap = a.warmup + a.repeat * (a.duration + a.quiet_wait + 60) + 120
    summary = asyncio.run(asyncio.wait_for(measure(a, lg), hard_cap))
    line = json.dumps(summary)
    print(line)
    if a.json_out:
        with open(a.json_out, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
