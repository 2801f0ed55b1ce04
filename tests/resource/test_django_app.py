"""The documented Django sample, on a real WSGI server, with real tokens from tokenpath.

Django's settings are process-wide: this module configures them once, for the sample.
"""

from __future__ import annotations

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from examples.resource_server.django_notes import create_app

from tests.resource.authserver import API, AuthServer, serve_wsgi
from tests.resource.samples import assert_dpop, assert_protected
from tokenpath.resource.django import BearerTokenMiddleware, require_token


@pytest.fixture(scope="module")
def django_app(auth_server: AuthServer) -> WSGIHandler:
    return create_app(auth_server.issuer, API)


def test_the_sample_is_protected_end_to_end(
    auth_server: AuthServer, django_app: WSGIHandler
) -> None:
    with serve_wsgi(django_app) as api:
        assert_protected(api, auth_server)
        assert_dpop(api, auth_server)


def test_require_token_without_the_middleware_fails_closed_and_loudly(
    django_app: WSGIHandler,
) -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.test import RequestFactory

    @require_token()
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("never")

    with pytest.raises(ImproperlyConfigured, match="BearerTokenMiddleware"):
        view(RequestFactory().get("/"))


def test_the_middleware_needs_its_setting(django_app: WSGIHandler) -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    with (
        override_settings(TOKENPATH_RESOURCE={"REALM": "x"}),
        pytest.raises(ImproperlyConfigured, match="VALIDATOR"),
    ):
        BearerTokenMiddleware(lambda request: HttpResponse())
    with (
        override_settings(TOKENPATH_RESOURCE={"VALIDATOR": object()}),
        pytest.raises(ImproperlyConfigured, match="not a token validator"),
    ):
        BearerTokenMiddleware(lambda request: HttpResponse())
