"""Public and pairwise subject identifiers (OpenID Connect Core §8)."""

from __future__ import annotations

import pytest

from tokenpath.core.policy import Policy
from tokenpath.core.records import Client, ClientType
from tokenpath.core.subjects import sector_of, subject_for

POLICY = Policy(issuer="https://as.example", audience="https://api.example", pairwise_salt="s" * 32)


def client(client_id: str, *uris: str, subject_type: str = "pairwise") -> Client:
    return Client(
        client_id=client_id,
        client_name=client_id,
        client_type=ClientType.CONFIDENTIAL,
        secret_hash=None,
        redirect_uris=uris,
        scopes=("openid",),
        subject_type=subject_type,
    )


def test_public_clients_all_see_the_user_id() -> None:
    public = client("a", "https://a.example/cb", subject_type="public")
    assert subject_for("u1", public, POLICY) == "u1"


def test_pairwise_differs_per_sector_and_is_stable_within_one() -> None:
    a = client("a", "https://a.example/cb", "https://a.example/cb2")
    a2 = client("a2", "https://a.example/other")
    b = client("b", "https://b.example/cb")
    sub_a = subject_for("u1", a, POLICY)
    assert sub_a == subject_for("u1", a2, POLICY)  # same sector, same sub (§8.1)
    assert sub_a != subject_for("u1", b, POLICY) and sub_a != subject_for("u2", a, POLICY)
    assert "u1" not in sub_a and len(sub_a) == 43
    other_salt = Policy(issuer=POLICY.issuer, audience=POLICY.audience, pairwise_salt="t" * 32)
    assert subject_for("u1", a, other_salt) != sub_a


def test_pairwise_needs_a_salt_and_one_host() -> None:
    no_salt = Policy(issuer=POLICY.issuer, audience=POLICY.audience)
    with pytest.raises(ValueError, match="pairwise_salt"):
        subject_for("u1", client("a", "https://a.example/cb"), no_salt)
    with pytest.raises(ValueError, match="one host"):
        sector_of(client("a", "https://a.example/cb", "https://b.example/cb"))
