"""One format for every log line: tokenpath's, uvicorn's and the libraries', text or JSON.

Every record goes through one handler on the root logger, so a log shipper parses one shape:

* ``text``: ``2026-12-01T10:00:00.123+00:00 INFO     tokenpath.web: message [request_id=…]``
* ``json``: one object per line: ``timestamp`` (ISO 8601, UTC), ``level``, ``logger``,
  ``message``, ``request_id`` while a request is being served, the structured fields of a
  security event (``core/events.py``) and the access log's fields, and ``exception`` text.

The request id lives in a context variable: set once per request by the web layer
(:func:`request_scope`), it reaches every record logged while that request is served, in any
module, without being passed around.

Nothing here decides what is logged; the rule that no secret, token, code or password is ever
put into a record is kept where records are written (and tested end to end).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = [
    "EXTRA_FIELDS",
    "JsonFormatter",
    "TextFormatter",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
    "request_scope",
]

_request_id: ContextVar[str | None] = ContextVar("tokenpath_request_id", default=None)

EXTRA_FIELDS = ("event_fields", "access")
"""Record attributes holding a dict of structured fields, merged into a JSON line."""

QUIET_LOGGERS = {"alembic": logging.WARNING, "httpx": logging.WARNING, "httpcore": logging.WARNING}
"""Libraries whose INFO lines say nothing an operator needs (and httpx's would carry URLs)."""


def current_request_id() -> str | None:
    """The id of the request being served in this context, if any."""
    return _request_id.get()


def bind_request_id(request_id: str) -> None:
    """Mark every later record of this task (a request's task in uvicorn) with ``request_id``,
    including the server's own report of an error that escapes the app."""
    _request_id.set(request_id)


@contextmanager
def request_scope(request_id: str) -> Iterator[None]:
    """Every record logged inside the block carries ``request_id``."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<8} {record.name}: {record.getMessage()}"
        request_id = getattr(record, "request_id", None)
        if request_id:
            line += f" [request_id={request_id}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "timestamp": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            document["request_id"] = request_id
        for name in EXTRA_FIELDS:
            fields = getattr(record, name, None)
            if isinstance(fields, dict):
                document.update({k: v for k, v in fields.items() if k not in document})
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


_MARK = "_tokenpath_handler"


def configure_logging(log_format: str = "text", level: str = "info") -> None:
    """Route every logger through one handler on the root logger, in ``log_format``.

    Safe to call again (the handler is replaced, not added twice). uvicorn must be started with
    ``log_config=None`` so that it keeps its hands off the loggers.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
    handler = _StandardError()
    setattr(handler, _MARK, True)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))


def is_configured() -> bool:
    """True once :func:`configure_logging` has run in this process."""
    return any(getattr(h, _MARK, False) for h in logging.getLogger().handlers)
