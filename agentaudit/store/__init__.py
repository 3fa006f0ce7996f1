"""The DuckDB store: append-only, idempotent, private to its owner.

Every write is an Arrow batch appended with an anti-join on its key, so re-running an ingest
or a detection adds nothing. Tables: events, quarantine, links, findings, alerts,
deliveries, checkpoints, ingest_runs; alerting state (alert_members, notification_log,
silences, outbox), the OCSF finding lifecycle (finding_log) and export_cursors.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from agentaudit import paths
from agentaudit.schema import (
    EVENT_SCHEMA,
    QUARANTINE_SCHEMA,
    TIME,
    EventRow,
    FindingRow,
    to_arrow,
)
from agentaudit.store import views

LINK_SCHEMA = pa.schema(
    [
        ("link_id", pa.string()),
        ("event_id", pa.string()),
        ("linked_event_id", pa.string()),
        ("session_id", pa.string()),
        ("reason", pa.string()),
        ("created_at", TIME),
    ]
)

FINDING_SCHEMA = pa.schema(
    [
        ("finding_id", pa.string()),
        ("rule_id", pa.string()),
        ("title", pa.string()),
        ("severity", pa.string()),
        ("kind", pa.string()),
        ("first_seen", TIME),
        ("last_seen", TIME),
        ("event_ids", pa.list_(pa.string())),
        ("session_id", pa.string()),
        ("group_key", pa.string()),
        ("status", pa.string()),
        ("evidence", pa.string()),
        ("created_at", TIME),
    ]
)

_TABLES = {
    "events": (EVENT_SCHEMA, "event_id"),
    "quarantine": (QUARANTINE_SCHEMA, "quarantine_id"),
    "links": (LINK_SCHEMA, "link_id"),
    "findings": (FINDING_SCHEMA, "finding_id"),
}

_DDL = """
CREATE TABLE IF NOT EXISTS alerts (
    alert_id VARCHAR PRIMARY KEY, group_key VARCHAR, title VARCHAR, severity VARCHAR,
    status VARCHAR, session_id VARCHAR, first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ,
    finding_ids VARCHAR[], body VARCHAR, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
    notified_at TIMESTAMPTZ,
    -- alert-group state (agentaudit/alert/engine.py): one row per group key
    route VARCHAR, receiver VARCHAR, group_labels VARCHAR, next_flush_at TIMESTAMPTZ,
    last_activity_at TIMESTAMPTZ, acknowledged_at TIMESTAMPTZ, acknowledged_by VARCHAR,
    resolved_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id VARCHAR, alert_id VARCHAR, target VARCHAR, attempt INTEGER, ok BOOLEAN,
    detail VARCHAR, attempted_at TIMESTAMPTZ,
    outbox_id VARCHAR, receiver VARCHAR, action VARCHAR, status_code INTEGER, retryable BOOLEAN
);
-- alerting (agentaudit/alert/): group members, notification log, silences, outbox
CREATE TABLE IF NOT EXISTS alert_members (
    alert_id VARCHAR, fingerprint VARCHAR, rule_id VARCHAR, severity VARCHAR, labels VARCHAR,
    finding_ids VARCHAR[], state VARCHAR, silenced_by VARCHAR[], inhibited_by VARCHAR[],
    first_seen TIMESTAMPTZ, last_seen TIMESTAMPTZ, starts_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
    PRIMARY KEY (alert_id, fingerprint)
);
CREATE TABLE IF NOT EXISTS notification_log (
    alert_id VARCHAR, receiver VARCHAR, sent_at TIMESTAMPTZ, firing VARCHAR[],
    resolved VARCHAR[], PRIMARY KEY (alert_id, receiver)
);
CREATE TABLE IF NOT EXISTS silences (
    silence_id VARCHAR PRIMARY KEY, matchers VARCHAR, starts_at TIMESTAMPTZ,
    ends_at TIMESTAMPTZ, created_by VARCHAR, comment VARCHAR, created_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS outbox (
    outbox_id VARCHAR PRIMARY KEY, alert_id VARCHAR, receiver VARCHAR, target_id VARCHAR,
    target VARCHAR, action VARCHAR, payload VARCHAR, status VARCHAR, attempts INTEGER,
    next_attempt_at TIMESTAMPTZ, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
    last_error VARCHAR
);
-- OCSF Detection Finding lifecycle (create/update/close) and export cursors
CREATE TABLE IF NOT EXISTS finding_log (
    seq BIGINT PRIMARY KEY, record_id VARCHAR, alert_id VARCHAR, activity_id INTEGER,
    time TIMESTAMPTZ, ocsf VARCHAR
);
CREATE TABLE IF NOT EXISTS export_cursors (
    name VARCHAR PRIMARY KEY, events_ingested_at TIMESTAMPTZ, events_event_id VARCHAR,
    finding_seq BIGINT, updated_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS checkpoints (
    path VARCHAR PRIMARY KEY, collector VARCHAR, device BIGINT, inode BIGINT, size BIGINT,
    head_hash VARCHAR, byte_offset BIGINT, line BIGINT, updated_at TIMESTAMPTZ
);
CREATE OR REPLACE VIEW event_sessions AS
    SELECT e.*, coalesce(e.session_id, l.session_id) AS session_key, l.linked_event_id,
           coalesce(e.tool_call_id, l.linked_call_id, e.event_id) AS call_key,
           -- a whole-second shell line sits at the time of the agent call it is
           CASE WHEN e.time_precision IN ('s', 'none') AND l.linked_time IS NOT NULL
                THEN l.linked_time ELSE e.time END AS step_time
    FROM events e
    -- the linked event's call id and time are looked up for the links only: joining every
    -- event to the events table again cost detectors 3-4x the scan
    LEFT JOIN (SELECT l.event_id, l.session_id, l.linked_event_id,
                      a.tool_call_id AS linked_call_id, a.time AS linked_time
               FROM (SELECT event_id,
                            -- a link to the same call (linked event) wins over a
                            -- session-only link, and any link over an inferred shell session
                            arg_max(session_id, CASE WHEN linked_event_id IS NOT NULL THEN 2
                                                     WHEN reason <> 'shell session' THEN 1
                                                     ELSE 0 END) AS session_id,
                            any_value(linked_event_id) AS linked_event_id
                     FROM links GROUP BY event_id) l
               LEFT JOIN events a ON a.event_id = l.linked_event_id) l USING (event_id);
CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, files INTEGER,
    ingested BIGINT, duplicate BIGINT, quarantined BIGINT
);
"""


# During an ingest DuckDB's buffer pool is held to this size (default: 80% of RAM, which the
# pool fills as the events table grows, since every append's anti-join reads its event_id
# column): ingest memory then stays flat however big the store or the input is.
INGEST_MEMORY_LIMIT = "256MB"
BULK_CHECKPOINT_ROWS = 50_000
# DuckDB checkpoints on the first commit after its log passes 16 MB; each big append (written
# straight to the file) would then trigger one, costing a third more CPU than one at the end.
INGEST_CHECKPOINT_THRESHOLD = "1GB"
# ...but at the 256 MB limit, a checkpoint every 100,000 new events keeps DuckDB from spilling
# what is not yet checkpointed (measured at 300 MB of transcripts: 5.7 -> 4.9 parent CPU-s;
# every 50,000 cost more than none).
BULK_CHECKPOINT_EVERY_ROWS = 100_000


# `raw` (the whole source record, as big as the input) is stored with zstd: DuckDB's default
# analysis (dictionary / FSST) costs a third more CPU per append and writes a file twice the size
# (bench/RESULTS.md, transcript ingest); the columns detection filters on keep the defaults.
_ZSTD_COLUMNS = frozenset({"raw"})


def _columns_ddl(columns: list[tuple[Any, ...]]) -> str:
    return ", ".join(
        f'"{name}" {type_}' + (" USING COMPRESSION zstd" if name in _ZSTD_COLUMNS else "")
        for name, type_, *_rest in columns
    )


def _first_occurrences(column: pa.ChunkedArray) -> pa.Array:
    """True at the first row of each value (hand-written: Arrow has no keep-first dedup)."""
    seen: set[Any] = set()
    keep = []
    for value in column.to_pylist():
        keep.append(value not in seen)
        seen.add(value)
    return pa.array(keep)


def now() -> datetime:
    return datetime.now(UTC)


class Store:
    """One DuckDB file. Open with `Store.open()`; use as a context manager to close it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None) -> None:
        self.con = con
        self.path = path
        self.appended_rows = 0  # rows appended since `bulk_append` began
        self._bulk, self._since_checkpoint = False, 0

    @classmethod
    def open(cls, path: str | Path | None = None, *, read_only: bool = False) -> Store:
        """Open (or create, mode 0600) the store; `:memory:` for a throwaway one."""
        if str(path) == ":memory:":
            store = cls(duckdb.connect(":memory:"), None)
        else:
            db_path = Path(path) if path else paths.default_db_path()
            if read_only and not db_path.exists():
                raise FileNotFoundError(
                    f"no agentaudit store at {db_path}; run `agentaudit ingest`"
                )
            paths.ensure_private_dir(db_path.parent)
            with paths.private_umask():
                con = duckdb.connect(str(db_path), read_only=read_only)
            os.chmod(db_path, 0o600)
            store = cls(con, db_path)
        store.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            store._create_tables()
        elif views.missing_views(store.con):
            views.create_views(store.con, temporary=True)  # a store older than the views
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def _create_tables(self) -> None:
        for table, (schema, _key) in _TABLES.items():
            empty = schema.empty_table()  # noqa: F841 - referenced by name in SQL
            columns = self.con.execute("DESCRIBE SELECT * FROM empty").fetchall()
            try:
                self.con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({_columns_ddl(columns)})")
            except duckdb.Error:  # a DuckDB without per-column compression
                self.con.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM empty LIMIT 0"
                )
        self.con.execute(_DDL)
        views.create_views(self.con)

    # -- appends ---------------------------------------------------------------------------

    @contextmanager
    def bulk_append(self) -> Iterator[None]:
        """A fixed buffer pool (`INGEST_MEMORY_LIMIT`) for the duration; a file-backed store
        spills to disk beyond it. An in-memory store keeps its default: its data is the pool."""
        if self.path is None:
            yield
            return
        self.con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
        self.con.execute(f"SET checkpoint_threshold = '{INGEST_CHECKPOINT_THRESHOLD}'")
        self.appended_rows = 0
        self._bulk, self._since_checkpoint = True, 0
        try:
            yield
            if self.appended_rows >= BULK_CHECKPOINT_ROWS:
                # store what was appended within the limit too (the checkpoint at close of a
                # 250,000-event ingest otherwise peaked at 3x the limit); small ingests, such
                # as each round of `watch`, leave it to DuckDB's automatic checkpoints
                self.con.execute("CHECKPOINT")
        finally:
            self._bulk = False
            self.con.execute("RESET memory_limit")
            self.con.execute("RESET checkpoint_threshold")

    def _checkpoint_if_due(self, rows: int) -> None:
        """In a bulk append, a checkpoint every `BULK_CHECKPOINT_EVERY_ROWS` new events."""
        if self._bulk:
            self._since_checkpoint += rows
            if self._since_checkpoint >= BULK_CHECKPOINT_EVERY_ROWS:
                self.con.execute("CHECKPOINT")
                self._since_checkpoint = 0

    def append(self, table: str, batch: pa.Table) -> int:
        """Append rows whose key is new (in the table and within the batch); return how many."""
        if batch.num_rows == 0:
            return 0
        _schema, key = _TABLES[table]
        unique = pc.count_distinct(batch[key]).as_py() == batch.num_rows
        source = (
            "_batch"
            if unique
            else f"(SELECT * FROM _batch QUALIFY row_number() OVER (PARTITION BY {key}) = 1)"
        )
        self.con.register("_batch", batch)
        try:
            if unique and self._all_new(table, key):
                self.con.execute(f"INSERT INTO {table} SELECT * FROM _batch")
                inserted = [(batch.num_rows,)]
            else:
                inserted = self.con.execute(
                    f"INSERT INTO {table} SELECT * FROM {source} ANTI JOIN {table} USING ({key})"
                ).fetchall()
        finally:
            self.con.unregister("_batch")
        count = int(inserted[0][0]) if inserted else 0
        self.appended_rows += count
        return count

    def append_events_by_path(self, batch: pa.Table) -> dict[str, int]:
        """Append events like `append`, in one statement, and say how many were new per
        `source_path`. A duplicate within the batch keeps its first row (batch order), as
        appending the batch's parts one after another would. One big statement lets DuckDB
        write row groups straight to the file instead of through its log, at about half the
        CPU of many small appends (bench/RESULTS.md, transcript ingest)."""
        if batch.num_rows == 0:
            return {}
        if pc.count_distinct(batch["event_id"]).as_py() != batch.num_rows:
            batch = batch.filter(_first_occurrences(batch["event_id"]))
        self.con.register("_batch", batch)
        try:
            if self._all_new("events", "event_id"):
                self.con.execute("INSERT INTO events SELECT * FROM _batch")
                paths = batch["source_path"]
            else:  # the copy DuckDB warns of is of one column of the new rows
                paths = self.query(
                    "INSERT INTO events SELECT * FROM _batch "
                    "ANTI JOIN events USING (event_id) RETURNING source_path"
                ).column(0)
        finally:
            self.con.unregister("_batch")
        self.appended_rows += len(paths)
        self._checkpoint_if_due(len(paths))
        counts = paths.value_counts().to_pylist()
        return {c["values"]: c["counts"] for c in counts}

    def _all_new(self, table: str, key: str) -> bool:
        """Whether no key of the registered `_batch` is in the table yet. Then a plain insert
        does what the anti-join would, at two thirds of the CPU (the join carries every column
        of every row); a re-run, which finds its keys, takes the anti-join. The store has one
        writer, so nothing lands between this check and the insert."""
        found = self.con.execute(
            f"SELECT EXISTS (SELECT 1 FROM _batch SEMI JOIN {table} USING ({key}))"
        ).fetchall()
        return not found[0][0]

    def append_events(self, events: Sequence[EventRow]) -> int:
        return self.append("events", to_arrow(events))

    def append_quarantine(self, rows: list[dict[str, Any]]) -> int:
        return self.append("quarantine", pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA))

    def append_links(self, rows: list[dict[str, Any]]) -> int:
        return self.append("links", pa.Table.from_pylist(rows, schema=LINK_SCHEMA))

    def append_findings(self, rows: Sequence[FindingRow]) -> int:
        return self.append("findings", pa.Table.from_pylist(rows, schema=FINDING_SCHEMA))

    # -- checkpoints -----------------------------------------------------------------------

    def checkpoint(self, path: str) -> dict[str, Any] | None:
        rows = self.rows(
            "SELECT collector, device, inode, size, head_hash, byte_offset, line "
            "FROM checkpoints WHERE path = ?",
            [path],
        )
        return rows[0] if rows else None

    def save_checkpoint(self, path: str, **fields: Any) -> None:
        self.save_checkpoints([{"path": path, **fields}])

    def save_checkpoints(self, rows: list[dict[str, Any]]) -> None:
        """Several files' checkpoints in one statement (each statement costs ~4 ms here)."""
        at = now()
        columns = ("collector", "device", "inode", "size", "head_hash", "byte_offset", "line")
        for start in range(0, len(rows), 500):  # bounded statements for many small files
            part = rows[start : start + 500]
            values = [[row["path"], *(row[c] for c in columns), at] for row in part]
            placeholders = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(part))
            self.con.execute(
                f"INSERT OR REPLACE INTO checkpoints VALUES {placeholders}",
                [value for row in values for value in row],
            )

    # -- reads -----------------------------------------------------------------------------

    def query(self, sql: str, params: Iterable[Any] | None = None) -> pa.Table:
        # execute, not sql(): a relation binds the query once for its columns and again to
        # run it, about a third of a small query's cost (watch runs dozens per pass); the
        # copy of the result DuckDB warns of is cheap next to that
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return self.con.execute(sql, list(params or [])).to_arrow_table()

    def rows(self, sql: str, params: Iterable[Any] | None = None) -> list[dict[str, Any]]:
        return self.query(sql, params).to_pylist()

    def count(self, table: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def counts(self) -> dict[str, int]:
        names = [*_TABLES, "alerts", "deliveries", "checkpoints", "outbox", "finding_log"]
        return {name: self.count(name) for name in names}
