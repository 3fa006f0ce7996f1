"""The store's schema version and the ordered migrations that bring an older store up to it.

A store records its version in the table `schema_version`: one row when it was created, one per
migration run since (version, description, when, which agentaudit). A new store is created with
the tables as declared (`tables.py`) and stamped with `LATEST`; an older one runs the migrations
after its version, in order, in one transaction, and keeps every row. A store with no
`schema_version` table but agentaudit's tables was made before versioning: version 0. A store
whose version is above `LATEST` was written by a newer agentaudit and is refused, unaltered.

Adding a migration (docs/ARCHITECTURE.md, "Store and migrations"): append a `Migration` with
the next number to `MIGRATIONS`, and change the declaration (`tables.py`, a `tables.sql`, or
`agentaudit/schema.py` for events) the same way, so that new and migrated stores agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb

from agentaudit import __version__
from agentaudit.store import tables
from agentaudit.store.errors import StoreTooNew

VERSION_TABLE = "schema_version"
_VERSION_DDL = f"""
CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
    version INTEGER, description VARCHAR, applied_at TIMESTAMPTZ, agentaudit_version VARCHAR
)"""

Step = Callable[[duckdb.DuckDBPyConnection], None]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str  # one line, naming the tables it changes
    apply: Step


def add_columns(table: str, *columns: str) -> Step:
    """A step adding columns, each given as `name TYPE` (written out: a migration is frozen,
    while the declarations move on)."""

    def step(con: duckdb.DuckDBPyConnection) -> None:
        for column in columns:
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}")

    return step


def run_sql(statements: str) -> Step:
    """A step running SQL as written (several statements may be separated by `;`)."""

    def step(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(statements)

    return step


@cache
def _v1_layout() -> dict[str, list[tuple[str, str]]]:
    with duckdb.connect() as con:
        con.execute(_v1_sql())
        return tables.layout(con)


def _v1_sql() -> str:
    return resources.files("agentaudit.store").joinpath("layout_v1.sql").read_text("utf-8")


def baseline(con: duckdb.DuckDBPyConnection) -> None:
    """Any store made before versioning -> the layout of version 1 (`layout_v1.sql`): each
    missing table created, each missing column added at the end of its table (columns were
    only ever added, at the end)."""
    present = tables.layout(con)
    for statement in duckdb.extract_statements(_v1_sql()):
        con.execute(statement.query)  # CREATE TABLE IF NOT EXISTS: the missing tables
    for table, columns in _v1_layout().items():
        have = {name for name, _type in present.get(table, [])}
        if not have:
            continue
        for name, type_ in columns:
            if name not in have:
                con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {type_}')


def enriched_columns(con: duckdb.DuckDBPyConnection) -> None:
    """The columns detection and linking read, filled at ingest since version 2 (issue 14:
    enrich once), added and filled for the rows already stored."""
    add_columns(
        "events",
        "origin VARCHAR",
        "provider VARCHAR",
        "argvs VARCHAR[][]",
        "env_hints VARCHAR[]",
        "env_clues VARCHAR[]",
        "instructions VARCHAR[]",
    )(con)
    # command analysis and the collector registry load only for this one-time step
    from agentaudit.enrich.backfill import fill_enriched_columns

    fill_enriched_columns(con)


# Ordered; never renumber or edit one that has shipped: add the next.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "baseline: every table and column of the layout before versioning", baseline),
    Migration(
        2,
        "events: origin, provider, argvs, env_hints, env_clues, instructions "
        "(what detection reads, enriched once), filled for the stored rows",
        enriched_columns,
    ),
    Migration(
        3,
        "alerting as Alertmanager (issue 20): alert_members.ends_at; alert_groups, "
        "alert_group_members, nflog (notification_log is kept, no longer read)",
        run_sql(
            """
            ALTER TABLE alert_members ADD COLUMN IF NOT EXISTS ends_at TIMESTAMPTZ;
            CREATE TABLE IF NOT EXISTS alert_groups (
                group_id VARCHAR PRIMARY KEY, group_key VARCHAR, route VARCHAR,
                receiver VARCHAR, alert_id VARCHAR, group_labels VARCHAR,
                created_at TIMESTAMPTZ, next_flush_at TIMESTAMPTZ, flushed_at TIMESTAMPTZ);
            CREATE TABLE IF NOT EXISTS alert_group_members (
                group_id VARCHAR, fingerprint VARCHAR, PRIMARY KEY (group_id, fingerprint));
            CREATE TABLE IF NOT EXISTS nflog (
                group_key VARCHAR, receiver VARCHAR, sent_at TIMESTAMPTZ, firing VARCHAR[],
                resolved VARCHAR[], expires_at TIMESTAMPTZ, PRIMARY KEY (group_key, receiver));
            """
        ),
    ),
    Migration(
        4,
        "events: decided_by (who let an agent's call run; stored rows stay NULL: not recorded)",
        add_columns("events", "decided_by VARCHAR"),
    ),
    Migration(
        5,
        "chain, chain_checkpoints: the tamper-evident chain (the stored rows are chained as "
        "the migration's own links when the store opens); export_cursors.checkpoint_no",
        run_sql(
            """CREATE TABLE IF NOT EXISTS chain (
                seq BIGINT, table_name VARCHAR, action VARCHAR, note VARCHAR,
                row_keys VARCHAR[], row_hashes VARCHAR[], batch_root VARCHAR, prev_hash VARCHAR,
                link_hash VARCHAR, created_at TIMESTAMPTZ);
            CREATE TABLE IF NOT EXISTS chain_checkpoints (
                checkpoint_no BIGINT, tree_size BIGINT, root_hash VARCHAR, head_hash VARCHAR,
                created_at TIMESTAMPTZ, key_id VARCHAR, signature VARCHAR);
            ALTER TABLE export_cursors ADD COLUMN IF NOT EXISTS checkpoint_no BIGINT"""
        ),
    ),
)
LATEST = MIGRATIONS[-1].version


@dataclass
class MigrationReport:
    """What opening a store did to its schema."""

    path: Path | None
    from_version: int | None  # None: the store was created now
    to_version: int
    applied: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def migrated(self) -> bool:
        return bool(self.applied)

    def summary(self) -> str:
        """One line for the CLI, e.g. 'store x: migrated from schema version 0 to 1 (...)'."""
        where = f"store {self.path}" if self.path else "store"
        if self.from_version is None:
            return f"{where}: created at schema version {self.to_version}"
        if not self.applied:
            return f"{where}: at schema version {self.to_version}"
        steps = "; ".join(f"{version}: {text}" for version, text in self.applied)
        return (
            f"{where}: migrated from schema version {self.from_version} to {self.to_version} "
            f"in {self.seconds:.1f} s, every row kept ({steps})"
        )


def stored_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The store's schema version; 0 for agentaudit tables without one, None for no tables."""
    names = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    if VERSION_TABLE in names:
        row = con.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchall()[0]
        return int(row[0]) if row[0] is not None else 0
    return 0 if names & set(tables.table_names()) else None


def refuse_newer(version: int | None, path: Path | None) -> None:
    if version is not None and version > LATEST:
        raise StoreTooNew(
            f"the store {path or ':memory:'} is at schema version {version}, newer than this "
            f"agentaudit {__version__} knows (up to {LATEST}): upgrade agentaudit to use it; "
            "the store was not changed"
        )


def create(con: duckdb.DuckDBPyConnection, path: Path | None) -> MigrationReport:
    """A new store: the declared tables, stamped `LATEST`, in one transaction."""
    with _transaction(con):
        tables.create_tables(con)
        con.execute(_VERSION_DDL)
        _stamp(con, LATEST, "created")
    return MigrationReport(path, None, LATEST)


def upgrade(con: duckdb.DuckDBPyConnection, path: Path | None) -> MigrationReport:
    """Run the migrations after the store's version in one transaction (all or none)."""
    version = stored_version(con)
    if version is None:
        return create(con, path)
    refuse_newer(version, path)
    report = MigrationReport(path, version, version)
    pending = [m for m in MIGRATIONS if m.version > version]
    if not pending:
        return report
    started = time.perf_counter()
    with _transaction(con):
        con.execute(_VERSION_DDL)
        for migration in pending:
            migration.apply(con)
            _stamp(con, migration.version, migration.description)
            report.applied.append((migration.version, migration.description))
    report.to_version = pending[-1].version
    report.seconds = time.perf_counter() - started
    return report


def history(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """What the store records of its creation and its migrations, oldest first."""
    if stored_version(con) in (None, 0):
        return []
    cursor = con.execute(
        f"SELECT version, description, applied_at, agentaudit_version FROM {VERSION_TABLE} "
        "ORDER BY applied_at, version"
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _stamp(con: duckdb.DuckDBPyConnection, version: int, description: str) -> None:
    con.execute(
        f"INSERT INTO {VERSION_TABLE} VALUES (?, ?, now(), ?)", [version, description, __version__]
    )


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT, or ROLLBACK on any error (DuckDB's DDL is transactional)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
