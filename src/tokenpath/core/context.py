"""One value that wires a running authorization server: policy, stores, clock, randomness, keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenpath.core.clock import Clock, TokenSource
from tokenpath.core.events import EventSink, LogEventSink
from tokenpath.core.policy import Policy
from tokenpath.core.ports import KeySetSource, PasswordHasher, Stores
from tokenpath.core.signing import Signer
from tokenpath.core.token_claims import ClaimsHook

__all__ = ["Context"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    policy: Policy
    stores: Stores
    clock: Clock
    random: TokenSource
    signer: Signer
    passwords: PasswordHasher
    events: EventSink = field(default_factory=LogEventSink)
    """Where security events go (``core/events.py``): the log, unless a test says otherwise."""
    key_sets: KeySetSource | None = None
    """Fetches clients' ``jwks_uri`` key sets; without one, such clients cannot authenticate."""
    access_token_claims: ClaimsHook | None = None
    """Adds claims to JWT access tokens (``core/token_claims.py``); reserved ones are kept."""
