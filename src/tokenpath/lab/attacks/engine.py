"""``run_attack``: one attack in one mode, for real, against the lab's running servers.

The lab pages, any export and the tests all call this one function, so what a person sees on
the page is what the tests assert.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from tokenpath.lab.attacks.actors import lab_actors
from tokenpath.lab.attacks.browser_attacks import referer_history_leak, token_injection
from tokenpath.lab.attacks.flows import FlowError
from tokenpath.lab.attacks.redirect_attacks import (
    code_interception,
    redirect_csrf,
    redirect_uri_tampering,
)
from tokenpath.lab.attacks.registry import find_attack
from tokenpath.lab.attacks.report import AttackReport, Outcome
from tokenpath.lab.attacks.run import Run
from tokenpath.lab.attacks.target import AttackTarget
from tokenpath.lab.attacks.token_attacks import code_replay, refresh_token_theft, token_replay

__all__ = ["AttackError", "run_attack"]

Play = Callable[[Run, str], Awaitable[tuple[Outcome, str]]]

PLAYS: dict[str, Play] = {
    "token-replay": token_replay,
    "code-interception": code_interception,
    "code-replay": code_replay,
    "redirect-uri-tampering": redirect_uri_tampering,
    "redirect-csrf": redirect_csrf,
    "token-injection": token_injection,
    "referer-history-leak": referer_history_leak,
    "refresh-token-theft": refresh_token_theft,
}


class AttackError(Exception):
    """The run could not be carried out (unknown attack or mode, a server not answering)."""


async def run_attack(attack_id: str, mode: str, target: AttackTarget) -> AttackReport:
    """Run ``attack_id`` in ``mode`` and report what the attacker did and how it ended.

    Raises :class:`AttackError` for an unknown attack or mode or a broken stack, and
    :class:`~tokenpath.lab.attacks.report.AttackUnavailable` when the mode needs something
    this server or machine does not have (DPoP, Chromium).
    """
    attack = find_attack(attack_id)
    chosen = attack.mode(mode) if attack else None
    if attack is None or chosen is None:
        raise AttackError(f"no attack {attack_id!r} with mode {mode!r}")
    run = Run(target, await lab_actors(target))
    try:
        outcome, why = await PLAYS[attack.id](run, mode)
    except (FlowError, httpx.HTTPError, KeyError, ValueError) as error:
        raise AttackError(f"{attack.title} ({mode}) could not run: {error!r}") from error
    finally:
        await run.close()
    return AttackReport(
        attack=attack.id,
        title=attack.title,
        mode=chosen.id,
        mode_label=chosen.label,
        rfc9700=attack.rfc9700,
        insecure=chosen.insecure,
        steps=run.journal.steps,
        requests=run.journal.requests,
        outcome=outcome,
        why=why,
    )
