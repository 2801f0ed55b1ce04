import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tokenpath.core import pkce
from tokenpath.core.errors import InvalidGrant, InvalidRequest, OAuthError

VECTOR = json.loads((Path(__file__).parents[1] / "vectors" / "rfc7636.json").read_text())


def test_rfc7636_appendix_b_vector() -> None:
    assert pkce.s256(VECTOR["code_verifier"]) == VECTOR["code_challenge"]
    pkce.verify(VECTOR["code_verifier"], VECTOR["code_challenge"])


@pytest.mark.parametrize("method", [None, "plain", "s256", "S512"])
def test_only_s256_challenges_are_accepted(method: str | None) -> None:
    with pytest.raises(InvalidRequest):
        pkce.check_challenge(VECTOR["code_challenge"], method, required=False)


def test_challenge_required_when_policy_says_so() -> None:
    with pytest.raises(InvalidRequest, match="required"):
        pkce.check_challenge(None, None, required=True)
    pkce.check_challenge(None, None, required=False)


@pytest.mark.parametrize("challenge", ["short", "x" * 44, "=" * 43, "a+b/" + "c" * 39])
def test_malformed_challenge(challenge: str) -> None:
    with pytest.raises(InvalidRequest):
        pkce.check_challenge(challenge, "S256", required=True)


@pytest.mark.parametrize(
    "verifier", ["a" * 42, "a" * 129, "a" * 42 + "!", "a" * 42 + " ", "é" * 43]
)
def test_verifier_syntax_is_enforced(verifier: str) -> None:
    with pytest.raises(InvalidGrant):
        pkce.verify(verifier, pkce.s256("a" * 43))


def test_wrong_or_missing_verifier() -> None:
    challenge = pkce.s256("a" * 43)
    with pytest.raises(InvalidGrant, match="does not match"):
        pkce.verify("b" * 43, challenge)
    with pytest.raises(InvalidGrant, match="required"):
        pkce.verify(None, challenge)


def test_verifier_without_challenge_is_a_downgrade() -> None:
    """RFC 9700 §4.8.2: a code_verifier for a code issued without a challenge is rejected."""
    with pytest.raises(InvalidGrant):
        pkce.verify("a" * 43, None)
    pkce.verify(None, None)


CHALLENGE = pkce.s256("a" * 43)


@pytest.mark.parametrize(
    ("call", "error", "description"),
    [
        (
            lambda: pkce.check_challenge(None, "S256", required=False),
            InvalidRequest,
            "code_challenge_method without code_challenge",
        ),
        (
            lambda: pkce.check_challenge(None, None, required=True),
            InvalidRequest,
            "code_challenge (PKCE, S256) is required for this client",
        ),
        (
            lambda: pkce.check_challenge(CHALLENGE, "plain", required=False),
            InvalidRequest,
            "code_challenge_method must be S256",
        ),
        (
            lambda: pkce.check_challenge("short", "S256", required=False),
            InvalidRequest,
            "code_challenge must be 43 base64url characters",
        ),
        (
            lambda: pkce.verify("a" * 43, None),
            InvalidGrant,
            "code_verifier sent for a code issued without code_challenge",
        ),
        (lambda: pkce.verify(None, CHALLENGE), InvalidGrant, "code_verifier is required"),
        (
            lambda: pkce.verify("a" * 42, CHALLENGE),
            InvalidGrant,
            "code_verifier must be 43-128 unreserved characters",
        ),
        (
            lambda: pkce.verify("b" * 43, CHALLENGE),
            InvalidGrant,
            "code_verifier does not match code_challenge",
        ),
    ],
)
def test_each_refusal_names_its_reason(
    call: Callable[[], None], error: type[OAuthError], description: str
) -> None:
    """The ``error_description`` a client sees (RFC 6749 §5.2) says which PKCE rule failed."""
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert caught.value.description == description


def test_verifier_length_boundaries_and_alphabet_are_accepted() -> None:
    """RFC 7636 §4.1: 43 and 128 unreserved characters are both allowed."""
    for verifier in ("a" * 43, "a" * 128, "A-._~" + "z" * 38):
        pkce.verify(verifier, pkce.s256(verifier))
