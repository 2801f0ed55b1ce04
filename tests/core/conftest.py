"""Core fixtures: a Context on the memory stores with a hand-moved clock.

``Harness`` wraps the few steps every core test repeats (register, sign in, authorize), so a
test reads as the protocol story it checks.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote_plus, urlsplit

import pytest

from tests.support.apis import NOTES_SCOPES, ensure_api
from tokenpath.core import login, register_client
from tokenpath.core.authorize import authorize
from tokenpath.core.clock import FixedClock, SecretsTokenSource
from tokenpath.core.context import Context
from tokenpath.core.messages import BackchannelRequest, Decision, JsonResponse, Redirect
from tokenpath.core.pkce import s256
from tokenpath.core.policy import Policy
from tokenpath.core.ports import Stores
from tokenpath.core.records import Api, Client, ClientType, GrantType, Session
from tokenpath.core.registration import create_user
from tokenpath.core.signing import Signer
from tokenpath.core.token_endpoint import token
from tokenpath.storage.memory import MemoryApiStore, memory_stores

ISSUER = "https://as.example"
AUDIENCE = "https://api.example"
VERIFIER = "v" * 43
CB = "https://client.example/cb"


class FastHasher:
    """Deterministic, fast password hashing for core tests (argon2 is tested in storage/)."""

    async def hash(self, password: str) -> str:
        return "sha256:" + hashlib.sha256(password.encode()).hexdigest()

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == await self.hash(password)

    async def dummy_verify(self) -> None:
        await self.hash("dummy")

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith("sha256:")


def _with_default_api(stores: Stores) -> Stores:
    """Fresh memory stores holding the default API (``AUDIENCE``, the notes scopes)."""
    assert isinstance(stores.apis, MemoryApiStore)
    stores.apis.rows[AUDIENCE] = Api(
        identifier=AUDIENCE, scopes=NOTES_SCOPES, client_id="api:notes", created_at=0
    )
    return stores


def make_ctx(stores: Stores | None = None, **policy: object) -> Context:
    """A context on ``stores`` (default: fresh memory stores) with a hand-moved clock."""
    clock = FixedClock()
    stores = stores or _with_default_api(memory_stores())
    return Context(
        policy=Policy(issuer=ISSUER, audience=AUDIENCE, **policy),  # type: ignore[arg-type]
        stores=stores,
        clock=clock,
        random=SecretsTokenSource(),
        signer=Signer(stores.keys, clock),
        passwords=FastHasher(),
    )


@dataclass
class Harness:
    ctx: Context

    @property
    def clock(self) -> FixedClock:
        assert isinstance(self.ctx.clock, FixedClock)
        return self.ctx.clock

    async def client(
        self,
        kind: ClientType = ClientType.CONFIDENTIAL,
        redirect_uris: Sequence[str] = ("https://client.example/cb",),
        scopes: str = "openid profile notes:read",
        grant_types: Sequence[GrantType] = (GrantType.AUTHORIZATION_CODE,),
        **options: object,
    ) -> tuple[Client, str | None]:
        await ensure_api(self.ctx)
        return await register_client(
            ctx=self.ctx,
            name="Test app",
            client_type=kind,
            redirect_uris=redirect_uris,
            scopes=scopes.split(),
            grant_types=grant_types,
            **options,  # type: ignore[arg-type]
        )

    async def session(self, username: str = "alice") -> Session:
        await create_user(ctx=self.ctx, username=username, password="correct horse")
        result = await login(username, "correct horse", ctx=self.ctx)
        assert isinstance(result, tuple)
        return result[1]

    async def authorize(
        self, session: Session | None, consent: str | None = None, **params: str
    ) -> Decision:
        return await authorize(list(params.items()), ctx=self.ctx, session=session, consent=consent)  # type: ignore[arg-type]

    async def authorize_pairs(
        self, pairs: Sequence[tuple[str, str]], session: Session | None, consent: str | None
    ) -> Decision:
        return await authorize(pairs, ctx=self.ctx, session=session, consent=consent)  # type: ignore[arg-type]

    async def code(self, client: Client, session: Session, **extra: str) -> str:
        params = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uris[0],
            "state": "xyz",
            "code_challenge": s256(VERIFIER),
            "code_challenge_method": "S256",
            **extra,
        }
        decision = await self.authorize(session, consent="approve", **params)
        assert isinstance(decision, Redirect), decision
        return query(decision)["code"]

    async def redeem(self, client: Client, secret: str | None, session: Session) -> JsonResponse:
        """Authorize, approve and redeem the code: the whole happy path of the code flow."""
        code = await self.code(client, session)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CB,
            "code_verifier": VERIFIER,
            "client_id": client.client_id,
        }
        return await self.token(form, basic(client.client_id, secret) if secret else None)

    async def token(self, form: dict[str, str], authorization: str | None = None) -> JsonResponse:
        return await token(
            BackchannelRequest(form=tuple(form.items()), authorization=authorization), ctx=self.ctx
        )


def query(redirect: Redirect) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(redirect.location).query))


def fragment(redirect: Redirect) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(redirect.location).fragment))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def harness() -> Harness:
    return Harness(make_ctx())


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: form-urlencode, then base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()
