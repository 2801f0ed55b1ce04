"""Rows to core records and back, generated once per (record class, table) from the dataclasses.

Why: a store that lists fields by hand in both directions drifts from the record the day a field
is added; one that reflects on every call pays for it on the token path, which reads a client,
a code or a refresh token on every request. A :class:`RecordMap` does the reflection once, at
import, and keeps only a tuple of ``(name, column position, converter)`` per direction.

Rules, checked when a map is built (so a mismatch fails at import, before any request):

* Every record field has a column of the same name, and every column a field.
* Each field's codec follows from its type: ``str``/``int`` (optional or not) pass through;
  ``bool`` is coerced; a ``StrEnum`` is stored as its value; ``tuple[str, ...]`` and
  ``tuple[<StrEnum>, ...]`` as space-joined words (OAuth's own scope syntax, RFC 6749 §3.3).
  A field may name another codec (``redirect_uris`` are a JSON list, which keeps every
  character of a URI that is compared byte for byte). Any other type raises ``TypeError``.
* Reads take whole-table rows, ``select(table)`` or ``RETURNING *table.c``, by column position:
  the cheapest access both SQLAlchemy rows and asyncpg records offer.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

from sqlalchemy import Row, Table

from tokenpath.core.records import (
    AccessTokenRecord,
    AdminToken,
    Api,
    ApiScope,
    AuthorizationCode,
    Client,
    Grant,
    InitialAccessToken,
    PushedRequest,
    RefreshTokenRecord,
    RevocationEvent,
    Session,
    SigningKey,
    User,
)
from tokenpath.storage.sql import models as m

__all__ = [
    "ACCESS_TOKENS",
    "ADMIN_TOKENS",
    "APIS",
    "CLIENTS",
    "CODES",
    "GRANTS",
    "INITIAL_ACCESS_TOKENS",
    "JSON_LIST",
    "MAPS",
    "PUSHED_REQUESTS",
    "REFRESH_TOKENS",
    "REVOCATION_EVENTS",
    "SESSIONS",
    "SIGNING_KEYS",
    "USERS",
    "Codec",
    "RecordMap",
    "codec_for",
]

R = TypeVar("R")
Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Codec:
    """How one field is written to its column (``encode``) and read back (``decode``)."""

    encode: Convert
    decode: Convert


def _words(value: str) -> tuple[str, ...]:
    return tuple(value.split())


WORDS = Codec(encode=" ".join, decode=_words)
JSON_LIST = Codec(
    encode=lambda value: json.dumps(list(value)), decode=lambda t: tuple(json.loads(t))
)
BOOL = Codec(encode=bool, decode=bool)
API_SCOPES = Codec(
    encode=lambda scopes: json.dumps([[s.name, s.description] for s in scopes]),
    decode=lambda text: tuple(ApiScope(name=n, description=d) for n, d in json.loads(text)),
)
"""An API's scopes with their consent texts, in order, as a JSON list of pairs."""


def _enum(kind: type[StrEnum]) -> Codec:
    return Codec(encode=lambda value: value.value, decode=kind)


def _enum_words(kind: type[StrEnum]) -> Codec:
    return Codec(
        encode=lambda values: " ".join(v.value for v in values),
        decode=lambda text: tuple(kind(word) for word in text.split()),
    )


def _is_enum(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, StrEnum)


def codec_for(hint: Any) -> Codec | None:
    """The codec a field type implies; None where the value passes through unchanged."""
    if hint is bool:
        return BOOL
    if hint in (str, int):
        return None
    if get_origin(hint) in (Union, types.UnionType):
        present = [a for a in get_args(hint) if a is not type(None)]
        if len(present) == 1 and present[0] in (str, int):
            return None
    if _is_enum(hint):
        return _enum(hint)
    args = get_args(hint)
    if get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        if args[0] is str:
            return WORDS
        if _is_enum(args[0]):
            return _enum_words(args[0])
    raise TypeError(f"no column codec for {hint!r}; name one in the RecordMap's codecs")


class RecordMap(Generic[R]):
    """One record class on one table: ``record(row)`` reads, ``values(record)`` writes."""

    __slots__ = ("_reads", "_writes", "columns", "record_type", "table")

    def __init__(
        self, record_type: type[R], table: Table, codecs: Mapping[str, Codec] | None = None
    ) -> None:
        if not is_dataclass(record_type):
            raise TypeError(f"{record_type!r} is not a dataclass")
        hints = get_type_hints(record_type)
        names = [f.name for f in fields(record_type)]
        columns: list[str] = list(table.c.keys())
        unmapped = [n for n in names if n not in columns]
        unread = [c for c in columns if c not in names]
        if unmapped or unread:
            raise TypeError(
                f"{record_type.__name__} and table {table.name} differ: fields without a column "
                f"{unmapped}, columns without a field {unread} (add a migration, or the field)"
            )
        chosen = {n: (codecs or {}).get(n) or codec_for(hints[n]) for n in names}
        self.record_type = record_type
        self.table = table
        self.columns: tuple[str, ...] = tuple(names)
        self._reads = tuple(
            (n, columns.index(n), c.decode if c else None) for n, c in chosen.items()
        )
        self._writes = tuple((n, c.encode if c else None) for n, c in chosen.items())

    def record(self, row: Row[Any] | Sequence[Any]) -> R:
        """The record held by a whole-table row."""
        return self.record_type(
            **{
                name: row[i] if decode is None else decode(row[i])
                for name, i, decode in self._reads
            }
        )

    def values(self, record: R) -> dict[str, Any]:
        """Column values for ``record``, keyed by column name (insert or update parameters)."""
        return {
            name: getattr(record, name) if encode is None else encode(getattr(record, name))
            for name, encode in self._writes
        }


CLIENTS = RecordMap(
    Client,
    m.clients,
    {"redirect_uris": JSON_LIST, "post_logout_redirect_uris": JSON_LIST, "resources": JSON_LIST},
)
USERS = RecordMap(User, m.users)
GRANTS = RecordMap(Grant, m.grants, {"resources": JSON_LIST})
APIS = RecordMap(Api, m.apis, {"scopes": API_SCOPES})
REVOCATION_EVENTS = RecordMap(RevocationEvent, m.revocation_events)
CODES = RecordMap(AuthorizationCode, m.codes)
ACCESS_TOKENS = RecordMap(AccessTokenRecord, m.access_tokens)
REFRESH_TOKENS = RecordMap(RefreshTokenRecord, m.refresh_tokens)
SESSIONS = RecordMap(Session, m.sessions)
SIGNING_KEYS = RecordMap(SigningKey, m.signing_keys)
INITIAL_ACCESS_TOKENS = RecordMap(InitialAccessToken, m.initial_access_tokens)
PUSHED_REQUESTS = RecordMap(PushedRequest, m.pushed_requests)
ADMIN_TOKENS = RecordMap(AdminToken, m.admin_tokens)

MAPS: tuple[RecordMap[Any], ...] = (
    CLIENTS,
    USERS,
    GRANTS,
    CODES,
    ACCESS_TOKENS,
    REFRESH_TOKENS,
    SESSIONS,
    SIGNING_KEYS,
    INITIAL_ACCESS_TOKENS,
    PUSHED_REQUESTS,
    ADMIN_TOKENS,
    APIS,
    REVOCATION_EVENTS,
)
"""Every record the SQL stores keep, each on its table."""
