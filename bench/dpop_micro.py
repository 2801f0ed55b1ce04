"""DPoP CPU cost per proof (RFC 9449), in-process: making one, and checking one as the server does.

For each algorithm the server accepts, the median over ``--repeat`` rounds of ``--rounds``
operations each, in microseconds:

* ``create``: a client signs a proof (joserfc, the library the test clients use);
* ``verify``: ``tokenpath.core.dpop.verify_proof`` (header, key import, signature, claims,
  thumbprint), the server's whole CPU cost per proof but the replay-cache write;
* ``verify+replay``: the same plus ``refuse_replay`` on the in-memory cache (the SQL cache costs one
  upsert round trip more; see the ``dpop`` scenario of ``run.py`` for the whole token endpoint).

Bounded: at most ``--rounds`` x ``--repeat`` operations per cell, no network.
    .venv/bin/python bench/dpop_micro.py --rounds 200 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

from tokenpath.core.dpop import DPOP_ALGS, refuse_replay, verify_proof
from tokenpath.storage.memory import MemoryReplayCache

URL = "https://as.example/token"
KEYS: dict[str, Callable[[], Any]] = {
    "ES256": lambda: ECKey.generate_key("P-256", private=True),
    "EdDSA": lambda: OKPKey.generate_key("Ed25519", private=True),
    "RS256": lambda: RSAKey.generate_key(2048, private=True),
    "PS256": lambda: RSAKey.generate_key(2048, private=True),
}


def make_proof(alg: str, key: Any, jwk: dict[str, Any]) -> str:
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": jwk}
    claims = {"jti": uuid.uuid4().hex, "htm": "POST", "htu": URL, "iat": int(time.time())}
    return jws.serialize_compact(header, json.dumps(claims).encode(), key, algorithms=[alg])


def per_op_us(operation: Callable[[int], object], rounds: int, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        for i in range(rounds):
            operation(i)
        timings.append((time.perf_counter() - started) / rounds * 1e6)
    return round(statistics.median(timings), 1)


def measure(alg: str, rounds: int, repeat: int) -> dict[str, Any]:
    key = KEYS[alg]()
    jwk = dict(key.as_dict(private=False))
    now = int(time.time())
    proofs = [make_proof(alg, key, jwk) for _ in range(rounds)]
    cache = MemoryReplayCache()
    loop = asyncio.new_event_loop()

    def verify(i: int) -> object:
        return verify_proof(proofs[i], method="POST", url=URL, now=now)

    def verify_and_spend(i: int) -> object:
        proof = verify_proof(proofs[i], method="POST", url=URL, now=now)
        cache.rows.clear()  # each round re-spends the same proofs
        return loop.run_until_complete(refuse_replay(proof, cache, now=now))

    try:
        return {
            "alg": alg,
            "create_us": per_op_us(lambda i: make_proof(alg, key, jwk), rounds, repeat),
            "verify_us": per_op_us(verify, rounds, repeat),
            "verify_replay_us": per_op_us(verify_and_spend, rounds, repeat),
            "proof_bytes": len(proofs[0]),
        }
    finally:
        loop.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=200, help="operations per round (1..5000)")
    p.add_argument("--repeat", type=int, default=5, help="rounds per cell (1..50)")
    p.add_argument("--algs", nargs="+", default=list(DPOP_ALGS), choices=list(DPOP_ALGS))
    p.add_argument("--json", action="store_true", help="one JSON line per algorithm")
    a = p.parse_args(argv)
    if not 1 <= a.rounds <= 5000 or not 1 <= a.repeat <= 50:
        p.error("--rounds 1..5000, --repeat 1..50")
    warnings.simplefilter("ignore")  # joserfc flags "EdDSA" as superseded by "Ed25519" (RFC 9864)
    if not a.json:
        print("| alg | create µs | verify µs | verify + replay µs | proof bytes |")
        print("|---|---:|---:|---:|---:|")
    for alg in a.algs:
        row = measure(alg, a.rounds, a.repeat)
        if a.json:
            print(json.dumps(row))
        else:
            print(
                f"| {alg} | {row['create_us']} | {row['verify_us']} | "
                f"{row['verify_replay_us']} | {row['proof_bytes']} |"
            )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
