"""Policy: every knob declares a reason and bounds, and a Policy outside them cannot exist."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest

from tokenpath.core.policy import Knob, Policy, PolicyKnobs, knob_of


def make(**changes: Any) -> Policy:
    return Policy(**{"issuer": "https://as.example", "audience": "https://api.example", **changes})


def test_every_field_but_the_settings_of_their_own_declares_a_knob() -> None:
    undeclared = [f.name for f in fields(Policy) if knob_of(f.metadata) is None]
    assert undeclared == ["issuer", "audience", "pairwise_salt"]
    assert all(knob_of(f.metadata) for f in fields(PolicyKnobs))


@pytest.mark.parametrize(
    "field", [f for f in fields(Policy) if (k := knob_of(f.metadata)) and k.low is not None]
)
def test_values_below_a_knobs_bound_are_refused_by_name(field: Any) -> None:
    spec = knob_of(field.metadata)
    assert spec is not None and spec.low is not None
    assert getattr(make(**{field.name: spec.low}), field.name) == spec.low
    with pytest.raises(ValueError, match=f"^{field.name} must be"):
        make(**{field.name: spec.low - 1})


@pytest.mark.parametrize(
    ("name", "value"),
    [("code_lifetime", 601), ("max_param_length", 65537), ("max_param_length", 255)],
)
def test_upper_and_lower_limits(name: str, value: int) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be between"):
        make(**{name: value})


def test_replace_checks_again() -> None:
    """``dataclasses.replace`` builds a new Policy, so the bounds hold for derived policies too."""
    with pytest.raises(ValueError, match="code_lifetime"):
        replace(make(), code_lifetime=0)


def test_bounds_in_words() -> None:
    assert Knob(why="w", low=1, high=600).range_text() == "between 1 and 600"
    assert Knob(why="w", low=1).range_text() == "at least 1"
    assert Knob(why="w", high=9).range_text() == "at most 9"
    assert Knob(why="w").range_text() == ""
    Knob(why="w", low=1).check("allow_x", False)  # bools carry no bounds


def test_issuer_shape_is_still_checked() -> None:
    for issuer in ("https://as.example/", "https://as.example?x", "https://as.example#f"):
        with pytest.raises(ValueError, match="issuer"):
            make(issuer=issuer)
