"""The DuckDB store: append-only, idempotent, private to its owner, versioned.

Every append is an Arrow batch with an anti-join on its key, so re-running an ingest or a
detection adds nothing. Which tables exist and who declares them: `tables.py`; how a store made
by an older agentaudit is brought up to date: `migrations.py`; waiting for a store another
process holds: `lock.py`; the files on disk: `files.py`; the analyst views: `views.py`.
"""

from __future__ import annotations

import logging
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from agentaudit import paths
from agentaudit.schema import QUARANTINE_SCHEMA, EventRow, FindingRow, to_arrow
from agentaudit.store import conflicts, files, lock, migrations, tables, views
from agentaudit.store.chain import rows as chain_rows
from agentaudit.store.chain.writer import ChainWriter
from agentaudit.store.chain.writer import enabled as chain_enabled
from agentaudit.store.errors import StoreError, StoreLocked, StoreTooNew
from agentaudit.store.tables import LINK_SCHEMA

__all__ = [
    "LINK_SCHEMA",
    "Store",
    "StoreError",
    "StoreLocked",
    "StoreTooNew",
    "now",
]

log = logging.getLogger(__name__)

# the tables `append` writes to, with the key it deduplicates on
_APPEND_KEYS: dict[str, str] = {
    **{name: key for name, (_schema, key) in tables.CORE_TABLES.items()},
    "findings": "finding_id",
}

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
        self.read_only = False
        self.migration: migrations.MigrationReport | None = None  # what opening did
        self.appended_rows = 0  # rows appended since `bulk_append` began
        self._bulk, self._since_checkpoint = False, 0
        self._holds_umask = False
        self.chain: ChainWriter | None = None  # None: read-only, or AGENTAUDIT_CHAIN=0

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        lock_timeout: float | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> Store:
        """Open (or create, mode 0600) the store; `:memory:` for a throwaway one.

        An older store is migrated first (a read-only open migrates through a short writable
        one); a newer one raises `StoreTooNew` untouched. While another process holds the file,
        waits up to `lock_timeout` seconds (default: `AGENTAUDIT_LOCK_TIMEOUT`, else 60) and
        then raises `StoreLocked`. `on_notice` gets the one-line messages (waiting, migrated);
        by default they are logged as warnings."""
        notice = on_notice or log.warning
        if str(path) == ":memory:":
            store = cls(duckdb.connect(":memory:"), None)
            store.con.execute("SET TimeZone = 'UTC'")
            store.migration = migrations.create(store.con, None)
            views.create_views(store.con)
            store._start_chain()
            return store
        db_path = Path(path) if path else paths.default_db_path()
        if read_only and not db_path.exists():
            raise FileNotFoundError(f"no agentaudit store at {db_path}; run `agentaudit ingest`")
        paths.ensure_private_dir(db_path.parent)
        files.hold_private_umask()
        try:
            store = cls._open_file(db_path, read_only, lock_timeout, notice)
        except BaseException:
            files.release_private_umask()
            raise
        store._holds_umask = True
        return store

    @classmethod
    def _open_file(
        cls, db: Path, read_only: bool, timeout: float | None, notice: Callable[[str], None]
    ) -> Store:
        if not read_only and not db.exists():
            files.create_empty(db)
        files.make_private(db)
        con = lock.connect(db, read_only=read_only, timeout=timeout, on_wait=notice)
        store = cls(con, db)
        store.read_only = read_only
        try:
            con.execute("SET TimeZone = 'UTC'")
            version = migrations.stored_version(con)
            migrations.refuse_newer(version, db)
            if read_only and version != migrations.LATEST:
                con.close()  # migrate through a writer, then read
                report = cls._migrate_for_reading(db, version, timeout, notice)
                store = cls._open_file(db, True, timeout, notice)
                store.migration = report
                return store
            if read_only:
                if views.missing_views(con):  # views changed since the last writable open
                    views.create_views(con, temporary=True)
                return store
            if version != migrations.LATEST and _has_chain(con):
                # what changed since the last writer, before a migration changes rows itself
                _observe_outside(con, chain_rows.CHAINED)
            store.migration = migrations.upgrade(con, db)
            views.create_views(con)
            store._start_chain()
            lock.write_holder(db)
            # a process that ends without closing the store leaves no stale holder file
            weakref.finalize(store, lock.remove_holder, db)
        except BaseException:
            con.close()
            raise
        if store.migration.migrated:
            notice(store.migration.summary())
        return store

    @classmethod
    def _migrate_for_reading(
        cls, db: Path, version: int | None, timeout: float | None, notice: Callable[[str], None]
    ) -> migrations.MigrationReport | None:
        try:
            with cls.open(db, lock_timeout=timeout, on_notice=notice) as writer:
                return writer.migration
        except (duckdb.IOException, PermissionError) as exc:  # a file we may only read
            reason = str(exc).splitlines()[0]
            raise StoreError(
                f"the store {db} is at schema version {version} and needs a writable open to "
                f"migrate it to {migrations.LATEST} first: {reason}"
            ) from None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sandbox(self) -> Store:
        """Free-form SQL from an analyst (`query`, `sql`, the dashboard) reaches the store and
        nothing else: no file read or written (`read_text`, `COPY ... TO`), no extension
        loaded, and no statement can turn that back on."""
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        return self

    def _start_chain(self) -> None:
        """Chain what opening changed: a migration's rewrites as its own link; else whatever
        changed in the mutable tables while no writer held the store (`outside`)."""
        if not chain_enabled():
            return
        self.chain = ChainWriter(self.con)
        if self.migration is not None and self.migration.migrated:
            self.chain.seal(chain_rows.CHAINED, "migration", self.migration.summary())
        else:
            self.chain.observe_outside()

    @contextmanager
    def explained_change(self, action: str, note: str) -> Iterator[None]:
        """Rows rewritten on purpose (`reclassify`, a repair) are chained as one signed link
        naming why; what changed before it is first recorded as `outside`."""
        if self.chain is None:
            yield
            return
        self.chain.observe_outside(chain_rows.CHAINED)
        yield
        self.chain.seal(chain_rows.CHAINED, action, note)
        self.chain.checkpoint()

    def seal(self) -> None:
        """Chain the in-place changes of detection and alerting, and sign a checkpoint."""
        if self.chain is not None:
            self.chain.seal()
            self.chain.checkpoint()

    def close(self) -> None:
        chain, self.chain = self.chain, None
        try:
            if chain is not None:
                chain.seal()
                chain.checkpoint()
        except duckdb.Error as exc:  # e.g. a transaction a failed write left aborted
            # not raised: it would hide the error being handled; the next writer's open
            # records the unsealed changes as `outside`, so nothing goes unnoticed
            log.warning("store: the chain was not sealed at close: %s", str(exc).splitlines()[0])
        finally:
            self._close_connection()

    def _close_connection(self) -> None:
        self.con.close()
        if self.path is not None and not self.read_only:
            lock.remove_holder(self.path)
        if self._holds_umask:
            self._holds_umask = False
            files.release_private_umask()

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
        """Append rows whose key is new (in the table and within the batch); return how many.
        Columns are matched by name (BY NAME), so a migrated table's column order is no risk."""
        if batch.num_rows == 0:
            return 0
        key = _APPEND_KEYS[table]
        known_new = False
        if table == "events":
            batch, known_new = self._compared(batch)
        if pc.count_distinct(batch[key]).as_py() != batch.num_rows:
            batch = batch.filter(_first_occurrences(batch[key]))  # the first row of each key
        self.con.register("_batch", batch)
        try:
            if known_new or self._all_new(table, key):
                self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _batch")
                count, new_keys = batch.num_rows, None
            else:
                returned = self.con.execute(
                    f"INSERT INTO {table} BY NAME "
                    f"SELECT * FROM _batch ANTI JOIN {table} USING ({key}) RETURNING {key}"
                ).fetchall()
                count, new_keys = len(returned), {row[0] for row in returned}
            self._after_append(table, batch, new_keys)
        finally:
            self.con.unregister("_batch")
        self.appended_rows += count
        return count

    def _after_append(self, table: str, batch: pa.Table, new_keys: set[str] | None) -> None:
        """The one hook after each append batch: chain the new rows (`new_keys`; None: every
        row of the batch)."""
        if self.chain is not None and table in chain_rows.CHAINED:
            self.chain.record_batch(table, batch, new_keys)

    def append_events_by_path(self, batch: pa.Table) -> dict[str, int]:
        """Append events like `append`, in one statement, and say how many were new per
        `source_path`. A duplicate within the batch keeps its first row (batch order), as
        appending the batch's parts one after another would. One big statement lets DuckDB
        write row groups straight to the file instead of through its log, at about half the
        CPU of many small appends (bench/RESULTS.md, transcript ingest)."""
        if batch.num_rows == 0:
            return {}
        batch, known_new = self._compared(batch)
        if pc.count_distinct(batch["event_id"]).as_py() != batch.num_rows:
            batch = batch.filter(_first_occurrences(batch["event_id"]))
        self.con.register("_batch", batch)
        try:
            if known_new or self._all_new("events", "event_id"):
                self.con.execute("INSERT INTO events BY NAME SELECT * FROM _batch")
                paths, new_keys = batch["source_path"], None
            else:  # the copy DuckDB warns of is of two columns of the new rows
                returned = self.query(
                    "INSERT INTO events BY NAME SELECT * FROM _batch "
                    "ANTI JOIN events USING (event_id) RETURNING source_path, event_id"
                )
                paths, new_keys = returned.column(0), set(returned.column(1).to_pylist())
            self._after_append("events", batch, new_keys)
        finally:
            self.con.unregister("_batch")
        self.appended_rows += len(paths)
        self._checkpoint_if_due(len(paths))
        counts = paths.value_counts().to_pylist()
        return {c["values"]: c["counts"] for c in counts}

    def _compared(self, batch: pa.Table) -> tuple[pa.Table, bool]:
        """Events whose id is stored (or repeated in the batch) with other content get a new
        id and the `conflicting_duplicate` category (`conflicts.py`). Also says whether no id
        of the batch was stored (so the append need not ask again)."""
        self.con.register("_batch", batch)
        try:
            all_new = self._all_new("events", "event_id")
        finally:
            self.con.unregister("_batch")
        return conflicts.compared(self.con, batch, all_new), all_new

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

    def append_findings(self, rows: Sequence[FindingRow]) -> int:
        schema = tables.arrow_schema("findings")
        return self.append("findings", pa.Table.from_pylist(rows, schema=schema))

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
        """Rows in every registered table."""
        return {name: self.count(name) for name in tables.table_names()}


def _has_chain(con: duckdb.DuckDBPyConnection) -> bool:
    return "chain" in tables.layout(con)


def _observe_outside(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    if chain_enabled():
        ChainWriter(con).observe_outside(names)
