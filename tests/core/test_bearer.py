"""Reading a bearer token from an Authorization header (RFC 6750 §2.1)."""

from __future__ import annotations

import pytest

from tokenpath.core.bearer import header_token, quote
from tokenpath.core.errors import InvalidRequest


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_scheme_is_case_insensitive(scheme: str) -> None:
    assert header_token(f"{scheme} abc.DEF-_~+/==") == "abc.DEF-_~+/=="


def test_another_scheme_is_no_bearer_token() -> None:
    assert header_token("Basic dXNlcjpwYXNz") is None
    assert header_token("DPoP abc") is None


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer a b", "Bearer a,b", "Bearer é"])
def test_a_bearer_value_that_is_not_one_b64token_is_invalid_request(value: str) -> None:
    with pytest.raises(InvalidRequest):
        header_token(value)


def test_quote_drops_what_would_need_escaping() -> None:
    assert quote('a "quoted" \\ value') == "a quoted  value"
