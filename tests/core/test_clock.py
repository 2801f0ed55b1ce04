"""Injected time and randomness, and the two primitives every stored secret relies on."""

import time

import pytest

from tokenpath.core.clock import (
    FixedClock,
    SecretsTokenSource,
    SystemClock,
    constant_time_equals,
    hash_token,
)


def test_hash_token_is_hex_sha256_of_the_utf8_text() -> None:
    # FIPS 180-2 Appendix B.1 "abc"; then a non-ASCII value (UTF-8 c3 a9).
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert hash_token("é") == "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c"
    assert hash_token("a") != hash_token("b")


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("secret", "secret", True),
        ("é", "é", True),
        ("", "", True),
        ("secret", "secreT", False),
        ("secret", "secret ", False),
        ("", "x", False),
        ("é", "e", False),
    ],
)
def test_constant_time_equals(a: str, b: str, equal: bool) -> None:
    """RFC 6819 §5.1.4.2.1: equality of any two strings, whatever their length or alphabet."""
    assert constant_time_equals(a, b) is equal
    assert constant_time_equals(b, a) is equal


def test_system_clock_reads_the_epoch_seconds() -> None:
    before = int(time.time())
    now = SystemClock().now()
    after = int(time.time())
    assert isinstance(now, int)
    assert before <= now <= after


def test_fixed_clock_starts_where_told_and_moves_only_by_hand() -> None:
    clock = FixedClock()
    assert clock.now() == 1_700_000_000
    clock.advance(61)
    assert clock.now() == 1_700_000_061
    assert FixedClock(start=5).now() == 5


def test_secrets_token_source_carries_the_requested_entropy() -> None:
    """``token_urlsafe`` base64url-encodes ``nbytes`` bytes: 32 → 43 characters, 16 → 22."""
    source = SecretsTokenSource()
    assert len(source.token()) == 43
    assert len(source.token(16)) == 22
    assert source.token() != source.token()
