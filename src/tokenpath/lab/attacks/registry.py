"""The attack playground's table of contents: each attack, its RFC 9700 section and its modes.

Order is the lab page's order. A mode names what differs (a bearer or a DPoP-bound token, a
client with or without PKCE ...), which outcome it must have, and whether it uses one of the
deliberately vulnerable lab-only clients (``insecure_*`` modules, never reachable from
``tokenpath serve``). The authorization server itself has no vulnerable switch: attacks 3, 4 and
8 only have modes in which the server stops them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.lab.attacks.report import Outcome

__all__ = ["ATTACKS", "Attack", "Mode", "find_attack"]


@dataclass(frozen=True, slots=True)
class Mode:
    id: str
    label: str
    expected: Outcome
    insecure: bool = False
    """Uses a deliberately vulnerable lab-only client."""
    browser: bool = False
    """Runs in headless Chromium (what only a browser does: fragments, history, Referer)."""


@dataclass(frozen=True, slots=True)
class Attack:
    id: str
    title: str
    rfc9700: str
    summary: str
    modes: tuple[Mode, ...]

    def mode(self, mode_id: str) -> Mode | None:
        return next((m for m in self.modes if m.id == mode_id), None)


ATTACKS: tuple[Attack, ...] = (
    Attack(
        "token-replay",
        "Stolen access token replayed from elsewhere",
        "§4.10.1",
        "The attacker copies an access token (from a log, a proxy, a compromised API) and calls "
        "the API with it from another machine.",
        (
            Mode("bearer", "bearer token", "succeeded"),
            Mode("dpop", "DPoP-bound token (RFC 9449)", "stopped"),
        ),
    ),
    Attack(
        "code-interception",
        "Authorization code interception by another app on the same device",
        "§2.1.1",
        "A malicious app on the victim's device receives the redirect meant for the real app "
        "(same custom scheme, or it took the loopback port first) and redeems the code itself.",
        (
            Mode("no-pkce", "app without PKCE (secret baked into the app)", "succeeded", True),
            Mode("pkce", "app with PKCE (the demo CLI client)", "stopped"),
        ),
    ),
    Attack(
        "code-replay",
        "Authorization code replay",
        "§4.2.4",
        "The attacker replays a code that was already redeemed (found in a log or in history).",
        (Mode("replay", "replay a redeemed code", "stopped"),),
    ),
    Attack(
        "redirect-uri-tampering",
        "Redirect URI tampering",
        "§4.1.3",
        "The attacker sends the victim a sign-in link for a real client whose redirect_uri points "
        "at the attacker, hoping the server sends the code there.",
        (Mode("tamper", "tampered redirect_uri variants", "stopped"),),
    ),
    Attack(
        "redirect-csrf",
        "CSRF on the redirect (session swapping)",
        "§4.7.1",
        "The attacker starts a sign-in with their own account, keeps the code, and makes the "
        "victim's browser deliver it to the client's redirect URI: the victim ends up signed in "
        "as the attacker and stores their data in the attacker's account.",
        (
            Mode("no-state", "client without state or PKCE", "succeeded", True),
            Mode("state", "client with state (the demo web app)", "stopped"),
            Mode("pkce", "client without state but with PKCE", "stopped", True),
        ),
    ),
    Attack(
        "token-injection",
        "Access token injection into an implicit client",
        "§4.6",
        "The attacker holds the victim's access token issued to another client (the attacker's "
        "own app) and injects it into an implicit client's redirect URI fragment: a naive page "
        "believes the attacker is the victim.",
        (
            Mode("naive", "naive implicit page (accepts any token)", "succeeded", True, True),
            Mode("audience", "page checks whom the token was issued to", "stopped", True, True),
            Mode("code", "client uses code + PKCE (the demo browser app)", "stopped", False, True),
        ),
    ),
    Attack(
        "referer-history-leak",
        "Token leakage through Referer and history",
        "§4.2.4, §4.3.2",
        "A careless page keeps the authorization response in its address and loads a "
        "third-party image under a permissive Referrer-Policy: the URL travels to the third "
        "party and stays in the browser history.",
        (
            Mode("implicit", "implicit flow", "succeeded", True, True),
            Mode("code", "code flow (+ PKCE)", "stopped", True, True),
        ),
    ),
    Attack(
        "refresh-token-theft",
        "Refresh token theft",
        "§4.14.2",
        "The attacker steals a public client's refresh token and uses it; rotation with reuse "
        "detection notices the second use and revokes the whole token family.",
        (
            Mode("attacker-first", "attacker refreshes first", "stopped"),
            Mode("victim-first", "victim refreshes first", "stopped"),
        ),
    ),
)


def find_attack(attack_id: str) -> Attack | None:
    return next((a for a in ATTACKS if a.id == attack_id), None)
