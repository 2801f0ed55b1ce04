"""Security event records: bounded, secret-free, machine-readable."""

from __future__ import annotations

import json
import logging

import pytest

from tokenpath.core.events import (
    MAX_FIELD,
    Event,
    EventName,
    ListEventSink,
    LogEventSink,
    bounded,
    hash_username,
)


def test_bounded_cuts_attacker_input_and_says_how_long_it_was() -> None:
    assert bounded(None) is None
    assert bounded("short") == "short"
    cut = bounded("x" * 12_288)
    assert cut is not None and len(cut) < MAX_FIELD + 32 and cut.endswith("(12288 chars)")


def test_username_hash_is_stable_case_insensitive_and_not_the_name() -> None:
    assert hash_username("Alice") == hash_username("alice")
    assert hash_username("alice") != hash_username("bob")
    assert "alice" not in hash_username("alice") and len(hash_username("alice")) == 16


def test_log_sink_writes_one_json_record(caplog: pytest.LogCaptureFixture) -> None:
    event = Event(
        name=EventName.LOGIN_FAILED,
        outcome="refused",
        username_hash=hash_username("alice"),
        source="127.0.0.1",
        detail="bad password",
    )
    with caplog.at_level(logging.INFO, logger="tokenpath.security"):
        LogEventSink().emit(event)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    fields = json.loads(record.getMessage().removeprefix("security event "))
    assert fields == {
        "event": "login.failed",
        "outcome": "refused",
        "username_hash": hash_username("alice"),
        "source": "127.0.0.1",
        "detail": "bad password",
    }
    assert record.event_fields == fields  # type: ignore[attr-defined]


def test_admin_changes_are_info_and_extra_fields_flatten(caplog: pytest.LogCaptureFixture) -> None:
    event = Event(
        name=EventName.ADMIN_CHANGE,
        outcome="changed",
        client_id="c1",
        extra=(("action", "client.add"),),
    )
    with caplog.at_level(logging.INFO, logger="tokenpath.security"):
        LogEventSink().emit(event)
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.event_fields == {  # type: ignore[attr-defined]
        "event": "admin.change",
        "outcome": "changed",
        "client_id": "c1",
        "action": "client.add",
    }


def test_list_sink_filters_by_name() -> None:
    sink = ListEventSink()
    sink.emit(Event(name=EventName.CODE_REPLAYED, outcome="revoked", grant_id="g"))
    sink.emit(Event(name=EventName.LOGIN_FAILED, outcome="refused"))
    assert [e.grant_id for e in sink.named(EventName.CODE_REPLAYED)] == ["g"]
