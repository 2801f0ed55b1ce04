"""Password hashing with argon2id (RFC 9106), behind the core's ``PasswordHasher`` port.

Defaults are OWASP's argon2id baseline (m=19 MiB, t=2, p=1): about 20-25 ms of one core here,
which bounds offline guessing after a database leak and caps online guessing together with the
sign-in throttle. Tests pass cheaper parameters.

Admission is bounded: at most ``threads`` hashes run and ``queue`` more wait; a call beyond
that raises ``TemporarilyUnavailable`` at once, without hashing. An unbounded queue let a flood
of sign-ins (about 100/s of wrong passwords) delay every real one by seconds; now the flood is
answered "busy" in microseconds and a real sign-in waits for at most ``queue`` hashes.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tokenpath.core.errors import TemporarilyUnavailable

__all__ = ["Argon2PasswordHasher"]


class Argon2PasswordHasher:
    """argon2id off the event loop, on at most ``threads`` threads (default: one per core).

    More hashes in flight than cores only makes each slower: every argon2 run streams through
    19 MiB, so oversubscribed threads evict each other's memory from the caches (measured on
    2 cores: 96 verifications/s on 2 threads, 88/s on 8). Each process of ``serve --workers N``
    keeps one thread per core rather than a share: the workers' load is not evenly spread
    (connections stay with the worker that accepted them), and a busy worker with a share
    would leave cores idle. ``TOKENPATH_PASSWORD_HASH_THREADS`` overrides.

    ``queue`` (default: four per thread, about 0.1 s of waiting at production cost) bounds how
    many more may wait; past it, calls raise ``TemporarilyUnavailable`` without hashing.
    """

    def __init__(
        self,
        *,
        time_cost: int = 2,
        memory_cost: int = 19456,
        parallelism: int = 1,
        threads: int | None = None,
        queue: int | None = None,
    ) -> None:
        self._argon2 = _Argon2(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self._dummy = self._argon2.hash("tokenpath dummy password")
        workers = threads or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self.capacity = workers + (4 * workers if queue is None else queue)
        self._in_flight = 0
        self._lock = threading.Lock()  # callers may run on several event loops (tests, CLI)

    async def _run(self, function: Any, *args: str) -> Any:
        with self._lock:
            if self._in_flight >= self.capacity:
                raise TemporarilyUnavailable("too many password checks in progress")
            self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)
        finally:
            with self._lock:
                self._in_flight -= 1

    async def hash(self, password: str) -> str:
        result: str = await self._run(self._argon2.hash, password)
        return result

    async def verify(self, password_hash: str, password: str) -> bool:
        result: bool = await self._run(self._verify, password_hash, password)
        return result

    async def dummy_verify(self) -> None:
        await self.verify(self._dummy, "not the dummy password")

    def _verify(self, password_hash: str, password: str) -> bool:
        """argon2-cffi releases the GIL while hashing, so worker threads run in parallel."""
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters (upgrade it at next sign-in)."""
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
