"""The lab's own actors in the demo database: Mallory and the deliberately vulnerable clients.

The attacks need an attacker account (``mallory``) and clients the demo must never have: a
native app without PKCE, a web client without ``state``, naive implicit pages. They are
registered as lab clients of their own (named ``lab: insecure ...``); the demo's clients and
their registered policy are never touched. Their ids (and the one secret) are kept in
``<data_dir>/lab-attacks.json`` (0600) and reused while the lab's URLs stay the same.

The lab stack may call :func:`ensure_lab_actors` with its own context at start; otherwise the
first attack opens the demo database (``<data_dir>/tokenpath.db``) itself.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict, dataclass, fields
from functools import partial
from pathlib import Path

from tokenpath.core.context import Context
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import create_user, register_client
from tokenpath.lab.attacks.target import AttackTarget

__all__ = ["LabActors", "ensure_lab_actors", "lab_actors"]

ACTORS_FILE = "lab-attacks.json"
MALLORY = "mallory"
MALLORY_PASSWORD = "through-the-looking-glass"
SCOPES = ("openid", "profile", "notes:read", "notes:write")
NATIVE_REDIRECT = "http://127.0.0.1/callback"
"""RFC 8252 §7.3: any port of the loopback interface, this exact path."""


@dataclass(frozen=True, slots=True)
class LabActors:
    lab_url: str
    alice_sub: str
    mallory_sub: str
    mallory_username: str
    mallory_password: str
    insecure_native_id: str
    insecure_native_secret: str
    insecure_web_id: str
    insecure_web_secret: str
    insecure_implicit_id: str
    insecure_pkce_id: str


def web_redirects(target: AttackTarget) -> tuple[str, str]:
    return (
        target.lab_path("/insecure/no-state/callback"),
        target.lab_path("/insecure/no-state-pkce/callback"),
    )


def page_redirects(target: AttackTarget) -> tuple[str, str, str]:
    return (
        target.lab_path("/insecure/naive/"),
        target.lab_path("/insecure/checked/"),
        target.lab_path("/insecure/leaky/"),
    )


async def _user_id(ctx: Context, username: str, password: str) -> str:
    user = await ctx.stores.users.get_by_username(username)
    if user is None:
        user = await create_user(ctx=ctx, username=username, password=password)
    return user.user_id


async def _register(ctx: Context, target: AttackTarget) -> LabActors:
    code, implicit = GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT
    confidential, public = ClientType.CONFIDENTIAL, ClientType.PUBLIC
    # every lab client asks for the demo scopes of the demo API; only these differ
    lab_client = partial(register_client, ctx=ctx, scopes=SCOPES, resources=[target.api_url])
    native, native_secret = await lab_client(
        name="lab: insecure native app without PKCE",
        client_type=confidential,
        redirect_uris=[NATIVE_REDIRECT],
        grant_types=[code],
    )
    web, web_secret = await lab_client(
        name="lab: insecure web client without state",
        client_type=confidential,
        redirect_uris=web_redirects(target),
        grant_types=[code],
    )
    pages, _ = await lab_client(
        name="lab: insecure implicit pages",
        client_type=public,
        redirect_uris=page_redirects(target),
        grant_types=[implicit],
    )
    leaky_code, _ = await lab_client(
        name="lab: careless page, code + PKCE",
        client_type=public,
        redirect_uris=[target.lab_path("/insecure/leaky/")],
        grant_types=[code],
    )
    assert native_secret is not None and web_secret is not None
    return LabActors(
        lab_url=target.lab_url,
        alice_sub=await _user_id(ctx, target.username, target.password),
        mallory_sub=await _user_id(ctx, MALLORY, MALLORY_PASSWORD),
        mallory_username=MALLORY,
        mallory_password=MALLORY_PASSWORD,
        insecure_native_id=native.client_id,
        insecure_native_secret=native_secret,
        insecure_web_id=web.client_id,
        insecure_web_secret=web_secret,
        insecure_implicit_id=pages.client_id,
        insecure_pkce_id=leaky_code.client_id,
    )


def _read(path: Path) -> LabActors | None:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    names = {f.name for f in fields(LabActors)}
    if not isinstance(saved, dict) or set(saved) != names:
        return None
    return LabActors(**{k: str(v) for k, v in saved.items()})


def _write(path: Path, actors: LabActors) -> None:
    """Readable by its owner only: it holds the vulnerable clients' secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(asdict(actors), file)


async def _still_registered(ctx: Context, actors: LabActors) -> bool:
    ids = (actors.insecure_native_id, actors.insecure_web_id, actors.insecure_implicit_id)
    return all([await ctx.stores.clients.get(i) is not None for i in ids])


async def ensure_lab_actors(ctx: Context, target: AttackTarget) -> LabActors:
    """Mallory and the lab-only clients, registered once per lab URL and reused afterwards."""
    path = target.data_dir / ACTORS_FILE
    saved = await asyncio.to_thread(_read, path)
    fresh = saved is not None and saved.lab_url == target.lab_url
    if saved is not None and fresh and await _still_registered(ctx, saved):
        return saved
    actors = await _register(ctx, target)
    await asyncio.to_thread(_write, path, actors)
    return actors


async def lab_actors(target: AttackTarget) -> LabActors:
    """The saved actors, or registered now through the demo database of ``target.data_dir``."""
    saved = await asyncio.to_thread(_read, target.data_dir / ACTORS_FILE)
    if saved is not None and saved.lab_url == target.lab_url:
        return saved
    from tokenpath.runtime import load_settings, opened
    from tokenpath.settings import sqlite_url

    kek = target.data_dir / "key-encryption-key"
    settings = load_settings(
        issuer=target.issuer,
        data_dir=target.data_dir,
        database_url=sqlite_url(target.data_dir / "tokenpath.db"),
        key_encryption_key_file=kek if kek.exists() else None,
    )
    async with opened(settings) as ctx:
        return await ensure_lab_actors(ctx, target)
