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
