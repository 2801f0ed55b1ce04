"""The resource library's HTTP reads, written once and run by an async or a sync shell.

The JWKS cache, discovery and the revocation feed each need a short conversation with the
authorization server ("GET this; if that fails, try the next URL; read that document"). Each is
written once, as a generator that *yields* the request it wants and is *sent* the JSON document
(or has the error thrown in): no I/O in the logic, as in the sans-IO core. :func:`drive` runs it
with ``httpx.AsyncClient`` for ASGI APIs, :func:`drive_sync` with ``httpx.Client`` for WSGI ones
(Flask, Django), so the two flavours cannot drift apart.

Every read is bounded: 2xx only, redirects not followed, at most ``Get.limit`` bytes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "Get",
    "Steps",
    "drive",
    "drive_sync",
    "read_json",
    "read_json_sync",
]

MAX_DOCUMENT_BYTES = 256 * 1024
"""A JWKS, metadata or feed document larger than this is refused rather than read into memory."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Get:
    """One GET a conversation asks for; ``auth`` is HTTP Basic credentials (never logged)."""

    url: str
    params: tuple[tuple[str, str], ...] = ()
    auth: httpx.BasicAuth | None = field(default=None, repr=False)
    limit: int = MAX_DOCUMENT_BYTES


Steps = Generator[Get, Any, T]
"""A conversation: yields :class:`Get`, is sent the JSON document, returns its result."""

_FAILURES = (httpx.HTTPError, ValueError)


def _request(get: Get) -> dict[str, Any]:
    return {"params": list(get.params), "auth": get.auth, "headers": {"Accept": "application/json"}}


def _too_large(get: Get) -> ValueError:
    return ValueError(f"{get.url} sent more than {get.limit} bytes")


async def read_json(client: httpx.AsyncClient, get: Get) -> Any:
    """The JSON document ``get`` names (see the module docstring for the bounds)."""
    async with client.stream("GET", get.url, **_request(get)) as response:
        response.raise_for_status()
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > get.limit:
                raise _too_large(get)
    return json.loads(body)


def read_json_sync(client: httpx.Client, get: Get) -> Any:
    """:func:`read_json` for threads."""
    with client.stream("GET", get.url, **_request(get)) as response:
        response.raise_for_status()
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > get.limit:
                raise _too_large(get)
    return json.loads(body)


async def drive(steps: Steps[T], fetch: Callable[[Get], Awaitable[Any]]) -> T:
    """Run a conversation with an async ``fetch``; its failures are thrown into the steps."""
    try:
        get = next(steps)
        while True:
            try:
                document = await fetch(get)
            except _FAILURES as error:
                get = steps.throw(error)
            else:
                get = steps.send(document)
    except StopIteration as done:
        result: T = done.value
        return result


def drive_sync(steps: Steps[T], fetch: Callable[[Get], Any]) -> T:
    """:func:`drive` for threads."""
    try:
        get = next(steps)
        while True:
            try:
                document = fetch(get)
            except _FAILURES as error:
                get = steps.throw(error)
            else:
                get = steps.send(document)
    except StopIteration as done:
        result: T = done.value
        return result
