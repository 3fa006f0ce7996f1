"""Helpers for tests of detectors and exporters: canonical events without a collector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from agentaudit.collectors import collector_for_source
from agentaudit.enrich.event import enrich
from agentaudit.enrich.secrets import Redactor
from agentaudit.schema import new_event
from agentaudit.store import Store

BASE_TIME = datetime(2026, 4, 24, 19, 0, 0, tzinfo=UTC)
TEST_KEY = b"agentaudit-test-key-0123456789ab"
_seq = count(1)


def at(seconds: float) -> datetime:
    return BASE_TIME + timedelta(seconds=seconds)


def event(seconds: float, source: str = "cursor.hooks", **columns: Any) -> dict[str, Any]:
    """An enriched canonical event `seconds` after BASE_TIME (kind defaults to process)."""
    seq = next(_seq)
    columns.setdefault("kind", "process")
    columns.setdefault("status", "unknown")
    collector = collector_for_source(source)
    columns.setdefault("agent", (collector.agent if collector else None) or "unknown")
    precision = columns.pop("time_precision", "ms")  # "none": a source without times
    ev = new_event(
        source,
        f"test-{seq}",
        time=at(seconds),
        time_precision=precision,
        seq=seq,
        source_path="test",
        parser_version="test/1",
        ingested_at=at(seconds),
        **columns,
    )
    return enrich(ev, Redactor(TEST_KEY))


def store_with(events: list[dict[str, Any]]) -> Store:
    store = Store.open(":memory:")
    store.append_events(events)
    return store
