import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenpath.core.errors import InvalidRequest, InvalidScope
from tokenpath.core.params import parse_pairs, parse_scope


def test_repeated_parameter_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="state is repeated"):
        parse_pairs([("state", "a"), ("state", "b")], max_length=100)


def test_repeated_empty_parameter_is_still_refused() -> None:
    with pytest.raises(InvalidRequest):
        parse_pairs([("scope", ""), ("scope", "x")], max_length=100)


def test_empty_values_count_as_omitted() -> None:
    assert parse_pairs([("state", ""), ("client_id", "c")], max_length=100) == {"client_id": "c"}


def test_oversized_and_control_characters() -> None:
    with pytest.raises(InvalidRequest, match="too long"):
        parse_pairs([("state", "x" * 101)], max_length=100)
    with pytest.raises(InvalidRequest, match="control"):
        parse_pairs([("state", "a\x00b")], max_length=100)
    with pytest.raises(InvalidRequest):
        parse_pairs([("n" * 65, "v")], max_length=100)


def test_scope_parsing() -> None:
    assert parse_scope(None) is None
    assert parse_scope("a b a") == ("a", "b")
    for bad in ["a  b", " a", "a\\b", 'a"b', "é"]:
        with pytest.raises(InvalidScope):
            parse_scope(bad)


@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=20)), max_size=6))
def test_parse_pairs_returns_or_names_the_error(pairs: list[tuple[str, str]]) -> None:
    try:
        parsed = parse_pairs(pairs, max_length=10)
    except InvalidRequest as error:
        assert error.error == "invalid_request"
    else:
        assert all(v != "" and len(v) <= 10 for v in parsed.values())
        assert len({n for n, _ in pairs}) == len(pairs)


def test_limits_are_inclusive() -> None:
    """A 64-character name and a value of exactly ``max_length`` are still accepted."""
    assert parse_pairs([("n" * 64, "v" * 100)], max_length=100) == {"n" * 64: "v" * 100}


@pytest.mark.parametrize(
    ("pairs", "description"),
    [
        ([("n" * 65, "v")], "malformed parameter name"),
        ([("a\x01", "v")], "malformed parameter name"),
        ([("state", "a"), ("state", "a")], "parameter state is repeated"),
        ([("state", "x" * 101)], "parameter state is too long"),
        ([("state", "a\x7fb")], "parameter state contains control characters"),
    ],
)
def test_each_refusal_names_its_reason(pairs: list[tuple[str, str]], description: str) -> None:
    """The ``error_description`` (RFC 6749 §5.2) names the rule, never echoes the value."""
    with pytest.raises(InvalidRequest) as caught:
        parse_pairs(pairs, max_length=100)
    assert caught.value.description == description


def test_scope_refusal_names_its_reason() -> None:
    with pytest.raises(InvalidScope) as caught:
        parse_scope("a  b")
    assert caught.value.description == "scope must be space-separated scope tokens"
