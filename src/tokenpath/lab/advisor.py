"""Which flow should my app use? Six questions in, one recommendation with reasons out.

Pure logic (no I/O), shared by the lab's ``/advisor`` page and ``tokenpath advise``. The order
of the rules is the order of the questions that decide most:

1. no user at all (machine to machine) -> ``client-credentials`` (RFC 6749 §4.4);
2. a native or command-line app -> ``native``: code + PKCE through the system browser and a
   loopback or claimed redirect (RFC 8252), never a secret baked into the app (§8.5);
3. a back end that can keep a secret -> ``code``: the confidential code flow with PKCE
   (RFC 9700 §2.1.1), tokens kept on the server, the browser holding only a session cookie;
4. a browser app without such a back end -> ``code-pkce`` (RFC 9700 §2.1.2: implicit is not
   recommended), or ``implicit`` only when a legacy constraint leaves nothing else;
5. long-lived access adds ``refresh`` (rotated with reuse detection or sender-constrained for
   public clients, RFC 9700 §4.14.2), except for machine clients, which just ask again.

Flow names are the lab's run names (``/runs/new?flow=...``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

__all__ = [
    "FLOWS",
    "QUESTIONS",
    "Profile",
    "Question",
    "Reason",
    "Recommendation",
    "advise",
]

Flow = Literal["code", "implicit", "code-pkce", "native", "client-credentials", "refresh"]
FLOWS: tuple[Flow, ...] = get_args(Flow)


@dataclass(frozen=True, slots=True)
class Question:
    field: str
    flag: str
    text: str


QUESTIONS: tuple[Question, ...] = (
    Question("backend", "backend", "Does the app have a back end that can keep a secret?"),
    Question("browser", "browser", "Does it run in a browser (a single-page app)?"),
    Question("native", "native", "Is it a native (mobile, desktop) or command-line app?"),
    Question("machine", "machine", "Is it machine to machine, with no user signing in?"),
    Question("long_lived", "long-lived", "Does it need access for longer than a session?"),
    Question(
        "legacy",
        "legacy",
        "Is it held back by legacy constraints (no PKCE, no CORS at the token endpoint)?",
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    backend: bool = False
    browser: bool = False
    native: bool = False
    machine: bool = False
    long_lived: bool = False
    legacy: bool = False


@dataclass(frozen=True, slots=True)
class Reason:
    text: str
    reference: str


@dataclass(frozen=True, slots=True)
class Recommendation:
    flow: Flow
    title: str
    reasons: tuple[Reason, ...]
    also: tuple[Flow, ...] = ()
    """Flows to add (``refresh`` for long-lived access)."""
    avoid: tuple[Reason, ...] = field(default=())
    """What not to do for this kind of app, and why."""

    @property
    def lab_run(self) -> str:
        """The lab page that runs this flow for real."""
        return f"/runs/new?flow={self.flow}"

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "title": self.title,
            "reasons": [asdict(r) for r in self.reasons],
            "also": list(self.also),
            "avoid": [asdict(r) for r in self.avoid],
            "lab_run": self.lab_run,
        }


IMPLICIT_AVOID = Reason(
    "Do not use the implicit grant: the token travels in the URL, can be injected and lands "
    "in history.",
    "RFC 9700 §2.1.2, §4.3.2, §4.6",
)
PASSWORD_AVOID = Reason(
    "Do not collect the user's password in the app (resource owner password grant).",
    "RFC 9700 §2.4",
)
DPOP = Reason(
    "Bind tokens to a key the app holds (DPoP) where the server supports it, so a stolen token "
    "is useless elsewhere.",
    "RFC 9449; RFC 9700 §2.2.1, §4.10.1",
)


def _machine() -> Recommendation:
    return Recommendation(
        "client-credentials",
        "Client credentials: the app signs in as itself",
        (
            Reason("No user is involved, so no user is redirected anywhere.", "RFC 6749 §4.4"),
            Reason(
                "Authenticate with a key rather than a shared secret (private_key_jwt) where "
                "you can.",
                "RFC 9700 §2.5; RFC 7523",
            ),
            Reason(
                "No refresh token: when the access token expires the client asks again.",
                "RFC 6749 §4.4.3",
            ),
        ),
        avoid=(PASSWORD_AVOID,),
    )


def _native(profile: Profile) -> Recommendation:
    reasons = [
        Reason(
            "Authorization code with PKCE, opened in the system browser, back to a loopback "
            "port or a claimed https/custom-scheme redirect.",
            "RFC 8252 §6, §7.3; RFC 7636",
        ),
        Reason(
            "A secret shipped inside an app is no secret: the app is a public client.",
            "RFC 8252 §8.5",
        ),
        Reason(
            "PKCE stops another app on the device from redeeming an intercepted code.",
            "RFC 7636 §1; RFC 9700 §2.1.1",
        ),
    ]
    if profile.legacy:
        reasons.append(
            Reason(
                "An embedded web view is no excuse: it exposes the user's credentials to the app.",
                "RFC 8252 §8.12",
            )
        )
    return Recommendation(
        "native",
        "Native app: code + PKCE through the system browser",
        tuple(reasons),
        avoid=(IMPLICIT_AVOID, PASSWORD_AVOID),
    )


def _backend(profile: Profile) -> Recommendation:
    reasons = [
        Reason(
            "Your server is a confidential client: it redeems the code with its own "
            "credentials, so the browser never sees a token.",
            "RFC 6749 §4.1; RFC 9700 §2.1.1",
        ),
        Reason(
            "Use PKCE as well: it binds the code to the browser session that asked for it.",
            "RFC 9700 §2.1.1, §4.5",
        ),
    ]
    if profile.browser:
        reasons.append(
            Reason(
                "The browser front end calls only your back end, with a session cookie "
                "(a back end for front end).",
                "RFC 9700 §2.1.2; OAuth 2.0 for Browser-Based Apps",
            )
        )
    if profile.legacy:
        reasons.append(
            Reason(
                "If the server cannot do PKCE, an OpenID Connect nonce checked in the ID token "
                "protects a confidential client against code injection.",
                "RFC 9700 §2.1.1, §4.5.3.2",
            )
        )
    return Recommendation(
        "code",
        "Authorization code flow, redeemed by your back end",
        tuple(reasons),
        avoid=(IMPLICIT_AVOID, PASSWORD_AVOID),
    )


def _browser(profile: Profile) -> Recommendation:
    if profile.legacy:
        return Recommendation(
            "implicit",
            "Implicit, as a legacy stopgap only",
            (
                Reason(
                    "Only because the constraints leave nothing else: keep tokens short-lived, "
                    "in memory, and read the fragment once, then clear it.",
                    "RFC 9700 §2.1.2",
                ),
                Reason(
                    "Use response_type=id_token token with a nonce so an injected token is "
                    "detectable, and plan the move to code + PKCE.",
                    "RFC 9700 §4.6; OpenID Connect Core §3.2.2.9",
                ),
                Reason("No refresh token is issued with implicit.", "RFC 6749 §4.2.2"),
            ),
            avoid=(PASSWORD_AVOID,),
        )
    return Recommendation(
        "code-pkce",
        "Authorization code + PKCE in the browser",
        (
            Reason(
                "A browser app is a public client: PKCE replaces the secret it cannot keep.",
                "RFC 7636; RFC 9700 §2.1.1",
            ),
            Reason(
                "The implicit grant is not recommended: tokens in the URL leak and can be "
                "injected.",
                "RFC 9700 §2.1.2",
            ),
            Reason("Keep the token in memory, not in Web Storage.", "RFC 9700 §4.3; §2.1.2"),
            DPOP,
        ),
        avoid=(IMPLICIT_AVOID, PASSWORD_AVOID),
    )


def _general() -> Recommendation:
    return Recommendation(
        "code",
        "Authorization code flow with PKCE (the default)",
        (
            Reason(
                "Nothing here points elsewhere: the code flow with PKCE is the baseline for any "
                "app a user signs in to.",
                "RFC 9700 §2.1.1",
            ),
        ),
        avoid=(IMPLICIT_AVOID, PASSWORD_AVOID),
    )


def _refresh(profile: Profile) -> Reason:
    if profile.backend and not profile.native:
        return Reason(
            "Long-lived access: a refresh token kept on your server (never in the browser), "
            "usable only with your client's credentials.",
            "RFC 6749 §6; RFC 9700 §4.14",
        )
    return Reason(
        "Long-lived access: refresh tokens for a public client must rotate with reuse "
        "detection or be sender-constrained.",
        "RFC 9700 §4.14.2; RFC 9449 §5",
    )


def advise(profile: Profile) -> Recommendation:
    """The recommended flow for ``profile``, with reasons and RFC sections."""
    if profile.machine:
        return _machine()
    if profile.native:
        base = _native(profile)
    elif profile.backend:
        base = _backend(profile)
    elif profile.browser:
        base = _browser(profile)
    else:
        base = _general()
    if not profile.long_lived or base.flow == "implicit":
        return base
    return Recommendation(
        base.flow,
        base.title,
        (*base.reasons, _refresh(profile)),
        also=("refresh",),
        avoid=base.avoid,
    )
