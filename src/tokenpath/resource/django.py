"""Django: a middleware that validates the bearer token and a view decorator that checks scopes.

Settings::

    MIDDLEWARE = [..., "tokenpath.resource.django.BearerTokenMiddleware"]
    TOKENPATH_RESOURCE = {
        "VALIDATOR": SyncJwtValidator(issuer=ISSUER, audience=API),  # or a dotted path to one
        "REALM": "notes",
        "DPOP": True,  # or a DpopOptions(...), or a dotted path to one; False: Bearer only
    }

Views::

    @require_token("notes:read")
    def notes(request):
        request.access_token.subject

The middleware validates a presented token once per request and sets ``request.access_token``
(an :class:`~tokenpath.resource.validation.AccessToken` or None); :func:`require_token` answers
the refusal (``method_decorator(require_token(...), name="get")`` on class-based views). Every
decision is :mod:`.guard`'s, so refusals read exactly as the other adapters' do.

Django is imported here only: ``pip install 'tokenpath[django]'``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from tokenpath.resource.guard import Authenticated, Denial, DpopOptions, RequestFacts, SyncGuard
from tokenpath.resource.validation import AccessToken, SyncTokenValidator

try:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.utils.module_loading import import_string
except ImportError as error:  # pragma: no cover - exercised only without Django installed
    raise ImportError(
        "tokenpath.resource.django needs Django: pip install 'tokenpath[django]'"
    ) from error

__all__ = ["SETTING", "BearerTokenMiddleware", "require_token"]

SETTING = "TOKENPATH_RESOURCE"
_OUTCOME = "_tokenpath_outcome"

View = Callable[..., HttpResponse]


def _guard_from_settings() -> SyncGuard:
    config: Any = getattr(settings, SETTING, None)
    if not isinstance(config, dict) or "VALIDATOR" not in config:
        raise ImproperlyConfigured(f'{SETTING} = {{"VALIDATOR": ..., "REALM": ...}} is needed')
    validator = config["VALIDATOR"]
    if isinstance(validator, str):
        validator = import_string(validator)
    if not callable(getattr(validator, "validate", None)):
        raise ImproperlyConfigured(f"{SETTING}['VALIDATOR'] is not a token validator")
    realm = config.get("REALM", "tokenpath")
    dpop = config.get("DPOP", True)
    if isinstance(dpop, str):
        dpop = import_string(dpop)
    if not isinstance(dpop, DpopOptions | bool):
        raise ImproperlyConfigured(f"{SETTING}['DPOP'] is not True, False or DpopOptions")
    return SyncGuard(cast(SyncTokenValidator, validator), realm=str(realm), dpop=dpop)


def _facts(request: HttpRequest) -> RequestFacts:
    return RequestFacts.of(
        request.method or "GET", request.build_absolute_uri(), request.headers.items()
    )


def _render(denial: Denial) -> HttpResponse:
    return JsonResponse(dict(denial.body), status=denial.status, headers=dict(denial.headers))


class BearerTokenMiddleware:
    """Validates a presented bearer token once per request; views decide what they need."""

    def __init__(self, get_response: View) -> None:
        self.get_response = get_response
        self.guard = _guard_from_settings()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        outcome = self.guard.authenticate(_facts(request))
        request.access_token = outcome if isinstance(outcome, AccessToken) else None
        setattr(request, _OUTCOME, (self.guard, outcome))
        return self.get_response(request)


def require_token(*scopes: str) -> Callable[[View], View]:
    """Guard a view: it runs only for a valid token holding every scope in ``scopes``."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            state: tuple[SyncGuard, Authenticated] | None = getattr(request, _OUTCOME, None)
            if state is None:
                # fail closed and loudly: without the middleware nobody could be let in
                raise ImproperlyConfigured("require_token needs BearerTokenMiddleware")
            guard, outcome = state
            decision = guard.authorize(outcome, *scopes)
            if isinstance(decision, Denial):
                return _render(decision)
            return view(request, *args, **kwargs)

        return guarded

    return decorate
