"""A notes API protected by tokenpath access tokens, in Flask.

Run it with ``ISSUER=https://login.example API=https://notes.example python flask_notes.py``.
"""

import os

from flask import Flask, request

from tokenpath.resource import SyncJwtValidator
from tokenpath.resource.flask import TokenAuth, current_token, require_token


def create_app(issuer: str, api: str) -> Flask:
    """``issuer``: the authorization server's URL; ``api``: this API's identifier (``aud``)."""
    app = Flask(__name__)
    TokenAuth(SyncJwtValidator(issuer=issuer, audience=api), realm="notes", app=app)
    notes: dict[str, list[str]] = {}

    @app.get("/notes")
    @require_token("notes:read")
    def list_notes() -> dict[str, object]:
        subject = current_token().subject
        return {"sub": subject, "notes": notes.get(subject, [])}

    @app.post("/notes")
    @require_token("notes:write")
    def add_note() -> tuple[dict[str, object], int]:
        text = str((request.get_json(silent=True) or {}).get("text", ""))
        notes.setdefault(current_token().subject, []).append(text)
        return {"sub": current_token().subject, "text": text}, 201

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    create_app(os.environ["ISSUER"], os.environ["API"]).run(port=8000)
