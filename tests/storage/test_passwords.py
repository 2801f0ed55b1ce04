import asyncio
import threading
import time

import pytest

from tokenpath.storage.passwords import Argon2PasswordHasher

pytestmark = pytest.mark.anyio

FAST = {"time_cost": 1, "memory_cost": 1024}


async def test_argon2id_round_trip() -> None:
    hasher = Argon2PasswordHasher(**FAST)
    stored = await hasher.hash("correct horse")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert await hasher.verify(stored, "correct horse")
    assert not await hasher.verify(stored, "correct horsE")
    assert await hasher.hash("correct horse") != stored  # salted


async def test_malformed_hash_is_false_not_an_exception() -> None:
    hasher = Argon2PasswordHasher(**FAST)
    for bad in ("", "plain", "$argon2id$v=19$garbage"):
        assert not await hasher.verify(bad, "x")
    await hasher.dummy_verify()


async def test_defaults_are_owasp_and_rehash_is_detected() -> None:
    strong = Argon2PasswordHasher()
    assert "m=19456,t=2,p=1" in await strong.hash("pw")
    weak_hash = await Argon2PasswordHasher(**FAST).hash("pw")
    assert strong.needs_rehash(weak_hash)


async def test_no_more_hashes_in_flight_than_threads() -> None:
    """Sign-ins beyond the thread count queue rather than slow every hash down."""
    hasher = Argon2PasswordHasher(**FAST, threads=2)
    stored = await hasher.hash("pw")
    running, peak, names = 0, 0, set()
    lock = threading.Lock()
    verify = hasher._verify

    def counted(password_hash: str, password: str) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            names.add(threading.current_thread().name)
        time.sleep(0.02)
        with lock:
            running -= 1
        return verify(password_hash, password)

    hasher._verify = counted  # type: ignore[method-assign]
    results = await asyncio.gather(*(hasher.verify(stored, "pw") for _ in range(8)))
    assert all(results) and peak == 2
    assert len(names) == 2 and all(n.startswith("argon2") for n in names)
