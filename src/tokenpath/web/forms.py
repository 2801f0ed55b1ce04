"""Turning raw query strings and form bodies into the ordered pairs the core expects.

The web layer parses syntax only: bytes → UTF-8 → ``application/x-www-form-urlencoded`` pairs,
in order, duplicates kept (the core rejects them, RFC 6749 §3.1). Every failure here is a
:class:`~tokenpath.core.errors.InvalidRequest`, so bad bytes become a 400, never a 500:

* total size is bounded before anything is decoded (and the body is read incrementally, so an
  oversized upload is refused without buffering it);
* invalid UTF-8, raw or percent-encoded, is refused (``errors="strict"``);
* only ``application/x-www-form-urlencoded`` bodies are accepted (RFC 6749 §3.2, §4.1.3).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request

from tokenpath.core.errors import InvalidRequest

__all__ = [
    "FORM_CONTENT_TYPE",
    "MAX_FIELDS",
    "BodyTooLarge",
    "authorize_url",
    "parse_urlencoded",
    "read_form",
    "read_query",
    "safe_return_to",
    "single",
]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 100
Pairs = list[tuple[str, str]]


class BodyTooLarge(InvalidRequest):
    """The request body exceeded the endpoint's limit (answered with 413)."""

    status = 413


def parse_urlencoded(raw: bytes, *, limit: int) -> Pairs:
    if len(raw) > limit:
        raise BodyTooLarge(f"request is larger than {limit} bytes")
    try:
        text = raw.decode("utf-8")
        return parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise InvalidRequest("request parameters are not valid UTF-8") from None
    except ValueError:
        raise InvalidRequest(f"more than {MAX_FIELDS} parameters") from None


def read_query(request: Request, *, limit: int) -> Pairs:
    return parse_urlencoded(request.scope.get("query_string", b""), limit=limit)


def _is_form(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == FORM_CONTENT_TYPE


async def read_form(request: Request, *, limit: int) -> Pairs:
    """The body's pairs; refuses other media types and bodies over ``limit`` bytes."""
    if not _is_form(request.headers.get("content-type")):
        raise InvalidRequest(f"the request body must be {FORM_CONTENT_TYPE}")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge(f"request is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request is larger than {limit} bytes")
        chunks.append(chunk)
    return parse_urlencoded(b"".join(chunks), limit=limit)


def single(pairs: Pairs, name: str) -> str | None:
    """The one value of ``name``; a repeated control field is an error, not a choice."""
    values = [v for k, v in pairs if k == name]
    if len(values) > 1:
        raise InvalidRequest(f"parameter {name} is repeated")
    return values[0] if values else None


def authorize_url(pairs: Pairs) -> str:
    """The same-origin URL that replays an authorization request after sign-in."""
    return "/authorize?" + urlencode(pairs)


_RETURN_TO_LIMIT = 16 * 1024


def safe_return_to(value: str | None) -> str:
    """Only a relative ``/authorize?...`` path of our own; anything else becomes ``/``.

    This is the whole open-redirect defence of ``/login`` (RFC 9700 §4.11, catalog A5.6):
    ``//evil.example``, ``https://evil.example``, ``/\\evil`` and the like never match.
    """
    if not value or len(value) > _RETURN_TO_LIMIT or not value.startswith("/authorize?"):
        return "/"
    if not value.isascii() or "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path != "/authorize" or parts.fragment:
        return "/"
    return value
