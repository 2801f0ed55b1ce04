"""The revocation feed client against a fake feed on a real server: the contract, failures kept
harmless, and revocation reaching both validators (async and sync), cache hits included."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import pytest

from tests.resource.feed import API_CLIENT_ID, API_SECRET, FeedIssuer
from tests.resource.support import AUDIENCE, NOW
from tests.support.servers import free_port, serve_asgi
from tokenpath.core.clock import FixedClock
from tokenpath.core.errors import InvalidToken
from tokenpath.resource import AccessToken, JwtValidator, RevocationFeed, SyncJwtValidator
from tokenpath.resource.revocation import parse_page

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def feed_server() -> Iterator[FeedIssuer]:
    port = free_port()
    issuer = FeedIssuer(f"http://127.0.0.1:{port}")
    with serve_asgi(issuer.app(), port=port):
        yield issuer


@pytest.fixture
def server(feed_server: FeedIssuer) -> FeedIssuer:
    feed_server.reset()
    return feed_server


def make_feed(server: FeedIssuer, clock: FixedClock, **options: object) -> RevocationFeed:
    return RevocationFeed(
        issuer=server.url, client_id=API_CLIENT_ID, client_secret=API_SECRET, clock=clock,
        **options,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_first_poll_reads_everything_then_only_what_is_new(
    server: FeedIssuer, clock: FixedClock
) -> None:
    server.revoke_id(jti="t1")
    server.revoke_id(grant_id="g1")
    feed = make_feed(server, clock)
    assert await feed.poll() and feed.healthy and feed.cursor == "2"
    assert feed.endpoint == f"{server.url}/revocations"  # from the metadata
    assert feed.is_revoked({"jti": "t1"}) and feed.is_revoked({"jti": "x", "grant_id": "g1"})
    assert not feed.is_revoked({"jti": "g1", "grant_id": "t1"})  # kinds do not mix
    assert not feed.is_revoked({}) and not feed.is_revoked({"jti": 1, "grant_id": None})
    server.revoke_id(jti="t2")
    assert await feed.poll()
    assert server.log.sinces == [None, "2"] and feed.cursor == "3"
    assert feed.is_revoked({"jti": "t2"}) and feed.is_revoked({"jti": "t1"})


async def test_the_metadata_names_the_endpoint(server: FeedIssuer, clock: FixedClock) -> None:
    server.feed_path = "/feed-elsewhere"
    server.reset()
    try:
        server.revoke_id(jti="t1")
        feed = make_feed(server, clock)
        assert await feed.poll() and feed.endpoint == f"{server.url}/feed-elsewhere"
        assert server.hits["/feed-elsewhere"] == 1 and server.hits["/revocations"] == 0
    finally:
        server.feed_path = "/revocations"


async def test_entries_are_kept_until_exp_then_dropped(
    server: FeedIssuer, clock: FixedClock
) -> None:
    server.revoke_id(jti="short", exp=NOW + 10)
    server.revoke_id(jti="long", exp=NOW + 500)
    feed = make_feed(server, clock, keep_after_exp=60)
    await feed.poll()
    assert feed.size == 2
    clock.advance(69)
    await feed.poll()
    assert feed.is_revoked({"jti": "short"})  # within the validators' leeway
    clock.advance(2)
    await feed.poll()
    assert not feed.is_revoked({"jti": "short"}) and feed.is_revoked({"jti": "long"})


@pytest.mark.parametrize("status", [401, 500, 503])
async def test_a_failing_feed_keeps_what_is_known_and_backs_off(
    server: FeedIssuer, clock: FixedClock, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    server.revoke_id(jti="t1")
    feed = make_feed(server, clock, max_backoff=8)
    await feed.poll()
    server.fail_with = status
    caplog.set_level(logging.WARNING, "tokenpath.resource")
    delays = []
    for _ in range(5):
        assert not await feed.poll()
        delays.append(feed.next_delay())
    assert feed.is_revoked({"jti": "t1"}) and not feed.healthy and feed.failures == 5
    assert feed.last_success is not None
    assert delays[0] <= 1 < delays[1] <= 2 < delays[2] <= 4 and max(delays) <= 8
    assert f"HTTP {status}" in caplog.text and "keeping the 1 known entries" in caplog.text
    assert API_SECRET not in caplog.text and "feed+secret" not in caplog.text
    server.fail_with = None
    server.revoke_id(jti="t2")
    assert await feed.poll() and feed.healthy and feed.failures == 0
    assert feed.next_delay() == 1 and feed.is_revoked({"jti": "t2"})


async def test_wrong_credentials_are_refused(server: FeedIssuer, clock: FixedClock) -> None:
    feed = RevocationFeed(
        issuer=server.url, client_id=API_CLIENT_ID, client_secret="wrong", clock=clock
    )
    assert not await feed.poll() and not feed.healthy and server.log.refused == 1


async def test_an_unreachable_server_is_a_failed_poll(clock: FixedClock) -> None:
    feed = RevocationFeed(
        issuer=f"http://127.0.0.1:{free_port()}", client_id="a", client_secret="b", clock=clock,
        endpoint=f"http://127.0.0.1:{free_port()}/revocations", timeout=2,
    )  # fmt: skip
    assert not await feed.poll() and feed.failures == 1 and feed.last_success is None


async def test_a_forgotten_cursor_means_reading_it_whole_again(
    server: FeedIssuer, clock: FixedClock
) -> None:
    server.revoke_id(jti="t1")
    feed = make_feed(server, clock)
    await feed.poll()
    server.forget_cursors = True
    assert not await feed.poll() and feed.cursor is None
    server.forget_cursors = False
    assert await feed.poll() and server.log.sinces == [None, "1", None]
    assert feed.is_revoked({"jti": "t1"})


@pytest.mark.parametrize(
    "page",
    [
        [],
        {"revoked": []},
        {"cursor": "", "revoked": []},
        {"cursor": "1", "revoked": {}},
        {"cursor": "1", "revoked": [], "poll_interval": "soon"},
        {"cursor": "1", "revoked": [], "poll_interval": -1},
    ],
)
async def test_a_malformed_page_changes_nothing(
    server: FeedIssuer, clock: FixedClock, page: object
) -> None:
    server.revoke_id(jti="t1")
    feed = make_feed(server, clock)
    await feed.poll()
    server.page_override = page
    assert not await feed.poll()
    assert feed.cursor == "1" and feed.is_revoked({"jti": "t1"}) and feed.size == 1


def test_malformed_entries_are_skipped_and_the_rest_counts() -> None:
    page = parse_page(
        {
            "cursor": "9",
            "revoked": [
                {"jti": "ok", "exp": NOW},
                {"grant_id": "g", "exp": NOW + 1.5},
                {"jti": "no-exp"},
                {"jti": "", "exp": NOW},
                {"jti": "bool", "exp": True},
                {"sid": "a future kind", "exp": NOW},
                "nonsense",
            ],
        }
    )
    assert page.jtis == {"ok": NOW} and page.grant_ids == {"g": NOW + 1}
    assert page.skipped == 5 and page.poll_interval is None


async def test_the_server_sets_the_pace_within_bounds(
    server: FeedIssuer, clock: FixedClock
) -> None:
    feed = make_feed(server, clock, min_interval=0.5, max_interval=10)
    for offered, used in [(1, 1.0), (0.01, 0.5), (3600, 10.0), (2.5, 2.5)]:
        server.poll_interval = offered
        await feed.poll()
        assert feed.next_delay() == used


async def test_a_revoked_token_is_refused_by_the_async_validator_even_when_cached(
    server: FeedIssuer, clock: FixedClock
) -> None:
    feed = make_feed(server, clock)
    validator = JwtValidator(
        issuer=server.url, audience=AUDIENCE, jwks_uri=server.jwks_uri, clock=clock,
        revocations=feed,
    )  # fmt: skip
    first, second = server.sign(jti="a"), server.sign(jti="b", grant_id="g-b")
    await feed.poll()
    assert isinstance(await validator.validate(first), AccessToken)
    assert isinstance(await validator.validate(second), AccessToken)
    server.revoke_id(jti="a")
    server.revoke_id(grant_id="g-b")
    # the tokens are cached: without the feed's news they still pass, and no request is made
    hits = sum(server.hits.values())
    for _ in range(20):
        assert isinstance(await validator.validate(first), AccessToken)
    assert sum(server.hits.values()) == hits
    await feed.poll()
    for token in (first, second):
        refused = await validator.validate(token)
        assert isinstance(refused, InvalidToken)
        assert refused.description == "the access token has been revoked"


def test_a_revoked_token_is_refused_by_the_sync_validator(
    server: FeedIssuer, clock: FixedClock
) -> None:
    feed = make_feed(server, clock)
    validator = SyncJwtValidator(
        issuer=server.url, audience=AUDIENCE, jwks_uri=server.jwks_uri, clock=clock,
        revocations=feed,
    )  # fmt: skip
    token = server.sign(jti="s")
    assert feed.poll_sync()
    assert isinstance(validator.validate(token), AccessToken)
    server.revoke_id(jti="s")
    assert feed.poll_sync()
    assert isinstance(validator.validate(token), InvalidToken)


async def test_the_background_task_picks_up_a_revocation(
    server: FeedIssuer, clock: FixedClock
) -> None:
    server.poll_interval = 0.05
    feed = make_feed(server, clock, min_interval=0.05)
    validator = JwtValidator(
        issuer=server.url, audience=AUDIENCE, jwks_uri=server.jwks_uri, clock=clock,
        revocations=feed,
    )  # fmt: skip
    token = server.sign(jti="bg")
    async with feed:
        assert feed.polls == 1 and feed.healthy  # the first poll ran before start returned
        assert isinstance(await validator.validate(token), AccessToken)
        server.revoke_id(jti="bg")
        for _ in range(400):  # bounded: at most about 20 s
            if isinstance(await validator.validate(token), InvalidToken):
                break
            await asyncio.sleep(0.05)
        assert isinstance(await validator.validate(token), InvalidToken)
    polls = feed.polls
    await asyncio.sleep(0.2)
    assert feed.polls == polls  # stopped


def test_the_background_thread_picks_up_a_revocation(server: FeedIssuer, clock: FixedClock) -> None:
    server.poll_interval = 0.05
    feed = make_feed(server, clock, min_interval=0.05)
    validator = SyncJwtValidator(
        issuer=server.url, audience=AUDIENCE, jwks_uri=server.jwks_uri, clock=clock,
        revocations=feed,
    )  # fmt: skip
    token = server.sign(jti="th")
    with feed:
        assert feed.polls == 1 and feed.healthy
        assert isinstance(validator.validate(token), AccessToken)
        server.revoke_id(jti="th")
        for _ in range(400):  # bounded: at most about 20 s
            if isinstance(validator.validate(token), InvalidToken):
                break
            time.sleep(0.05)
        assert isinstance(validator.validate(token), InvalidToken)
    polls = feed.polls
    time.sleep(0.2)
    assert feed.polls == polls  # stopped
