"""The Flask adapter beyond the sample: an instance-bound decorator, and failing closed."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.resource.support import AUDIENCE, TokenIssuer
from tokenpath.core.clock import FixedClock
from tokenpath.resource import SyncJwtValidator
from tokenpath.resource.flask import TokenAuth, current_token, require_token


@pytest.fixture
def validator(issuer: TokenIssuer, clock: FixedClock) -> SyncJwtValidator:
    return SyncJwtValidator(
        issuer=issuer.url, audience=AUDIENCE, jwks_uri=issuer.jwks_uri, clock=clock
    )


def test_a_decorator_bound_to_one_instance(
    issuer: TokenIssuer, validator: SyncJwtValidator
) -> None:
    app = Flask(__name__)
    auth = TokenAuth(validator, realm="flask")  # not registered with the app: require() suffices

    @app.get("/me")
    @auth.require()
    def me() -> str:
        return current_token().subject

    http = app.test_client()
    assert http.get("/me", headers={"Authorization": f"Bearer {issuer.sign()}"}).text == "alice"
    refused = http.get("/me")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == (
        'Bearer realm="flask", DPoP realm="flask", algs="ES256 EdDSA RS256 PS256"'
    )
    assert refused.headers["Cache-Control"] == "no-store"


def test_require_token_without_the_extension_fails_closed_and_loudly() -> None:
    app = Flask(__name__)

    @app.get("/me")
    @require_token()
    def me() -> str:
        return "never"

    app.testing = True
    with pytest.raises(RuntimeError, match="init_app"):
        app.test_client().get("/me")
