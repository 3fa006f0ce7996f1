"""Detection on each small batch, with the recent window as context.

The detectors and the linker read `events` (through the `event_sessions` view). For one pass
a connection-local TEMP view named `events` shadows the table with the window, copied once
into a temp table: every event ingested since the last pass; the *notable* events
(destructive, carrying a secret or a credential, above info, or a provider record) of the
`window_seconds` before the oldest of them (event time); the context of the sessions the
batch touches (their prompts, file reads and failures, however old); and the calls of the 10 s before it
(the linking window) whose command a new sessionless shell line repeats. `context: all`
keeps every event of the window instead (for detectors that need the plain calls too;
slower under heavy load). Detectors and linking run unchanged, over a few thousand rows
instead of the whole store, and findings keep their ids, so re-detection adds nothing.

A sessionless line (shell history, a provider record) is linked to its agent call when both
have arrived. Until it is linked, and for `settle_seconds` after it was ingested, it is kept
out of the detectors' view, so one incident is not paged twice (once as an orphan, once
again as its session); after that it is detected on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agentaudit.detect import builtin_detectors
from agentaudit.detect.base import Detector
from agentaudit.link import SHELL_WINDOW_SECONDS, link_events
from agentaudit.store import Store, now

# Context kept for the whole window: what a rule or correlation can build on.
NOTABLE = (
    "(destructive OR secret_fps IS NOT NULL OR credential_fp IS NOT NULL "
    "OR severity <> 'info' OR kind = 'api')"
)
# Plain calls this close before the batch are context when a sessionless shell line of the
# batch has the same command: linking the line to its agent call needs them.
RECENT_ALL_SECONDS = SHELL_WINDOW_SECONDS


@dataclass
class PassResult:
    new_findings: list[dict[str, Any]]
    links_added: int
    window_events: int
    unsettled_until: datetime | None  # run again at this time: lines are still settling


def _ts(value: datetime) -> str:
    return f"TIMESTAMPTZ '{value.isoformat()}'"


def detect_recent(
    store: Store,
    since: datetime,
    *,
    window_seconds: float,
    settle_seconds: float,
    context: str = "notable",
    detectors: list[Detector] | None = None,
) -> PassResult:
    """Link and detect over events ingested at or after `since` plus their window."""
    catalog = store.con.execute("SELECT current_database()").fetchall()[0][0]
    table = f'"{catalog}".main.events'
    oldest = store.con.execute(
        f"SELECT min(time) FROM {table} WHERE ingested_at >= ?", [since]
    ).fetchall()[0][0]
    # One SELECT per part, so each can skip row groups by its own column's min/max
    # (an OR of them would scan the whole table).
    parts = [f"ingested_at >= {_ts(since)}"]
    if oldest is not None:
        start = _ts(oldest - timedelta(seconds=window_seconds))
        if context == "all":
            parts.append(f"time >= {start}")
        else:
            recent = _ts(oldest - timedelta(seconds=RECENT_ALL_SECONDS))
            shell_commands = (
                f"SELECT command FROM {table} WHERE ingested_at >= {_ts(since)} "
                "AND session_id IS NULL AND command IS NOT NULL"
            )
            parts.append(f"time >= {start} AND {NOTABLE}")
            parts.append(f"time >= {recent} AND command IN ({shell_commands})")
    if oldest is not None:
        # The sessions this batch touches keep their context however old it is: the task's
        # own words, the files read (.env.staging), failures. Behaviours such as
        # environment-scope and S9 judge a call by them, as a one-shot `detect` does.
        # (touched: a new event is theirs, or a notable event of the window is: a provider
        # record arriving last has no session, but the call it records has)
        window_start = _ts(oldest - timedelta(seconds=window_seconds))
        touched = (
            f"SELECT DISTINCT session_id FROM {table} WHERE session_id IS NOT NULL "
            f"AND (ingested_at >= {_ts(since)} OR (time >= {window_start} AND {NOTABLE}))"
        )
        parts.append(
            f"session_id IN ({touched}) AND (kind IN ('message', 'file') "
            f"OR status = 'failure' OR {NOTABLE})"
        )
    window = " UNION ALL ".join(f"SELECT * FROM {table} WHERE {part}" for part in parts)
    window = f"SELECT * FROM ({window}) QUALIFY row_number() OVER (PARTITION BY event_id) = 1"
    settled_at = now() - timedelta(seconds=settle_seconds)
    unsettled = (
        f"session_id IS NULL AND ingested_at > {_ts(settled_at)} "
        "AND event_id NOT IN (SELECT event_id FROM links)"
    )
    links_table = f'"{catalog}".main.links'
    try:
        # The window is copied once (a few thousand rows at most): every query below reads
        # it instead of filtering the whole table again.
        store.con.execute(f"CREATE OR REPLACE TEMP TABLE window_events AS {window}")
        store.con.execute("CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM window_events")
        links = link_events(store)
        waiting = store.con.execute(
            f"SELECT max(ingested_at), count(*) FROM events WHERE {unsettled}"
        ).fetchall()[0]
        store.con.execute(f"DELETE FROM window_events WHERE {unsettled}")
        # Detectors read `links` through `event_sessions`: only the window's links matter.
        store.con.execute(
            f"CREATE OR REPLACE TEMP VIEW links AS SELECT * FROM {links_table} "
            "WHERE event_id IN (SELECT event_id FROM window_events)"
        )
        size = store.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        findings: list[dict[str, Any]] = []
        for detector in detectors or builtin_detectors():
            findings += detector.run(store)
    finally:
        store.con.execute("DROP VIEW IF EXISTS temp.links")
        store.con.execute("DROP VIEW IF EXISTS temp.events")
        store.con.execute("DROP TABLE IF EXISTS temp.window_events")
    new = _new_only(store, findings)
    if new:
        store.append_findings(new)
    until = waiting[0] + timedelta(seconds=settle_seconds) if waiting[1] else None
    return PassResult(new, links, int(size), until)


def _new_only(store: Store, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not findings:
        return []
    ids = list({f["finding_id"] for f in findings})
    known = {
        row[0]
        for row in store.con.execute(
            "SELECT finding_id FROM findings WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))",
            [ids],
        ).fetchall()
    }
    seen: set[str] = set()
    out = []
    for finding in findings:
        if finding["finding_id"] not in known and finding["finding_id"] not in seen:
            seen.add(finding["finding_id"])
            out.append(finding)
    return out
