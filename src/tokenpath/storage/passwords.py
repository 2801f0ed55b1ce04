"""Password hashing with argon2id (RFC 9106), behind the core's ``PasswordHasher`` port.

Defaults are OWASP's argon2id baseline (m=19 MiB, t=2, p=1): about 20-25 ms of one core here,
which bounds offline guessing after a database leak and caps online guessing together with the
sign-in throttle. Tests pass cheaper parameters.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Argon2PasswordHasher"]


class Argon2PasswordHasher:
    def __init__(
        self, *, time_cost: int = 2, memory_cost: int = 19456, parallelism: int = 1
    ) -> None:
        self._argon2 = _Argon2(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self._dummy = self._argon2.hash("tokenpath dummy password")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

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
