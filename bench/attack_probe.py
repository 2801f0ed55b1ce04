"""Black-box probes of the security review's findings against a real ``tokenpath serve``.

Usage: ``python bench/attack_probe.py CHECKOUT [--port 9400]`` (``PROBE_KEK=<key>`` sets a
key-encryption key). It starts ``CHECKOUT/.venv/bin/tokenpath serve`` on a fresh SQLite data
directory on loopback, seeds users and clients through the CLI, then: 30 concurrent wrong passwords
for one user, the database's file modes and whether a private key is readable in it, a
``private_key_jwt`` assertion with a list audience and a replayed one, a replayed code and a reused
refresh token after a real sign-in, a 12 KB ``client_id``; and counts the security events in the
server's log. Pointed at two checkouts it shows a change before and after. Every loop is bounded;
all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import sqlite3
import stat
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

SEED = r"""
import asyncio, json, sys
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import register_client
try:
    from tokenpath.runtime import load_settings, opened
except ImportError:
    from tokenpath.cli import load_settings, opened
async def main():
    async with opened(load_settings()) as ctx:
        c, _ = await register_client(ctx=ctx, name="pkjwt", client_type=ClientType.CONFIDENTIAL,
            redirect_uris=[], scopes=["notes:read"], grant_types=[GrantType.CLIENT_CREDENTIALS],
            token_endpoint_auth_method="private_key_jwt", jwks=sys.argv[1])
        print(c.client_id)
asyncio.run(main())
"""


def run(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise SystemExit(f"{cmd} failed: {done.stderr}")
    return done.stdout


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), []))
        elif tag in ("input", "button") and self.forms and a.get("name"):
            self.forms[-1][1].append((a["name"], a.get("value", "")))


def forms(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def code_flow(base: str, client_id: str, secret: str, user: str) -> dict[str, str]:
    """Sign in as ``user`` (a real browser's steps), approve, redeem: the token response."""
    redirect = "https://app.example/cb"
    with httpx.Client(base_url=base, timeout=30) as b:
        action, fields = forms(b.get("/login").text)[0]
        data = dict(fields) | {"username": user, "password": "wonderland", "return_to": "/"}
        assert b.post("/login", data=data, headers={"Origin": base}).status_code == 303
        page = b.get(
            "/authorize",
            params={
                "client_id": client_id,
                "response_type": "code",
                "redirect_uri": redirect,
                "scope": "notes:read",
                "state": "s1",
            },
        )
        answer = page
        if page.status_code == 200:  # the consent page (the first time only)
            action, fields = forms(page.text)[0]
            data = [(k, v) for k, v in fields if k != "decision"] + [("decision", "approve")]
            answer = b.post(
                action,
                content=urlencode(data),
                headers={"Origin": base, "Content-Type": "application/x-www-form-urlencoded"},
            )
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
    first = httpx.post(f"{base}/token", data=form, auth=(client_id, secret)).json()
    first["code"] = code
    return first


async def _sign_in(base: str, user: str, password: str, address: str) -> tuple[int, float]:
    """One browser's GET + POST /login from ``address`` (X-Forwarded-For); status and seconds."""
    headers = {"X-Forwarded-For": address}
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as c:
        page = await c.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        data = {"username": user, "password": password, "return_to": "/"}
        data["csrf"] = token.group(1) if token else ""
        start = time.perf_counter()
        r = await c.post("/login", data=data, headers={"Origin": base})
        return r.status_code, time.perf_counter() - start


async def flood_with_victim(base: str, attempts: int, concurrency: int) -> dict[str, object]:
    """Unknown user names from many addresses (an argon2 flood) while a real user signs in."""
    gate = asyncio.Semaphore(concurrency)

    async def attacker(i: int) -> int:
        async with gate:
            status, _ = await _sign_in(base, f"nobody{i}", "guess", f"198.51.{i // 250}.{i % 250}")
            return status

    async def victim() -> list[tuple[int, float]]:
        await asyncio.sleep(0.5)
        return [await _sign_in(base, "carol", "wonderland", "203.0.113.5") for _ in range(3)]

    flood = asyncio.gather(*(attacker(i) for i in range(attempts)))
    statuses, victim_runs = await asyncio.gather(flood, victim())
    counts: dict[int, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return {"attacker": counts, "victim": [(s, round(t, 3)) for s, t in victim_runs]}


async def login_attempts(base: str, n: int) -> dict[int, int]:
    """n concurrent wrong passwords for alice, each from its own browser (own CSRF cookie)."""

    async def one(i: int) -> int:
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            page = await c.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            data = {"username": "alice", "password": f"wrong-{i}", "return_to": "/"}
            data["csrf"] = token.group(1) if token else ""
            r = await c.post("/login", data=data, headers={"Origin": base})
            return r.status_code

    statuses = await asyncio.gather(*(one(i) for i in range(n)))
    counts: dict[int, int] = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--port", type=int, default=9400)
    args = parser.parse_args()
    bin_dir = args.checkout.resolve() / ".venv" / "bin"
    work = Path(tempfile.mkdtemp(prefix="probe-"))
    base = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        "TOKENPATH_ISSUER": base,
        "TOKENPATH_DATA_DIR": str(work / "data"),
        "TOKENPATH_PORT": str(args.port),
        "TOKENPATH_PASSWORD_HASH_THREADS": "2",
        "TOKENPATH_TRUSTED_PROXIES": "127.0.0.1",  # the probe plays several client addresses
    }
    env.pop("TOKENPATH_KEY_ENCRYPTION_KEY", None)
    if os.environ.get("PROBE_KEK"):
        env["TOKENPATH_KEY_ENCRYPTION_KEY"] = os.environ["PROBE_KEK"]
    run([str(bin_dir / "tokenpath"), "db", "upgrade"], env)
    run(
        [str(bin_dir / "tokenpath"), "user", "add", "alice", "--password-stdin"],
        env,
        "wonderland\n",
    )
    run([str(bin_dir / "tokenpath"), "user", "add", "bob", "--password-stdin"], env, "wonderland\n")
    run(
        [str(bin_dir / "tokenpath"), "user", "add", "carol", "--password-stdin"],
        env,
        "wonderland\n",
    )
    web = json.loads(
        run(
            [
                str(bin_dir / "tokenpath"),
                "client",
                "add",
                "--name",
                "web",
                "--type",
                "confidential",
                "--redirect-uri",
                "https://app.example/cb",
                "--scope",
                "notes:read",
                "--grant-type",
                "authorization_code",
                "--grant-type",
                "refresh_token",
                "--json",
            ],
            env,
        )
    )
    key = ECKey.generate_key("P-256", private=True)
    jwks = json.dumps({"keys": [key.as_dict(private=False)]})
    pk_client = run([str(bin_dir / "python"), "-c", SEED, jwks], env).strip()
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed in the finally below
    server = subprocess.Popen(
        [str(bin_dir / "tokenpath"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/jwks", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        print("== 1. 30 concurrent wrong passwords for one user (limit 10/min)")
        print("   statuses:", asyncio.run(login_attempts(base, 30)))
        print(
            "== 3. 150 sign-ins with unknown names (50 at a time), a real user signing in meanwhile"
        )
        print("   ", asyncio.run(flood_with_victim(base, 150, 50)))
        print("== 2. data dir and database file permissions; private key readable?")
        data = work / "data"
        print(
            "   data dir",
            oct(stat.S_IMODE(data.stat().st_mode)),
            " tokenpath.db",
            oct(stat.S_IMODE((data / "tokenpath.db").stat().st_mode)),
        )
        httpx.get(f"{base}/jwks")
        rows = (
            sqlite3.connect(data / "tokenpath.db")
            .execute("select private_jwk from signing_keys")
            .fetchall()
        )
        readable = [r for r in rows if '"d"' in r[0]]
        print(f"   signing keys: {len(rows)}, with a readable private 'd': {len(readable)}")
        print("== 4. private_key_jwt assertion with aud=[evil token endpoint, issuer]")
        now = int(time.time())
        claims = {
            "iss": pk_client,
            "sub": pk_client,
            "aud": ["https://evil.example/token", base],
            "exp": now + 60,
            "jti": f"j{now}",
        }
        assertion = jwt.encode({"alg": "ES256"}, claims, key)
        r = httpx.post(
            f"{base}/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            },
        )
        print("   ->", r.status_code, r.json().get("error"))
        r2 = httpx.post(
            f"{base}/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            },
        )
        print("   replayed ->", r2.status_code, r2.json().get("error"))
        claims = {
            "iss": pk_client,
            "sub": pk_client,
            "aud": base,
            "exp": now + 60,
            "jti": f"k{now}",
        }
        good = jwt.encode({"alg": "ES256"}, claims, key)
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": good,
        }
        print(
            "   a valid assertion (aud = issuer) ->",
            httpx.post(f"{base}/token", data=form).status_code,
            "; the same again ->",
            httpx.post(f"{base}/token", data=form).status_code,
        )
        print("== 6b. code replay and refresh-token reuse (a real sign-in as bob)")
        cid, secret = web["client_id"], web["client_secret"]
        first = code_flow(base, cid, secret, "bob")
        rt = first["refresh_token"]
        again = httpx.post(
            f"{base}/token",
            data={"grant_type": "refresh_token", "refresh_token": rt},
            auth=(cid, secret),
        )
        reuse = httpx.post(
            f"{base}/token",
            data={"grant_type": "refresh_token", "refresh_token": rt},
            auth=(cid, secret),
        )
        print(
            "   refresh ->",
            again.status_code,
            "; the same refresh token again ->",
            reuse.status_code,
            reuse.json().get("error"),
        )
        second = code_flow(base, cid, secret, "bob")
        replay = httpx.post(
            f"{base}/token",
            data={
                "grant_type": "authorization_code",
                "code": second["code"],
                "redirect_uri": "https://app.example/cb",
            },
            auth=(cid, secret),
        )
        print(
            "   code redeemed ->",
            "access_token" in second,
            "; the same code again ->",
            replay.status_code,
            replay.json().get("error"),
        )
        print("== 5. 12 KB client_id at /token")
        big = "x" * 12 * 1024
        basic = base64.b64encode(f"{big}:secret".encode()).decode()
        r = httpx.post(
            f"{base}/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        print("   ->", r.status_code, r.json().get("error"))
        longest = (
            sqlite3.connect(data / "tokenpath.db")
            .execute("select max(length(key)) from rate_limits")
            .fetchone()[0]
        )
        print("   longest rate_limits key stored:", longest)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    text = (work / "server.log").read_text()
    print("== 6. server log after the attacks:", len(text.splitlines()), "lines")
    events = [line for line in text.splitlines() if "event" in line.lower()]
    print("   event records:", len(events))
    for line in events:
        print("   ", line[:230])


if __name__ == "__main__":
    main()
