"""Every attack in every mode, for real against the lab stack: the outcome and its evidence.

The vulnerable modes must succeed and the defended ones must be stopped; each test also checks
the request that proves it (the attacker's API call answered, the server's refusal ...), so a
report that merely claims an outcome fails.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from tokenpath.lab.attacks import (
    ATTACKS,
    AttackError,
    AttackReport,
    AttackTarget,
    AttackUnavailable,
    run_attack,
)

CASES = [
    pytest.param(attack.id, mode.id, mode.expected, marks=[pytest.mark.browser] * mode.browser)
    for attack in ATTACKS
    for mode in attack.modes
]


def _run(attack: str, mode: str, target: AttackTarget) -> AttackReport:
    return asyncio.run(run_attack(attack, mode, target))


def _calls(report: AttackReport, actor: str, path: str) -> list[int]:
    return [r.status for r in report.requests if r.actor == actor and path in r.url]


def test_the_registry_names_eight_attacks_each_stopped_in_some_mode() -> None:
    assert len(ATTACKS) == 8
    assert len({a.id for a in ATTACKS}) == 8
    for attack in ATTACKS:
        assert attack.rfc9700.startswith("§")
        assert any(mode.expected == "stopped" for mode in attack.modes), attack.id
        for mode in attack.modes:
            assert mode.expected == "stopped" or mode.insecure or mode.id == "bearer", mode


@pytest.mark.parametrize(("attack", "mode", "expected"), CASES)
def test_each_attack_has_the_outcome_of_its_mode(
    lab_target: AttackTarget, attack: str, mode: str, expected: str
) -> None:
    report = _run(attack, mode, lab_target)
    assert report.outcome == expected, report.why
    assert (report.attack, report.mode) == (attack, mode)
    assert report.steps and report.requests and report.why
    json.dumps(report.to_json())  # JSON-serialisable, as the lab page and exports need


def test_a_stolen_bearer_token_works_for_the_attacker(lab_target: AttackTarget) -> None:
    report = _run("token-replay", "bearer", lab_target)
    assert _calls(report, "attacker", "/api/me") == [200]
    sent = next(r for r in report.requests if r.actor == "attacker")
    assert sent.headers["authorization"].startswith("Bearer ")


def test_a_stolen_dpop_bound_token_is_refused_both_ways(lab_target: AttackTarget) -> None:
    """Alone (as Bearer) and with the attacker's own proof: 401 each, with the reason; the app
    with its key is answered (after the server's nonce, as the demo asks for one)."""
    report = _run("token-replay", "dpop", lab_target)
    assert report.outcome == "stopped", report.why
    assert _calls(report, "victim app", "/token") == [400, 200]  # use_dpop_nonce, then tokens
    assert _calls(report, "victim app", "/api/me") == [200]
    assert _calls(report, "attacker", "/api/me") == [401, 401]
    bearer, forged = (r for r in report.requests if r.actor == "attacker")
    assert bearer.headers["authorization"].startswith("Bearer ")
    assert forged.headers["authorization"].startswith("DPoP ") and forged.headers["dpop"]
    assert "invalid_token" in report.why and "invalid_dpop_proof" in report.why


def test_without_dpop_at_the_server_the_mode_is_unavailable() -> None:
    """A server that does not advertise DPoP cannot stop the replay this way: said, not run."""
    from tokenpath.lab.attacks import token_attacks

    class NoDpop:
        """A run whose authorization server's metadata names no DPoP algorithms."""

        target = SimpleNamespace(issuer="http://127.0.0.1:9")

        def client(self, name: str) -> Any:
            return self

        async def get(self, url: str) -> httpx.Response:
            return httpx.Response(200, json={"issuer": self.target.issuer})

    with pytest.raises(AttackUnavailable, match="dpop_signing_alg_values_supported"):
        asyncio.run(token_attacks.token_replay(NoDpop(), "dpop"))  # type: ignore[arg-type]


def test_an_intercepted_code_is_redeemed_only_without_pkce(lab_target: AttackTarget) -> None:
    without = _run("code-interception", "no-pkce", lab_target)
    assert _calls(without, "victim browser", f"{lab_target.attacker_url}/callback") == [200]
    assert _calls(without, "attacker", "/token") == [200]
    with_pkce = _run("code-interception", "pkce", lab_target)
    assert _calls(with_pkce, "victim browser", f"{lab_target.attacker_url}/callback") == [200]
    assert _calls(with_pkce, "attacker", "/token") == [400]
    assert "invalid_grant" in with_pkce.why


def test_a_replayed_code_is_refused_and_its_tokens_revoked(lab_target: AttackTarget) -> None:
    report = _run("code-replay", "replay", lab_target)
    assert _calls(report, "attacker", "/token") == [400]
    assert _calls(report, "victim app", "/token") == [200, 400]  # redeemed, then refresh refused


def test_no_tampered_redirect_uri_is_redirected_to(lab_target: AttackTarget) -> None:
    report = _run("redirect-uri-tampering", "tamper", lab_target)
    tampered = [r for r in report.requests if "redirect_uri" in r.url][2:]
    assert len(tampered) >= 6
    assert all(r.status == 400 and "<- location" not in r.headers for r in tampered)


def test_csrf_on_the_redirect_lands_the_victim_in_mallorys_account(
    lab_target: AttackTarget,
) -> None:
    report = _run("redirect-csrf", "no-state", lab_target)
    assert _calls(report, "victim browser", "/insecure/no-state/callback") == [303]
    for mode in ("state", "pkce"):
        stopped = _run("redirect-csrf", mode, lab_target)
        assert _calls(stopped, "victim browser", "/callback") == [400], mode


def test_refresh_token_reuse_revokes_the_family(lab_target: AttackTarget) -> None:
    report = _run("refresh-token-theft", "attacker-first", lab_target)
    # redeem; attacker refreshes (200); victim reuses (400); attacker's new token dead (400)
    assert _calls(report, "victim app", "/token") == [200, 400]
    assert _calls(report, "attacker", "/token") == [200, 400]
    report = _run("refresh-token-theft", "victim-first", lab_target)
    assert _calls(report, "victim app", "/token") == [200, 200, 400]
    assert _calls(report, "attacker", "/token") == [400]


@pytest.mark.browser
def test_the_leaked_token_travels_in_the_referer_only_with_implicit(
    lab_target: AttackTarget,
) -> None:
    implicit = _run("referer-history-leak", "implicit", lab_target)
    pixel = [r for r in implicit.requests if r.url.endswith("/pixel.gif")]
    assert pixel and "access_token=" in pixel[-1].headers["referer"]
    assert _calls(implicit, "attacker", "/api/me") == [200]
    code = _run("referer-history-leak", "code", lab_target)
    pixel = [r for r in code.requests if r.url.endswith("/pixel.gif")]
    assert pixel and "access_token" not in pixel[-1].headers["referer"]
    assert _calls(code, "attacker", "/token") == [400]


def test_an_unknown_attack_or_mode_is_an_error(lab_target: AttackTarget) -> None:
    with pytest.raises(AttackError):
        _run("no-such-attack", "x", lab_target)
    with pytest.raises(AttackError):
        _run("code-replay", "no-such-mode", lab_target)
