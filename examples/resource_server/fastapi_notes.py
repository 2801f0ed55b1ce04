"""A notes API protected by tokenpath access tokens, in FastAPI.

Run it with ``ISSUER=https://login.example API=https://notes.example python fastapi_notes.py``.
"""

import os
from typing import Annotated

import uvicorn
from fastapi import FastAPI, Security
from pydantic import BaseModel

from tokenpath.resource import AccessToken, JwtValidator
from tokenpath.resource.fastapi import TokenAuth


class Note(BaseModel):
    text: str


def create_app(issuer: str, api: str) -> FastAPI:
    """``issuer``: the authorization server's URL; ``api``: this API's identifier (``aud``)."""
    validator = JwtValidator(issuer=issuer, audience=api)
    auth = TokenAuth(validator, realm="notes")
    app = FastAPI(title="Notes")
    auth.install(app)
    notes: dict[str, list[str]] = {}

    @app.get("/notes")
    async def list_notes(
        token: Annotated[AccessToken, Security(auth, scopes=["notes:read"])],
    ) -> dict[str, object]:
        return {"sub": token.subject, "notes": notes.get(token.subject, [])}

    @app.post("/notes", status_code=201)
    async def add_note(
        note: Note, token: Annotated[AccessToken, Security(auth, scopes=["notes:write"])]
    ) -> dict[str, object]:
        notes.setdefault(token.subject, []).append(note.text)
        return {"sub": token.subject, "text": note.text}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    uvicorn.run(create_app(os.environ["ISSUER"], os.environ["API"]), port=8000)
