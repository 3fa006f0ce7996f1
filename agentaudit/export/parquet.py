"""`export --format parquet`: events and Detection Finding records as Parquet, for data lakes.

Written by DuckDB's own `COPY ... (FORMAT PARQUET, PARTITION_BY (date, source))`, hive style:

    <out>/events/date=YYYY-MM-DD/source=<source>/part-<uuid>.parquet     the events columns
    <out>/findings/date=YYYY-MM-DD/source=agentaudit.findings/part-<uuid>.parquet
                                                                        finding_log: seq, ids,
                                                                        activity, time, ocsf

`date` is the day (UTC) the event happened (ingest time when the source had none); findings by
the lifecycle record's time. Each run adds new part files with the rows after the cursor (the
same cursor table as the line formats), so nothing already written is replaced or truncated.
The columns are the store's own, already redacted at ingest (what `duckdb <store>` reads).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from agentaudit.export.stream import Cursor, ExportReport, load_cursor, save_cursor
from agentaudit.store import Store

_EVENT_TIME = "coalesce(time, ingested_at)"
_OPTIONS = "FORMAT PARQUET, PARTITION_BY (date, source), FILENAME_PATTERN 'part-{uuid}', APPEND"
FINDINGS_SOURCE = "agentaudit.findings"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_parquet(
    store: Store,
    out: Path,
    *,
    since: datetime | None = None,
    cursor_name: str | None = None,
    what: str = "all",
) -> ExportReport:
    """Write the events and finding records after the cursor (all with cursor_name=None) as
    new part files under `out`; the cursor moves once both COPYs are done."""
    cursor = load_cursor(store, cursor_name) if cursor_name else Cursor("-")
    report = ExportReport(cursor=cursor_name)
    out.mkdir(parents=True, exist_ok=True)
    if what in ("all", "events"):
        _copy_events(store, out / "events", cursor, since, report)
    if what in ("all", "findings"):
        _copy_findings(store, out / "findings", cursor, since, report)
    if cursor_name:
        save_cursor(store, cursor)
    return report


def _copy_events(
    store: Store, out: Path, cursor: Cursor, since: datetime | None, report: ExportReport
) -> None:
    # one transaction: the last row read and the rows copied are the same snapshot, so the
    # COPY needs no upper bound (an event stored meanwhile waits for the next run)
    fresh = cursor.events_ingested_at == Cursor("-").events_ingested_at
    after = "true" if fresh else "(ingested_at > $at OR (ingested_at = $at AND event_id > $id))"
    params = {} if fresh else {"at": cursor.events_ingested_at, "id": cursor.events_event_id}
    store.con.execute("BEGIN TRANSACTION")
    try:
        last = store.con.execute(
            f"SELECT ingested_at, event_id FROM events WHERE {after} "
            "ORDER BY ingested_at DESC, event_id DESC LIMIT 1",
            params,
        ).fetchone()
        written = None
        if last is not None:
            wanted = after + (f" AND {_EVENT_TIME} >= $since" if since else "")
            written = store.con.execute(
                f"""COPY (SELECT *, strftime({_EVENT_TIME} AT TIME ZONE 'UTC', '%Y-%m-%d') AS date
                          FROM events WHERE {wanted})
                    TO {_literal(out)} ({_OPTIONS})""",
                {**params, **({"since": since} if since else {})},
            ).fetchone()
    finally:
        store.con.execute("COMMIT")
    if last is None:
        return
    report.events += int(written[0]) if written else 0
    report.written += int(written[0]) if written else 0
    cursor.events_ingested_at, cursor.events_event_id = last


def _copy_findings(
    store: Store, out: Path, cursor: Cursor, since: datetime | None, report: ExportReport
) -> None:
    last = store.con.execute(
        "SELECT max(seq) FROM finding_log WHERE seq > ?", [cursor.finding_seq]
    ).fetchone()
    if last is None or last[0] is None:
        return
    wanted = "seq > $after AND seq <= $last" + (' AND "time" >= $since' if since else "")
    params = {"after": cursor.finding_seq, "last": last[0], **({"since": since} if since else {})}
    written = store.con.execute(
        f"""COPY (SELECT *, strftime("time" AT TIME ZONE 'UTC', '%Y-%m-%d') AS date,
                         '{FINDINGS_SOURCE}' AS source
                  FROM finding_log WHERE {wanted})
            TO {_literal(out)} ({_OPTIONS})""",
        params,
    ).fetchone()
    report.findings += int(written[0]) if written else 0
    report.written += int(written[0]) if written else 0
    cursor.finding_seq = int(last[0])
