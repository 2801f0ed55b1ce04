import asyncio
import threading
import time

import pytest

from tokenpath.core.errors import TemporarilyUnavailable
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


async def test_admission_is_bounded_and_a_full_queue_answers_busy_at_once() -> None:
    """Past threads + queue calls in flight, the next is refused without hashing."""
    hasher = Argon2PasswordHasher(**FAST, threads=1, queue=2)
    stored = await hasher.hash("pw")
    release = threading.Event()
    calls = 0
    verify = hasher._verify

    def blocked(password_hash: str, password: str) -> bool:
        nonlocal calls
        calls += 1
        release.wait(timeout=10)
        return verify(password_hash, password)

    hasher._verify = blocked  # type: ignore[method-assign]
    waiting = [asyncio.ensure_future(hasher.verify(stored, "pw")) for _ in range(3)]
    await asyncio.sleep(0)  # let the three take their slots (one runs, two queue)
    with pytest.raises(TemporarilyUnavailable):
        await hasher.verify(stored, "pw")
    with pytest.raises(TemporarilyUnavailable):
        await hasher.dummy_verify()
    release.set()
    assert await asyncio.gather(*waiting) == [True, True, True]
    assert calls == 3  # the refused calls never reached argon2
    assert await hasher.verify(stored, "pw")  # slots are given back
