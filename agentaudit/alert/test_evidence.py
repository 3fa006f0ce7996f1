"""Evidence events by id: within the findings' span first, the whole store when that misses."""

from __future__ import annotations

from agentaudit.alert.evidence import SPAN_MARGIN, rows_by_event_ids
from agentaudit.testing import at, event, store_with

SQL = "SELECT event_id, command FROM events WHERE event_id IN (SELECT unnest(?::VARCHAR[])) {span} ORDER BY time"


def _finding(first: float, last: float) -> dict:
    return {"first_seen": at(first), "last_seen": at(last)}


def test_events_within_the_span_are_found_with_the_span_condition():
    old = event(-7 * 86400, command="echo old")  # a week before: outside span and margin
    inside = [event(0, command="rm -rf build"), event(5, command="git status")]
    store = store_with([old, *inside])
    calls: list[str] = []
    rows_of = store.rows
    store.rows = lambda sql, params=None: calls.append(sql) or rows_of(sql, params)  # type: ignore[method-assign]
    ids = [e["event_id"] for e in inside]
    rows = rows_by_event_ids(store, SQL, [ids], ids, [_finding(0, 5)])
    assert [r["command"] for r in rows] == ["rm -rf build", "git status"]
    assert len(calls) == 1 and "BETWEEN" in calls[0]  # no second, unbounded query


def test_an_event_outside_span_and_margin_is_still_found():
    far = event(SPAN_MARGIN.total_seconds() + 3600, command="curl -X POST provider")
    near = event(0, command="railway volume delete")
    store = store_with([near, far])
    ids = [near["event_id"], far["event_id"]]
    rows = rows_by_event_ids(store, SQL, [ids], ids, [_finding(0, 0)])
    assert [r["command"] for r in rows] == ["railway volume delete", "curl -X POST provider"]


def test_untimed_findings_read_without_a_span():
    untimed = event(0, command="rm -rf ~/x", time_precision="none")
    store = store_with([untimed])
    ids = [untimed["event_id"]]
    rows = rows_by_event_ids(store, SQL, [ids], ids, [{"first_seen": None, "last_seen": None}])
    assert [r["event_id"] for r in rows] == ids
