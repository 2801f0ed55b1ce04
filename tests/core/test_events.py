"""Security event records: bounded, secret-free, machine-readable."""

from __future__ import annotations

import json
import logging

import pytest

from tokenpath.core.clock import FixedClock
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


def test_repeated_throttled_events_are_counted_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock = FixedClock()
    sink = LogEventSink(clock=clock)
    knock = Event(name=EventName.LOGIN_THROTTLED, outcome="throttled", source="192.0.2.1")
    other = Event(name=EventName.LOGIN_THROTTLED, outcome="throttled", source="192.0.2.2")
    refused = Event(name=EventName.LOGIN_FAILED, outcome="refused", source="192.0.2.1")
    with caplog.at_level(logging.INFO, logger="tokenpath.security"):
        for _ in range(500):
            sink.emit(knock)
            sink.emit(refused)  # refusals are never folded
        sink.emit(other)
        clock.advance(LogEventSink.REPEAT_WINDOW)
        sink.emit(knock)
    records = [r.event_fields for r in caplog.records]  # type: ignore[attr-defined]
    assert len([r for r in records if r["event"] == "login.failed"]) == 500
    throttled = [r for r in records if r["event"] == "login.throttled"]
    assert [(r["source"], r.get("repeated")) for r in throttled] == [
        ("192.0.2.1", None),
        ("192.0.2.2", None),
        ("192.0.2.1", 499),
    ]
