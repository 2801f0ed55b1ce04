from tests.core.conftest import make_ctx
from tokenpath.core.metadata import authorization_server_metadata


def test_metadata_follows_policy() -> None:
    meta = authorization_server_metadata(make_ctx().policy)
    assert meta["issuer"] == "https://as.example"
    assert meta["authorization_endpoint"] == "https://as.example/authorize"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert "password" not in meta["grant_types_supported"]  # type: ignore[operator]
    implicit = authorization_server_metadata(make_ctx(allow_implicit=True).policy)
    assert implicit["response_types_supported"] == ["code", "token"]


def test_policy_refuses_unsafe_values() -> None:
    import pytest

    from tokenpath.core.policy import Policy

    for kwargs in ({"code_lifetime": 601}, {"code_lifetime": 0}, {"issuer": "https://as.example/"}):
        with pytest.raises(ValueError):
            Policy(**{"issuer": "https://as.example", "audience": "x", **kwargs})  # type: ignore[arg-type]
