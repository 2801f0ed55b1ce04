import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tokenpath.core.clock import FixedClock
from tokenpath.core.signing import Signer, generate_signing_key
from tokenpath.storage.memory import memory_stores

pytestmark = pytest.mark.anyio


async def test_first_key_is_created_and_newest_key_signs() -> None:
    clock = FixedClock()
    keys = memory_stores().keys
    signer = Signer(keys, clock, refresh_seconds=60)
    first = await signer.sign({"sub": "a"})
    jwks = await signer.jwks()
    assert len(jwks["keys"]) == 1 and "d" not in jwks["keys"][0]  # public only
    old_kid = jwks["keys"][0]["kid"]
    assert jwt.decode(first, KeySet.import_key_set(jwks)).header["kid"] == old_kid  # type: ignore[arg-type]

    clock.advance(10)
    await keys.add(generate_signing_key(clock.now()))
    # within the refresh window the cached key list is used...
    assert jwt.decode(await signer.sign({}), KeySet.import_key_set(jwks)).header["kid"] == old_kid  # type: ignore[arg-type]
    clock.advance(60)
    # ...after it, the new key signs and both are published
    jwks = await signer.jwks()
    assert len(jwks["keys"]) == 2
    token = await signer.sign({"sub": "b"})
    header = jwt.decode(token, KeySet.import_key_set(jwks)).header  # type: ignore[arg-type]
    assert header["kid"] != old_kid and header["typ"] == "at+jwt" and header["alg"] == "ES256"


async def test_superseded_keys_retire_after_the_token_lifetime() -> None:
    clock = FixedClock()
    keys = memory_stores().keys
    signer = Signer(keys, clock, refresh_seconds=0, retire_after=700)
    old_token = await signer.sign({"sub": "a"})
    clock.advance(5)
    await keys.add(generate_signing_key(clock.now()))
    new_token = await signer.sign({"sub": "b"})
    # overlap: both validate, both published
    assert await signer.verify(old_token) is not None and await signer.verify(new_token) is not None
    assert len((await signer.jwks())["keys"]) == 2
    clock.advance(700)
    # the old key retires; its tokens fail, the new key's still pass
    assert await signer.verify(old_token) is None
    assert await signer.verify(new_token) is not None
    assert len((await signer.jwks())["keys"]) == 1


async def test_verify_rejects_other_typ_and_garbage() -> None:
    signer = Signer(memory_stores().keys, FixedClock())
    id_token = await signer.sign({"sub": "a"}, typ="JWT")
    assert await signer.verify(id_token) is None
    assert await signer.verify("not.a.jwt") is None


async def test_rotation_in_the_same_second_still_makes_the_new_key_sign() -> None:
    from tokenpath.core.signing import rotate_signing_key

    clock = FixedClock()
    keys = memory_stores().keys
    signer = Signer(keys, clock, refresh_seconds=0)
    await signer.sign({})
    for _ in range(5):  # kid order is random; date order must win every time
        new = await rotate_signing_key(keys, clock.now())
        clock.advance(1)  # dated one second after the last key, it signs from the next second
        header = jwt.decode(
            await signer.sign({}), KeySet.import_key_set(await signer.jwks())
        ).header  # type: ignore[arg-type]
        assert header["kid"] == new.kid


async def test_rotated_key_is_published_before_it_signs_then_old_one_retires() -> None:
    from tokenpath.core.signing import rotate_signing_key

    clock = FixedClock()
    keys = memory_stores().keys
    signer = Signer(keys, clock, refresh_seconds=0, retire_after=600, publish_ahead=360)
    old_kid = jwt.decode(await signer.sign({}), KeySet.import_key_set(await signer.jwks())).header[
        "kid"
    ]  # type: ignore[arg-type]
    new = await rotate_signing_key(keys, clock.now())

    def kid(token: str, jwks: dict[str, list[dict[str, str]]]) -> str:
        return str(jwt.decode(token, KeySet.import_key_set(jwks)).header["kid"])  # type: ignore[arg-type]

    # published at once, but the old key goes on signing while caches catch up
    jwks = await signer.jwks()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new.kid}
    assert kid(await signer.sign({}), jwks) == old_kid
    clock.advance(360)  # created in the first key's second, the new key is dated 1 s later
    assert kid(await signer.sign({}), jwks) == old_kid
    clock.advance(1)
    assert kid(await signer.sign({}), jwks) == new.kid  # the new key now signs...
    clock.advance(599)
    assert len((await signer.jwks())["keys"]) == 2  # ...and the old one is still published
    clock.advance(1)
    assert [k["kid"] for k in (await signer.jwks())["keys"]] == [new.kid]
