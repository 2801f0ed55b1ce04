"""How long a revoked JWT access token keeps working at an API that validates tokens locally.

Each trial: get an access token (client credentials), check that a running validator accepts
it, wait a random pause of up to ``--spread`` seconds (so the revocation falls at a random point
of the feed's poll cycle), revoke it at the authorization server (``POST /revoke``), then ask the
validator again every ``--check-every`` seconds until it refuses. The delay runs from the moment
``/revoke`` answered to the first refusal. The validators are the library's own, run as an API
runs them: ``JwtValidator`` with a ``RevocationFeed`` polling in an asyncio task (``async``), and
``SyncJwtValidator`` with the feed in a thread (``thread``). The feed authenticates with the
API's credentials (``tokenpath api add ... --json``); tokens come from a separate confidential
client allowed the client-credentials grant on that API.

Target (issue 13): p99 under 2 s on loopback, with zero calls to the authorization server per
validation. The last line counts the validator's calls (JWKS fetches, feed polls) against the
validations it made, to show it.

    .venv/bin/python bench/revocation_delay.py --issuer http://127.0.0.1:9000 \\
        --client-id API_CLIENT_ID --client-secret API_SECRET \\
        --token-client-id MACHINE_ID --token-client-secret MACHINE_SECRET \\
        --resource https://notes.example --trials 50

Every loop is bounded (``--trials``, ``--timeout`` per trial); all traffic goes to ``--issuer``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field

import httpx

from tokenpath.core.errors import InvalidToken
from tokenpath.resource import JwtValidator, RevocationFeed, SyncJwtValidator
from tokenpath.resource.validation import AccessToken


@dataclass
class Outcome:
    mode: str
    delays: list[float] = field(default_factory=list)
    timeouts: int = 0
    validations: int = 0
    jwks_fetches: int = 0
    feed_polls: int = 0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the delays, in seconds."""
        ordered = sorted(self.delays)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    def summary(self) -> str:
        if not self.delays:
            return f"{self.mode:7} no trial finished ({self.timeouts} timed out)"
        ms = [1000 * self.percentile(p) for p in (50, 95, 99, 100)]
        return (
            f"{self.mode:7} n={len(self.delays):<4} p50 {ms[0]:7.1f} ms  p95 {ms[1]:7.1f} ms  "
            f"p99 {ms[2]:7.1f} ms  max {ms[3]:7.1f} ms  timeouts {self.timeouts}  |  "
            f"{self.validations} validations, {self.jwks_fetches} JWKS fetches, "
            f"{self.feed_polls} feed polls"
        )


class Server:
    """The authorization server, as the token client sees it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.http = httpx.Client(
            base_url=args.issuer.rstrip("/"),
            auth=(args.token_client_id, args.token_client_secret),
            timeout=10,
        )

    def token(self) -> str:
        form = {"grant_type": "client_credentials", "scope": self.args.scope}
        if self.args.resource:
            form["resource"] = self.args.resource
        response = self.http.post("/token", data=form)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def revoke(self, token: str) -> None:
        form = {"token": token, "token_type_hint": "access_token"}
        self.http.post("/revoke", data=form).raise_for_status()


def feed_of(args: argparse.Namespace) -> RevocationFeed:
    return RevocationFeed(
        issuer=args.issuer,
        client_id=args.client_id,
        client_secret=args.client_secret,
        endpoint=args.feed_endpoint,
    )


def run_thread(args: argparse.Namespace, server: Server) -> Outcome:
    outcome = Outcome("thread")
    feed = feed_of(args)
    validator = SyncJwtValidator(
        issuer=args.issuer, audience=args.audience, revocations=feed, cache_seconds=30
    )
    with feed:
        for _ in range(args.trials):
            token = server.token()
            outcome.validations += 1
            if not isinstance(validator.validate(token), AccessToken):
                sys.exit("the validator refused a fresh token: check --audience and --issuer")
            time.sleep(random.uniform(0, args.spread))
            server.revoke(token)
            start = time.perf_counter()
            while time.perf_counter() - start < args.timeout:
                outcome.validations += 1
                if isinstance(validator.validate(token), InvalidToken):
                    outcome.delays.append(time.perf_counter() - start)
                    break
                time.sleep(args.check_every)
            else:
                outcome.timeouts += 1
    outcome.jwks_fetches, outcome.feed_polls = validator.jwks.fetches, feed.polls
    return outcome


async def run_async(args: argparse.Namespace, server: Server) -> Outcome:
    outcome = Outcome("async")
    feed = feed_of(args)
    validator = JwtValidator(
        issuer=args.issuer, audience=args.audience, revocations=feed, cache_seconds=30
    )
    async with feed:
        for _ in range(args.trials):
            token = await asyncio.to_thread(server.token)
            outcome.validations += 1
            if not isinstance(await validator.validate(token), AccessToken):
                sys.exit("the validator refused a fresh token: check --audience and --issuer")
            await asyncio.sleep(random.uniform(0, args.spread))
            await asyncio.to_thread(server.revoke, token)
            start = time.perf_counter()
            while time.perf_counter() - start < args.timeout:
                outcome.validations += 1
                if isinstance(await validator.validate(token), InvalidToken):
                    outcome.delays.append(time.perf_counter() - start)
                    break
                await asyncio.sleep(args.check_every)
            else:
                outcome.timeouts += 1
    outcome.jwks_fetches, outcome.feed_polls = validator.jwks.fetches, feed.polls
    return outcome


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--client-id", required=True, help="the API's client_id (feed)")
    parser.add_argument("--client-secret", required=True, help="the API's client_secret (feed)")
    parser.add_argument("--token-client-id", required=True, help="a client-credentials client")
    parser.add_argument("--token-client-secret", required=True)
    parser.add_argument("--resource", help="the API identifier to ask tokens for (RFC 8707)")
    parser.add_argument("--audience", help="the aud the validator expects (default: --resource)")
    parser.add_argument("--scope", default="notes:read")
    parser.add_argument("--feed-endpoint", help="default: from the server's metadata")
    parser.add_argument("--mode", choices=["async", "thread", "both"], default="both")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per trial")
    parser.add_argument("--check-every", type=float, default=0.005, help="seconds")
    parser.add_argument(
        "--spread",
        type=float,
        default=1.0,
        help="revoke after a random pause of up to this many seconds, so revocations fall at "
        "random points of the feed's poll cycle (0: right after a refusal, the worst phase)",
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    args.audience = args.audience or args.resource
    if not args.audience:
        parser.error("give --resource or --audience")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    server = Server(args)
    outcomes = []
    if args.mode in ("async", "both"):
        outcomes.append(asyncio.run(run_async(args, server)))
    if args.mode in ("thread", "both"):
        outcomes.append(run_thread(args, server))
    print(f"revocation delay, {args.trials} trials per mode, issuer {args.issuer}")
    for outcome in outcomes:
        print(outcome.summary())
    if args.json:
        with open(args.json, "w") as out:
            json.dump([asdict(o) for o in outcomes], out, indent=2)


if __name__ == "__main__":
    main()
