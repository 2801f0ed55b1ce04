"""The advisor against a table of app profiles: the flow, what is added, and the RFC sections
that must back the recommendation."""

from __future__ import annotations

import json

import pytest

from tokenpath.lab.advisor import FLOWS, QUESTIONS, Profile, advise

TABLE = [
    # (profile, flow, also, a reference the reasons must cite)
    (Profile(machine=True), "client-credentials", (), "RFC 6749 §4.4"),
    (Profile(machine=True, long_lived=True), "client-credentials", (), "RFC 6749 §4.4.3"),
    (Profile(backend=True), "code", (), "RFC 9700 §2.1.1"),
    (Profile(backend=True, browser=True), "code", (), "OAuth 2.0 for Browser-Based Apps"),
    (Profile(backend=True, long_lived=True), "code", ("refresh",), "RFC 9700 §4.14"),
    (Profile(backend=True, legacy=True), "code", (), "§4.5.3.2"),
    (Profile(browser=True), "code-pkce", (), "RFC 9700 §2.1.2"),
    (Profile(browser=True, long_lived=True), "code-pkce", ("refresh",), "RFC 9700 §4.14.2"),
    (Profile(browser=True, legacy=True), "implicit", (), "RFC 9700 §4.6"),
    (Profile(browser=True, legacy=True, long_lived=True), "implicit", (), "RFC 6749 §4.2.2"),
    (Profile(native=True), "native", (), "RFC 8252 §8.5"),
    (Profile(native=True, backend=True), "native", (), "RFC 8252 §6, §7.3"),
    (Profile(native=True, long_lived=True), "native", ("refresh",), "RFC 9449 §5"),
    (Profile(native=True, legacy=True), "native", (), "RFC 8252 §8.12"),
    (Profile(machine=True, browser=True, native=True), "client-credentials", (), "RFC 7523"),
    (Profile(), "code", (), "RFC 9700 §2.1.1"),
]


@pytest.mark.parametrize(("profile", "flow", "also", "reference"), TABLE)
def test_profiles(profile: Profile, flow: str, also: tuple[str, ...], reference: str) -> None:
    chosen = advise(profile)
    assert chosen.flow == flow
    assert chosen.also == also
    assert any(reference in r.reference for r in chosen.reasons), chosen.reasons
    assert chosen.lab_run == f"/runs/new?flow={flow}"


def test_implicit_is_never_recommended_without_a_legacy_constraint() -> None:
    for bits in range(2 ** len(QUESTIONS)):
        answers = {q.field: bool(bits >> i & 1) for i, q in enumerate(QUESTIONS)}
        chosen = advise(Profile(**answers))
        if not answers["legacy"]:
            assert chosen.flow != "implicit", answers
        if chosen.flow not in ("implicit", "client-credentials"):  # users sign in: say why not
            assert any("implicit" in r.text for r in chosen.avoid), answers
        assert chosen.flow in FLOWS and set(chosen.also) <= set(FLOWS)


def test_the_recommendation_is_json() -> None:
    body = json.loads(json.dumps(advise(Profile(browser=True, long_lived=True)).to_json()))
    assert body["flow"] == "code-pkce" and body["also"] == ["refresh"]
    assert body["lab_run"] == "/runs/new?flow=code-pkce"
    assert {"text", "reference"} == set(body["reasons"][0])


def test_the_flow_names_are_the_labs_run_names() -> None:
    assert FLOWS == ("code", "implicit", "code-pkce", "native", "client-credentials", "refresh")
