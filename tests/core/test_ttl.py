"""The expiring map behind the client cache and the resource server's token cache."""

from __future__ import annotations

from tokenpath.core.ttl import TtlCache


def test_entries_live_until_their_deadline() -> None:
    cache: TtlCache[str, int] = TtlCache(max_entries=10)
    cache.put("a", 1, until=100)
    assert cache.get("a", 99) == 1
    assert cache.get("a", 100) is None
    assert cache.get("a", 50) is None  # a stale entry is gone, not revived


def test_the_oldest_entry_goes_first_when_full() -> None:
    cache: TtlCache[str, int] = TtlCache(max_entries=2)
    cache.put("a", 1, until=100)
    cache.put("b", 2, until=100)
    cache.put("a", 3, until=100)  # re-putting makes it the newest
    cache.put("c", 4, until=100)
    assert cache.get("b", 0) is None
    assert cache.get("a", 0) == 3 and cache.get("c", 0) == 4
    cache.pop("a")
    cache.pop("missing")
    assert cache.get("a", 0) is None
