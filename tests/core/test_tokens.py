import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tokenpath.core.clock import FixedClock
from tokenpath.core.tokens import Signer, generate_signing_key
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
