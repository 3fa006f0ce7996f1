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
instead of the whole store, and findings keep their ids, so re-detection adds nothing
(it merges what a later pass sees of a known finding into it).

A sessionless line (shell history, a provider record) is linked to its agent call when both
have arrived. Until it is linked, and for `settle_seconds` after it was ingested, it is kept
out of the detectors' view, so one incident is not paged twice (once as an orphan, once
again as its session); after that it is detected on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from agentaudit.detect.base import Detector, scrubbed
from agentaudit.detect.driver import builtin_detectors
from agentaudit.detect.link import SHELL_WINDOW_SECONDS, link_events
from agentaudit.schema import earliest, latest
from agentaudit.store import Store, now

# Context kept for the whole window: what a rule or correlation can build on.
NOTABLE = (
    "(destructive OR secret_fps IS NOT NULL OR credential_fp IS NOT NULL "
    "OR severity <> 'info' OR kind = 'api')"
)
# Plain calls this close before the batch are context when a sessionless shell line of the
# batch has the same command: linking the line to its agent call needs them.
RECENT_ALL_SECONDS = SHELL_WINDOW_SECONDS
# What a link starts from (agentaudit/link.py): a sessionless shell line or provider record.
# Once it has a link to an agent's call or session, linking it again adds nothing.
_UNLINKED = "session_id IS NULL AND event_id NOT IN (SELECT event_id FROM {links} WHERE reason <> 'shell session')"
_LINKABLE_SHELL = f"source LIKE 'shell.%' AND {_UNLINKED}"
_LINKABLE_PROVIDER = f"kind = 'api' AND {_UNLINKED}"


@dataclass
class PassResult:
    new_findings: list[dict[str, Any]]
    links_added: int
    window_events: int
    unsettled_until: datetime | None  # run again at this time: lines are still settling
    unsettled_since: datetime | None = None  # pass it as `held_since` next time
    updated: list[str] = field(default_factory=list)  # known findings given more evidence
    detectors_run: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase of the pass
    postponed: bool = False  # the deferred detectors did not run: detect this batch again


def _ts(value: datetime) -> str:
    return f"TIMESTAMPTZ '{value.isoformat()}'"


def detect_recent(
    store: Store,
    since: datetime | None,
    *,
    held_since: datetime | None = None,
    window_seconds: float,
    settle_seconds: float,
    context: str = "notable",
    detectors: list[Detector] | None = None,
    deferred: Collection[Detector] = (),
    on_urgent: Callable[[list[dict[str, Any]]], None] | None = None,
    postpone: Callable[[], bool] | None = None,
) -> PassResult:
    """Link and detect over events ingested at or after `since` plus their window.

    `held_since`: sessionless lines ingested since then that an earlier pass held back to
    settle come back (only they: the batch does not grow with everything ingested meanwhile).

    `deferred` detectors run last; when the others found a new high or critical finding,
    those findings are stored and handed to `on_urgent` (which pages them) before the
    deferred detectors run, so a page does not wait for them. Their findings are stored
    after them, as usual; the result lists the findings of both stages. After such a page,
    `postpone()` returning True skips the deferred detectors (`postponed` in the result):
    the caller detects the batch again later, when nothing more urgent waits.
    """
    started = now()
    since = since or held_since or started
    catalog = store.con.execute("SELECT current_database()").fetchall()[0][0]
    table = f'"{catalog}".main.events'
    batch = f"ingested_at >= {_ts(since)}"
    if held_since is not None and held_since < since:
        batch = f"({batch} OR (ingested_at >= {_ts(held_since)} AND session_id IS NULL))"
    oldest = store.con.execute(f"SELECT min(time) FROM {table} WHERE {batch}").fetchall()[0][0]
    # One SELECT per part, so each can skip row groups by its own column's min/max
    # (an OR of them would scan the whole table).
    parts = [f"ingested_at >= {_ts(since)}"]
    if held_since is not None and held_since < since:
        parts.append(f"ingested_at >= {_ts(held_since)} AND session_id IS NULL")
    if oldest is not None:
        start = _ts(oldest - timedelta(seconds=window_seconds))
        if context == "all":
            parts.append(f"time >= {start}")
        else:
            recent = _ts(oldest - timedelta(seconds=RECENT_ALL_SECONDS))
            shell_commands = (
                f"SELECT command FROM {table} WHERE {batch} "
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
        # (two SELECTs, each pruned by its own column's min/max, not one OR over the table)
        touched = (
            f"SELECT session_id FROM {table} WHERE session_id IS NOT NULL AND {batch} "
            f"UNION SELECT session_id FROM {table} WHERE session_id IS NOT NULL "
            f"AND time >= {window_start} AND {NOTABLE}"
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
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - clock
        clock = time.perf_counter()

    detectors = builtin_detectors() if detectors is None else detectors
    new: list[dict[str, Any]] = []
    updated: list[str] = []
    try:
        # The window is copied once (a few thousand rows at most): every query below reads
        # it instead of filtering the whole table again.
        store.con.execute(f"CREATE OR REPLACE TEMP TABLE window_events AS {window}")
        store.con.execute(_EVENTS_VIEW)
        lap("window")
        # Every link query starts from a sessionless shell line or provider record: a window
        # without one (agent hook lines only) has nothing to link.
        links = 0
        shell, provider = _window_has(
            store,
            [
                _LINKABLE_SHELL.format(links=links_table),
                _LINKABLE_PROVIDER.format(links=links_table),
            ],
        )
        if shell or provider:
            links = link_events(store, shell=shell, provider=provider)
        waiting = store.con.execute(
            f"SELECT max(ingested_at), count(*), min(ingested_at) FROM events WHERE {unsettled}"
        ).fetchall()[0]
        store.con.execute(f"DELETE FROM window_events WHERE {unsettled}")
        lap("link")
        # Detectors read `links` through `event_sessions`: only the window's links matter.
        store.con.execute(_LINKS_VIEW.format(links=links_table))
        # The view's joins are computed once per pass, not once per detector.
        store.con.execute(
            f'CREATE OR REPLACE TEMP TABLE window_sessions AS SELECT * FROM "{catalog}".main.event_sessions'
        )
        if context != "all":
            # Only the sessions this pass touched (a new event, or one linked to them just
            # now) can have a new finding: the others were judged when they last changed.
            store.con.execute(
                f"""DELETE FROM window_sessions WHERE session_key IS NOT NULL
                    AND session_key NOT IN (
                        SELECT session_key FROM window_sessions WHERE session_key IS NOT NULL
                        AND ({batch} OR event_id IN (
                            SELECT event_id FROM {links_table}
                            WHERE created_at >= {_ts(started)})))"""
            )
        store.con.execute(_SESSIONS_VIEW)
        size = store.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        # (the deferred detectors' anchors are looked at after the page too)
        runnable = _anchored(store, [d for d in detectors if d not in deferred])
        lap("prepare")
        findings: list[dict[str, Any]] = []
        for detector in runnable:
            findings += detector.run(store)
        lap("detectors")
        postponed = False
        if deferred and on_urgent is not None and _urgent(findings):
            new, updated = _record(store, findings)
            findings = []
            lap("store")
            if _urgent(new):
                _drop_shadows(store)  # the page reads the store, not the window
                on_urgent(new)
                lap("page")
                postponed = postpone is not None and postpone()
                if not postponed:
                    _create_shadows(store, links_table)
        later = []
        if deferred and not postponed:
            later = _anchored(store, [d for d in detectors if d in deferred])
        runnable += later
        for detector in later:
            findings += detector.run(store)
        lap("detectors")
    finally:
        _drop_shadows(store)
        store.con.execute("DROP TABLE IF EXISTS temp.window_sessions")
        store.con.execute("DROP TABLE IF EXISTS temp.window_events")
    late_new, late_updated = _record(store, findings)
    new, updated = new + late_new, updated + late_updated
    lap("store")
    until = waiting[0] + timedelta(seconds=settle_seconds) if waiting[1] else None
    held = waiting[2] if waiting[1] else None
    return PassResult(
        new, links, int(size), until, held, updated, len(runnable), timings, postponed
    )


_EVENTS_VIEW = "CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM window_events"
_LINKS_VIEW = (
    "CREATE OR REPLACE TEMP VIEW links AS SELECT * FROM {links} "
    "WHERE event_id IN (SELECT event_id FROM window_events)"
)
_SESSIONS_VIEW = "CREATE OR REPLACE TEMP VIEW event_sessions AS SELECT * FROM window_sessions"
_URGENT = ("high", "critical")


def _urgent(findings: list[dict[str, Any]]) -> bool:
    return any(f["severity"] in _URGENT for f in findings)


def _drop_shadows(store: Store) -> None:
    """Drop the temp views that shadow the store's tables (the window's copies stay)."""
    for view in ("event_sessions", "links", "events"):
        store.con.execute(f"DROP VIEW IF EXISTS temp.{view}")


def _create_shadows(store: Store, links_table: str) -> None:
    store.con.execute(_EVENTS_VIEW)
    store.con.execute(_LINKS_VIEW.format(links=links_table))
    store.con.execute(_SESSIONS_VIEW)


def _window_has(store: Store, conditions: list[str]) -> list[bool]:
    """For each SQL condition: does any event of the window meet it (one scan for all)."""
    if not conditions:
        return []
    columns = ", ".join(f"coalesce(bool_or({c}), FALSE)" for c in conditions)
    return list(store.con.execute(f"SELECT {columns} FROM window_events").fetchall()[0])


def _anchored(store: Store, detectors: list[Detector]) -> list[Detector]:
    """The detectors whose anchor event is in the window (or that have none)."""
    anchored = [d for d in detectors if d.anchor]
    try:
        found = _window_has(store, [d.anchor for d in anchored])
    except duckdb.Error:  # a broken anchor (a user's rule) must not skip anything: run them all
        return list(detectors)
    present = dict(zip([id(d) for d in anchored], found, strict=True))
    return [d for d in detectors if not d.anchor or present[id(d)]]


_SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _record(store: Store, findings: list[dict[str, Any]]) -> tuple[list, list[str]]:
    """Store new findings; merge a known one's new evidence into it. Returns (new, updated ids).

    A finding's id is its detector, session and anchor (never the window's set of events), so
    a later pass that sees more of the same finding (a shell line linked since, a call that
    was refused meanwhile) finds the same id: its events join the stored finding and the
    latest detection's evidence replaces the old, as a one-shot `detect` would state it.
    """
    if not findings:
        return [], []
    findings = scrubbed(findings)
    merged: dict[str, dict[str, Any]] = {}
    for finding in findings:
        same = merged.get(finding["finding_id"])
        merged[finding["finding_id"]] = _merge(same, finding) if same else dict(finding)
    known = {
        row["finding_id"]: row
        for row in store.rows(
            """SELECT finding_id, event_ids, evidence, title, severity, first_seen, last_seen
               FROM findings WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))""",
            [list(merged)],
        )
    }
    new = [f for fid, f in merged.items() if fid not in known]
    if new:
        store.append_findings(new)
    updated = []
    for fid, finding in merged.items():
        if fid not in known:
            continue
        old = known[fid]
        combined = _merge(old, finding)
        if {k: combined[k] for k in old} != old:
            store.con.execute(
                """UPDATE findings SET event_ids = ?, evidence = ?, title = ?, severity = ?,
                       first_seen = ?, last_seen = ? WHERE finding_id = ?""",
                [combined[k] for k in ("event_ids", "evidence", "title", "severity")]
                + [combined["first_seen"], combined["last_seen"], fid],
            )
            updated.append(fid)
    return new, updated


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`old` with `new`'s events added and `new`'s evidence; the span and severity widen."""
    severity = max((old["severity"], new["severity"]), key=lambda s: _SEVERITY_RANK.get(s, 0))
    return {
        **old,
        "event_ids": list(dict.fromkeys([*old["event_ids"], *new["event_ids"]])),
        "evidence": new["evidence"],
        "title": new["title"],
        "severity": severity,
        "first_seen": earliest([old["first_seen"], new["first_seen"]]),
        "last_seen": latest([old["last_seen"], new["last_seen"]]),
    }
