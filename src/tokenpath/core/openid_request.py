"""The OpenID Connect parameters of an authorization request (OIDC Core 1.0 §3.1.2.1), as rows of
the trusted check table in ``core/authorization_request.py``.

Each check reads its parameter from the draft's parsed ``params`` and contributes its value; the
interactive consequences (sign in again for ``prompt=login`` or an old ``max_age``,
``login_required`` with ``prompt=none``) are decided in ``core/authorize.py``. ``acr_values`` has
no row: no ``acr`` is implemented or advertised, and voluntary ``acr_values`` are best effort
(Core §5.5.1.1).
"""

from __future__ import annotations

from tokenpath.core.authorization_drafts import TrustedDraft, earlier
from tokenpath.core.errors import AccountSelectionRequired, InvalidRequest
from tokenpath.core.login import MAX_USERNAME
from tokenpath.core.policy import Policy

__all__ = [
    "MAX_AGE_DIGITS",
    "MAX_NONCE",
    "check_login_hint",
    "check_max_age",
    "check_nonce",
    "check_openid_scope",
    "check_prompt",
]

_PROMPTS = frozenset({"none", "consent", "login", "select_account"})
MAX_NONCE = 512  # it is copied into every ID token of the grant
MAX_AGE_DIGITS = 10  # over 300 years; no unbounded integer parsing


def check_openid_scope(draft: TrustedDraft, policy: Policy) -> None:
    """OIDC Core §3.1.2.1: an ID token is only ever issued for a request with ``openid``."""
    spec = earlier(draft.response_spec, "response_type")
    if spec.returns_id_token and "openid" not in earlier(draft.scopes, "scopes"):
        raise InvalidRequest(f"response_type {spec.response_type} needs the openid scope")


def check_nonce(draft: TrustedDraft, policy: Policy) -> None:
    """OIDC Core §3.2.2.1: ``nonce`` is REQUIRED when the authorization endpoint returns an ID
    token (it binds the token to the client's session against replay); bounded in length."""
    spec = earlier(draft.response_spec, "response_type")
    nonce = draft.params.get("nonce") or None
    if nonce is None and spec.returns_id_token:
        raise InvalidRequest(f"nonce is required for response_type {spec.response_type}")
    if nonce is not None and len(nonce) > MAX_NONCE:
        raise InvalidRequest(f"nonce is longer than {MAX_NONCE} characters")
    draft.nonce = nonce


def check_prompt(draft: TrustedDraft, policy: Policy) -> None:
    """OIDC Core §3.1.2.1: ``none`` stands alone; ``select_account`` without ``login`` is
    ``account_selection_required`` (§3.1.2.6: we cannot show an account chooser); with ``login``
    the fresh sign-in is the account choice, so it is dropped."""
    raw = draft.params.get("prompt")
    prompt = frozenset(raw.split(" ")) if raw else frozenset()
    if not prompt <= _PROMPTS:
        raise InvalidRequest("unknown prompt value")
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    if "select_account" in prompt:
        if "login" not in prompt:
            raise AccountSelectionRequired("this server has no account chooser")
        prompt -= {"select_account"}
    draft.prompt = prompt


def check_max_age(draft: TrustedDraft, policy: Policy) -> None:
    """OIDC Core §3.1.2.1: ``max_age`` is a non-negative integer number of seconds."""
    raw = draft.params.get("max_age")
    if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_AGE_DIGITS):
        raise InvalidRequest("max_age must be a non-negative integer (seconds)")
    draft.max_age = None if raw is None else int(raw)


def check_login_hint(draft: TrustedDraft, policy: Policy) -> None:
    """OIDC Core §3.1.2.1: ``login_hint`` prefills the sign-in form; no longer than a user name."""
    hint = draft.params.get("login_hint")
    if hint is not None and len(hint) > MAX_USERNAME:
        raise InvalidRequest(f"login_hint is longer than {MAX_USERNAME} characters")
    draft.login_hint = hint or None
