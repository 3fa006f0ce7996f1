"""For every source and host: when it last reported, at what usual pace, and whether it has
gone silent.

Read from the stored events (no table of its own): per (source, host) the last event's time
(its `time`, else when it was stored), the distinct minutes it reported in over the last
`HORIZON`, and the gaps between them. A host is the event's `host`; events without one are
this machine's (hook logs, transcripts and histories name no host).

A source's quiet period is the user's (`sources.yaml`), else learned: `LEARN_FACTOR` times
the longest gap between its reports over the horizon, at least `MIN_LEARNED_QUIET`, once it
has `LEARN_MIN_REPORTS` reports over `LEARN_MIN_SPAN`; before that it is `learning`.

Silent, not asleep: a laptop that sleeps stops every source at once. A host's reports (all
its sources together) tell when it was away: a gap of `sleep_gap` with no report at all. A
source is `silent` when it has been quiet for its quiet period counted from its last report
or from the host's return, whichever is later, *and* the host's other sources reported after
that deadline: the host was up and this source alone said nothing. Quiet with no other
source reporting is `asleep`. A source whose last record was stored long after it happened
(a bulk import of old logs) is `archive`: nothing is expected of it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agentaudit.health.config import HealthConfig
from agentaudit.store import Store, now

HORIZON = timedelta(days=30)
LEARN_FACTOR = 1.5
MIN_LEARNED_QUIET = timedelta(hours=1)
LEARN_MIN_REPORTS = 20
LEARN_MIN_SPAN = timedelta(days=7)
LIVE_LAG = timedelta(hours=1)  # stored within this of happening: a live feed

_SQL = """
WITH ev AS (
    SELECT source, coalesce(host, '') AS host, coalesce(time, ingested_at) AS seen_at,
           ingested_at, event_id, list_contains(categories, 'audit_tamper') AS tamper
    FROM {events}
),
recent AS (
    SELECT source, host, epoch(date_trunc('minute', seen_at)) AS minute
    FROM ev WHERE seen_at >= ? GROUP BY ALL
),
gaps AS (
    SELECT source, host,
           minute - lag(minute) OVER (PARTITION BY source, host ORDER BY minute) AS gap
    FROM recent
),
pace AS (
    SELECT source, host, count(*) AS reports, max(gap) AS longest_gap, median(gap) AS usual_gap
    FROM gaps GROUP BY ALL
),
latest AS (
    SELECT source, host, count(*) AS events, min(seen_at) AS first_seen, max(seen_at) AS last_seen,
           max(ingested_at) AS last_stored, arg_max(event_id, seen_at) AS last_event_id,
           epoch(arg_max(ingested_at, seen_at)) - epoch(max(seen_at)) AS stored_after,
           count(*) FILTER (WHERE tamper) AS tamper_events
    FROM ev GROUP BY ALL
)
SELECT l.*, coalesce(p.reports, 0) AS reports, p.longest_gap, p.usual_gap
FROM latest l LEFT JOIN pace p USING (source, host)
ORDER BY l.host, l.source
"""
# The host's returns: the end of each gap of `sleep_gap` with no report from any source.
_AWAKE_SQL = """
WITH minutes AS (
    SELECT coalesce(host, '') AS host, epoch(date_trunc('minute', coalesce(time, ingested_at))) AS m
    FROM {events} WHERE coalesce(time, ingested_at) >= ? GROUP BY ALL
),
gaps AS (SELECT host, m, m - lag(m) OVER (PARTITION BY host ORDER BY m) AS gap FROM minutes)
SELECT host, max(m) FILTER (WHERE gap >= ?) AS back_at FROM gaps GROUP BY host
"""


@dataclass
class SourceHealth:
    source: str
    host: str  # "" for this machine (events without a host)
    events: int
    first_seen: datetime
    last_seen: datetime
    last_stored: datetime
    last_event_id: str
    reports: int  # distinct minutes with a report over the horizon
    usual_gap_seconds: float | None
    quiet_seconds: float | None  # None: still learning
    quiet_from: str  # configured, learned, learning
    silent_seconds: float
    state: str  # ok, silent, asleep, learning, archive
    tamper_events: int = 0  # its records that stop or erase an audit trail (a trail stopped)

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()
        }


def events_table(store: Store) -> str:
    """The stored table itself, not a detection window's TEMP view of it."""
    catalog = store.con.execute("SELECT current_database()").fetchall()[0][0]
    return f'"{catalog}".main.events'


def source_health(
    store: Store, config: HealthConfig | None = None, at: datetime | None = None
) -> list[SourceHealth]:
    config = config or HealthConfig()
    at = at or now()
    since = at - HORIZON
    table = events_table(store)
    rows = store.rows(_SQL.format(events=table), [since])
    awake = {
        host: back_at
        for host, back_at in store.con.execute(
            _AWAKE_SQL.format(events=table), [since, config.sleep_gap.total_seconds()]
        ).fetchall()
    }
    found = [_judge(row, config, at) for row in rows]
    latest_by_host: dict[str, list[SourceHealth]] = {}
    for health in found:
        latest_by_host.setdefault(health.host, []).append(health)
    for health in found:
        if health.state == "overdue":
            others = [h.last_seen for h in latest_by_host[health.host] if h is not health]
            health.state = _silent_or_asleep(health, others, awake.get(health.host), at)
    return found


def _judge(row: dict[str, Any], config: HealthConfig, at: datetime) -> SourceHealth:
    configured = config.quiet_for(row["source"], row["host"])
    quiet, quiet_from = configured, "configured"
    if quiet is None:
        quiet, quiet_from = _learned(row), "learned"
        if quiet is None:
            quiet_from = "learning"
    silent = at - row["last_seen"]
    stored_after = timedelta(seconds=row["stored_after"] or 0)
    if configured is None and stored_after > max(LIVE_LAG, quiet or LIVE_LAG):
        state = "archive"
    elif quiet is None:
        state = "learning"
    else:
        state = "overdue" if silent > quiet else "ok"
    return SourceHealth(
        source=row["source"],
        host=row["host"],
        events=int(row["events"]),
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        last_stored=row["last_stored"],
        last_event_id=row["last_event_id"],
        reports=int(row["reports"]),
        usual_gap_seconds=row["usual_gap"],
        quiet_seconds=quiet.total_seconds() if quiet else None,
        quiet_from=quiet_from,
        silent_seconds=max(0.0, silent.total_seconds()),
        state=state,
        tamper_events=int(row["tamper_events"] or 0),
    )


def _learned(row: dict[str, Any]) -> timedelta | None:
    span = row["last_seen"] - row["first_seen"]
    if row["reports"] < LEARN_MIN_REPORTS or span < LEARN_MIN_SPAN or row["longest_gap"] is None:
        return None
    return max(MIN_LEARNED_QUIET, timedelta(seconds=LEARN_FACTOR * row["longest_gap"]))


def _silent_or_asleep(
    health: SourceHealth, others: list[datetime], back_at: float | None, at: datetime
) -> str:
    """Silent when the host's other sources reported after this one's deadline."""
    assert health.quiet_seconds is not None
    quiet = timedelta(seconds=health.quiet_seconds)
    start = health.last_seen
    if back_at is not None:  # the host came back after a sleep: count from its return
        returned = datetime.fromtimestamp(back_at, tz=UTC)
        start = max(start, returned)
    deadline = start + quiet
    if at > deadline and any(seen >= deadline for seen in others):
        return "silent"
    return "asleep" if at > deadline else "ok"


def silent_sources(
    store: Store, config: HealthConfig | None = None, at: datetime | None = None
) -> list[SourceHealth]:
    return [h for h in source_health(store, config, at) if h.state == "silent"]
