"""The admin API's OpenAPI 3.1 document, derived from its operation rows.

Every operation documents its success status and shape, its request body (the schema the
server validates with, ``admin_schema.BODIES``) and every error status it can answer, each an
``Error`` object; so a generated client and a fuzzer see exactly the API the server serves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tokenpath.web.admin_schema import BODIES, Operation, Section

__all__ = ["document"]

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    "required": ["error", "error_description"],
}
_REASONS = {
    400: "The body is not JSON",
    401: "No valid admin token",
    404: "Not found",
    409: "The state refuses the change",
    413: "The body is too large",
    422: "The input breaks a rule",
}


def _responses(op: Operation) -> dict[str, Any]:
    if op.response == "empty":
        success: dict[str, Any] = {"description": "Done"}
    else:
        schema = {"type": op.response}
        success = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    errors = {401, *op.answers, *((400, 413, 422) if op.body else ())}
    if op.query:
        errors.add(422)
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses = {str(op.ok): success}
    for status in sorted(errors):
        responses[str(status)] = {"description": _REASONS[status], "content": error_content}
    return responses


def _parameters(op: Operation) -> list[dict[str, Any]]:
    names = re.findall(r"{(\w+)}", op.path)
    parameters: list[dict[str, Any]] = [
        {"name": n, "in": "path", "required": True,
         "schema": {"type": "string", "minLength": 1, "maxLength": 255}}
        for n in names
    ]  # fmt: skip
    for name in op.query:
        schema = {"type": "integer", "minimum": 1, "maximum": 1000} if name == "limit" else {
            "type": "string", "minLength": 1, "maxLength": 255}  # fmt: skip
        parameters.append({"name": name, "in": "query", "required": False, "schema": schema})
    return parameters


def _operation(op: Operation, tag: str) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": f"{op.method.lower()}_{re.sub(r'[^a-z]+', '_', op.path.lower()).strip('_')}",
        "summary": op.summary,
        "tags": [tag],
        "parameters": _parameters(op),
        "responses": _responses(op),
    }
    if op.body:
        described["requestBody"] = {
            "required": op.body_required,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{op.body}"}}
            },
        }
    return described


def document(sections: Sequence[Section]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for section in sections:
        for op in section.operations:
            paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, section.tag)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tokenpath admin API",
            "version": "1",
            "description": "Clients, users, grants and keys; docs/reference/admin-api.md.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR, **BODIES},
            "securitySchemes": {"admin": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"admin": []}],
        "tags": [{"name": s.tag} for s in sections],
    }
