"""Server nonces (RFC 9449 §8): the current and previous window's nonce pass, nothing else does."""

from __future__ import annotations

import pytest

from tokenpath.core.dpop_nonces import DpopNonces

NOW = 1_700_000_100


def test_the_current_nonce_is_accepted_for_two_windows_at_most() -> None:
    nonces = DpopNonces([b"k" * 32], window=100)
    nonce = nonces.current(NOW)
    assert nonces.accepts(nonce, NOW)
    assert nonces.accepts(nonce, NOW + 100)  # the previous window's, after rotation
    assert not nonces.accepts(nonce, NOW + 200)
    assert nonces.current(NOW + 100) != nonce


def test_unknown_missing_and_foreign_nonces_are_refused() -> None:
    nonces = DpopNonces([b"k" * 32], window=100)
    other = DpopNonces([b"o" * 32], window=100)
    assert not nonces.accepts(None, NOW)
    assert not nonces.accepts("", NOW)
    assert not nonces.accepts("x" * 500, NOW)
    assert not nonces.accepts("é", NOW)
    assert not nonces.accepts(other.current(NOW), NOW)


def test_every_secret_verifies_and_the_first_issues() -> None:
    """A process that already sees a new signing key still accepts the old key's nonces."""
    old, new = b"o" * 32, b"n" * 32
    before, after = DpopNonces([old], window=100), DpopNonces([new, old], window=100)
    assert after.accepts(before.current(NOW), NOW)
    assert after.current(NOW) == DpopNonces([new], window=100).current(NOW)


def test_nonces_need_a_secret_and_a_window() -> None:
    with pytest.raises(ValueError, match="secret"):
        DpopNonces([], window=100)
    with pytest.raises(ValueError, match="window"):
        DpopNonces([b"k"], window=0)
