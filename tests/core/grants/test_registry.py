"""The grant rows: they agree with the vocabulary, declare exactly what their handlers read, and
a new row is all it takes for a grant to be dispatched and advertised."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

import pytest

from tests.core.conftest import Harness, basic
from tests.core.grants.support import SUCCESSFUL_REQUEST
from tokenpath.core.context import Context
from tokenpath.core.grants import registry
from tokenpath.core.grants.registry import GRANTS, GrantSpec, grant_spec, supported_grant_types
from tokenpath.core.issuance import TokenResponse
from tokenpath.core.metadata import authorization_server_metadata
from tokenpath.core.records import Client, ClientType, GrantType

pytestmark = pytest.mark.anyio
FAKE = "urn:example:params:oauth:grant-type:fake"
EXCHANGED = "urn:ietf:params:oauth:token-type:access_token"
# Parameters no grant here reads; each handler also gets every other row's parameters.
EVERYTHING = {
    "grant_type": "x",
    "client_id": "x",
    "client_secret": "x",
    "username": "alice",
    "password": "correct horse",
    "assertion": "x",
    "audience": "x",
    "resource": "https://api.example",
    "device_code": "x",
}


class Recording(Mapping[str, str]):
    """A form that remembers which parameters were looked at."""

    def __init__(self, data: Mapping[str, str]) -> None:
        self.data = dict(data)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return self.data[name]

    def __contains__(self, name: object) -> bool:
        self.read.add(str(name))
        return name in self.data

    def __iter__(self) -> Iterator[str]:
        self.read.update(self.data)
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def test_rows_and_vocabulary_agree() -> None:
    names = [spec.grant_type for spec in GRANTS]
    assert len(set(names)) == len(names)
    assert set(names) == set(GrantType)
    assert grant_spec("password") is None  # RFC 9700 §2.4
    for spec in GRANTS:
        assert spec.public_clients or spec.confidential_clients
        assert all(grant_spec(needed) is not None for needed in spec.needs)


@pytest.mark.parametrize("spec", [s for s in GRANTS if s.handler], ids=lambda s: str(s.grant_type))
async def test_a_handler_reads_exactly_the_parameters_its_row_declares(
    harness: Harness, spec: GrantSpec
) -> None:
    client, _, params = await SUCCESSFUL_REQUEST[spec.grant_type](harness)
    every_rows = {name: "x" for row in GRANTS for name in row.params}
    form = Recording({**every_rows, **EVERYTHING, **params})
    assert spec.handler is not None
    answer = await spec.handler(form, client, harness.ctx, None)
    assert isinstance(answer, TokenResponse) and answer.access_token
    assert form.read == set(spec.params)


def test_read_passes_only_declared_parameters() -> None:
    spec = grant_spec(GrantType.REFRESH_TOKEN)
    assert spec is not None
    read = spec.read({**EVERYTHING, "refresh_token": "r", "code": "c"})
    assert read == {"refresh_token": "r", "resource": EVERYTHING["resource"]}


def test_implicit_is_vocabulary_only_and_follows_the_switch(harness: Harness) -> None:
    spec = grant_spec(GrantType.IMPLICIT)
    assert spec is not None and spec.handler is None
    assert (spec.public_clients, spec.confidential_clients) == (True, False)
    policy = harness.ctx.policy
    assert GrantType.IMPLICIT not in supported_grant_types(policy)
    assert supported_grant_types(replace(policy, allow_implicit=True))[-1] == GrantType.IMPLICIT


class TestANewGrantIsOneRow:
    """A stand-in for a future grant (RFC 7523 JWT bearer, RFC 8693 token exchange, ...)."""

    seen: list[dict[str, str]]

    async def handler(
        self, form: Mapping[str, str], client: Client, ctx: Context, jkt: str | None = None
    ) -> TokenResponse:
        self.seen.append(dict(form))
        return TokenResponse(
            access_token=f"exchanged-{form['assertion']}",
            expires_in=60,
            scope=("notes:read",),
            issued_token_type=EXCHANGED,
        )

    @pytest.fixture
    def row(self, monkeypatch: pytest.MonkeyPatch) -> GrantSpec:
        self.seen = []
        spec = GrantSpec(
            grant_type=FAKE,
            handler=self.handler,
            public_clients=False,
            confidential_clients=True,
            params=("assertion",),
        )
        monkeypatch.setattr(registry, "GRANTS", (*GRANTS, spec))
        return spec

    async def machine(self, harness: Harness, *grants: str) -> tuple[Client, str]:
        client, secret = await harness.client(
            grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[]
        )
        assert secret is not None
        client = replace(client, grant_types=(*client.grant_types, *grants))  # type: ignore[arg-type]
        await harness.ctx.stores.clients.update(client)
        return client, secret

    async def test_advertised(self, harness: Harness, row: GrantSpec) -> None:
        advertised = authorization_server_metadata(harness.ctx.policy)["grant_types_supported"]
        assert advertised == [*supported_grant_types(harness.ctx.policy)]
        assert isinstance(advertised, list) and advertised[-1] == FAKE

    async def test_dispatched_with_only_its_parameters(
        self, harness: Harness, row: GrantSpec
    ) -> None:
        client, secret = await self.machine(harness, FAKE)
        form = {"grant_type": FAKE, "assertion": "abc", "code": "not-for-this-grant"}
        response = await harness.token(form, basic(client.client_id, secret))
        assert response.status == 200, response.body
        assert response.body == {
            "access_token": "exchanged-abc",
            "token_type": "Bearer",
            "expires_in": 60,
            "scope": "notes:read",
            "issued_token_type": EXCHANGED,
        }
        assert ("Cache-Control", "no-store") in response.headers
        assert self.seen == [{"assertion": "abc"}]

    async def test_permission_comes_from_the_row(self, harness: Harness, row: GrantSpec) -> None:
        without, secret = await self.machine(harness)
        response = await harness.token(
            {"grant_type": FAKE, "assertion": "abc"}, basic(without.client_id, secret)
        )
        assert (response.status, response.body["error"]) == (400, "unauthorized_client")
        public, _ = await harness.client(kind=ClientType.PUBLIC)
        listed = replace(public, grant_types=(*public.grant_types, FAKE))  # type: ignore[arg-type]
        await harness.ctx.stores.clients.update(listed)
        response = await harness.token(
            {"grant_type": FAKE, "assertion": "abc", "client_id": public.client_id}
        )
        assert (response.status, response.body["error"]) == (400, "unauthorized_client")
        assert self.seen == []

    async def test_a_switched_off_row_is_neither_advertised_nor_dispatched(
        self, harness: Harness, row: GrantSpec, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        off = replace(row, enabled=lambda policy: False)
        monkeypatch.setattr(registry, "GRANTS", (*GRANTS, off))
        meta = authorization_server_metadata(harness.ctx.policy)
        assert FAKE not in meta["grant_types_supported"]  # type: ignore[operator]
        client, secret = await self.machine(harness, FAKE)
        response = await harness.token(
            {"grant_type": FAKE, "assertion": "abc"}, basic(client.client_id, secret)
        )
        assert response.body["error"] == "unsupported_grant_type"
        assert self.seen == []
