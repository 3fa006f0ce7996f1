"""Reading a finding's evidence events by id without scanning the whole store.

Event ids are hashes: a lookup by id alone reads every row group of `events` (tens of ms
with a few hundred thousand events of history, several times per alert). A finding's events
lie within its span (first_seen..last_seen; a linked shell line or provider record can fall
a little outside), so a condition on `time` around the span lets DuckDB skip the row groups
outside it by their min/max. When that finds fewer than all the ids, the query runs again
without it: the answer is exact either way.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agentaudit.schema import earliest, latest
from agentaudit.store import Store

SPAN_MARGIN = timedelta(hours=1)


def rows_by_event_ids(
    store: Store,
    sql: str,
    params: list[Any],
    ids: list[str],
    findings: list[dict[str, Any]],
    column: str = "time",
) -> list[dict[str, Any]]:
    """Run `sql` (its `{span}` placeholder closes its WHERE clause; its rows carry
    `event_id`) first within the findings' span, then without it if an id was missed."""
    start = earliest(f["first_seen"] for f in findings)
    end = latest(f["last_seen"] for f in findings)
    if ids and start is not None and end is not None:
        rows = store.rows(
            sql.format(span=f"AND {column} BETWEEN ? AND ?"),
            [*params, start - SPAN_MARGIN, end + SPAN_MARGIN],
        )
        if {r["event_id"] for r in rows} >= set(ids):
            return rows
    return store.rows(sql.format(span=""), params)


def findings_of(store: Store, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings of these alerts (alert_members rows), oldest first."""
    ids = sorted({f for m in members for f in (m["finding_ids"] or [])})
    return store.rows(
        """SELECT * FROM findings WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))
           ORDER BY first_seen, rule_id""",
        [ids],
    )
