"""Helpers for tests (and `rules test`): enriched events without a collector, a store holding
them, one detector's findings, one collector's output, a free port."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from agentaudit.collectors import collector_for_source
from agentaudit.enrich.event import enrich
from agentaudit.enrich.secrets import Redactor
from agentaudit.schema import EventRow, FindingRow, Quarantined, new_event
from agentaudit.store import Store

if TYPE_CHECKING:
    from agentaudit.detect.base import Detector

BASE_TIME = datetime(2026, 4, 24, 19, 0, 0, tzinfo=UTC)
TEST_KEY = b"agentaudit-test-key-0123456789ab"
_seq = count(1)


def at(seconds: float) -> datetime:
    return BASE_TIME + timedelta(seconds=seconds)


def event(seconds: float, source: str = "cursor.hooks", **columns: Any) -> EventRow:
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
    # (enrich is typed over plain dicts since enrich-once; the row it fills is an EventRow)
    return cast(EventRow, enrich(cast(dict[str, Any], ev), Redactor(TEST_KEY)))


def store_with(events: Sequence[EventRow]) -> Store:
    store = Store.open(":memory:")
    store.append_events(events)
    return store


def findings_of(detector_class: Callable[..., Detector]) -> Callable[..., list[FindingRow]]:
    """`findings(events, **options)`: what one detector finds in the events, stored afresh.

    Each call builds `detector_class(**options)` and runs it through the detection driver on a
    new in-memory store holding exactly `events`.
    """
    from agentaudit.detect.driver import run_detection

    def findings(events: Sequence[EventRow], **options: Any) -> list[FindingRow]:
        with store_with(events) as store:
            return run_detection(store, [detector_class(**options)]).findings

    return findings


def collect(
    collector: str, path: str | Path = "mem", data: bytes | None = None, **source_options: Any
) -> tuple[list[EventRow], list[Quarantined]]:
    """One collector over a file (or over `data` as if read from `path`): (events, quarantined)."""
    from agentaudit.collectors import get_collector
    from agentaudit.collectors.base import SourceInput

    data = Path(path).read_bytes() if data is None else data
    source = SourceInput.from_bytes(str(path), data, **source_options)
    outputs = list(get_collector(collector).collect(source))
    events = [o for o in outputs if not isinstance(o, Quarantined)]
    return events, [o for o in outputs if isinstance(o, Quarantined)]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a real server in a test)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
