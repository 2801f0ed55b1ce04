"""A small in-process map whose entries expire: the one cache shape the server and APIs use.

Entries carry their own deadline (callers know it: a TTL from now, or a token's ``exp``), and
the map holds at most ``max_entries``, dropping the oldest first, so it never grows without
bound whatever keys arrive.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["TtlCache"]

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: dict[K, tuple[int, V]] = {}

    def get(self, key: K, now: int) -> V | None:
        """The value if it is still fresh at ``now``; a stale entry is dropped."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now < entry[0]:
            return entry[1]
        del self._entries[key]
        return None

    def put(self, key: K, value: V, until: int) -> None:
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (until, value)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)
