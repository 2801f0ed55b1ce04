"""A notes API protected by tokenpath access tokens, in Django (one file: settings, views, URLs).

Run it with ``ISSUER=https://login.example API=https://notes.example python django_notes.py``.
"""

import json
import os
import sys

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from tokenpath.resource import SyncJwtValidator
from tokenpath.resource.django import require_token

notes: dict[str, list[str]] = {}


# A bearer token is not sent by the browser on its own, as a cookie is: no CSRF check applies.
@method_decorator(csrf_exempt, name="dispatch")
class Notes(View):
    @method_decorator(require_token("notes:read"))
    def get(self, request: HttpRequest) -> JsonResponse:
        subject = request.access_token.subject
        return JsonResponse({"sub": subject, "notes": notes.get(subject, [])})

    @method_decorator(require_token("notes:write"))
    def post(self, request: HttpRequest) -> JsonResponse:
        text = str(json.loads(request.body or b"{}").get("text", ""))
        notes.setdefault(request.access_token.subject, []).append(text)
        return JsonResponse({"sub": request.access_token.subject, "text": text}, status=201)


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("notes", Notes.as_view()), path("health", health)]


def create_app(issuer: str, api: str) -> WSGIHandler:
    """``issuer``: the authorization server's URL; ``api``: this API's identifier (``aud``)."""
    settings.configure(
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", os.urandom(32).hex()),
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "tokenpath.resource.django.BearerTokenMiddleware",
        ],
        TOKENPATH_RESOURCE={
            "VALIDATOR": SyncJwtValidator(issuer=issuer, audience=api),
            "REALM": "notes",
        },
    )
    import django
    from django.core.wsgi import get_wsgi_application

    django.setup()
    return get_wsgi_application()


if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    create_app(os.environ["ISSUER"], os.environ["API"])
    execute_from_command_line([sys.argv[0], "runserver", "8000"])
