"""Every table of the store, registered in one place.

The store core declares the tables it appends to itself (`events`, `quarantine`, `links`, from
the Arrow schemas); each other subsystem declares its own in a `tables.sql` beside its code and
is listed in `DECLARED_BY`. The files are read, not imported: the subsystems import the store,
so the store importing them back would make a cycle.

These declarations are what a new store is created with. A store that already exists changes
only through a migration (`migrations.py`); a test checks that migrating an old store gives the
layout declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import duckdb
import pyarrow as pa

from agentaudit.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA, TIME

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

# tables the store core appends to, with the key each append deduplicates on
CORE_TABLES: dict[str, tuple[pa.Schema, str]] = {
    "events": (EVENT_SCHEMA, "event_id"),
    "quarantine": (QUARANTINE_SCHEMA, "quarantine_id"),
    "links": (LINK_SCHEMA, "link_id"),
}

# subsystem -> its declarations, relative to the agentaudit package
DECLARED_BY: dict[str, str] = {
    "ingest": "ingest/tables.sql",
    "detect": "detect/tables.sql",
    "alert": "alert/tables.sql",
    "export": "export/tables.sql",
    "chain": "store/chain/tables.sql",
}

# `raw` (the whole source record, as big as the input) is stored with zstd: DuckDB's default
# analysis (dictionary / FSST) costs a third more CPU per append and writes a file twice the size
# (bench/RESULTS.md, transcript ingest); the columns detection filters on keep the defaults.
ZSTD_COLUMNS = frozenset({"raw"})


@dataclass(frozen=True)
class Table:
    name: str
    owner: str  # "store" or the subsystem whose tables.sql declares it
    ddl: str  # CREATE TABLE IF NOT EXISTS ...


def core_ddl(name: str, schema: pa.Schema) -> str:
    """CREATE TABLE for an Arrow schema, with the DuckDB types DuckDB itself maps it to."""
    empty = schema.empty_table()  # noqa: F841 - referenced by name in SQL
    with duckdb.connect() as con:
        columns = con.execute("DESCRIBE SELECT * FROM empty").fetchall()
    body = ", ".join(
        f'"{column}" {type_}' + (" USING COMPRESSION zstd" if column in ZSTD_COLUMNS else "")
        for column, type_, *_rest in columns
    )
    return f"CREATE TABLE IF NOT EXISTS {name} ({body})"


def declaration_text(relative: str) -> str:
    return resources.files("agentaudit").joinpath(relative).read_text(encoding="utf-8")


@cache
def registered_tables() -> tuple[Table, ...]:
    """Every table, in creation order: the core's, then each subsystem's in file order."""
    tables = [
        Table(name, "store", core_ddl(name, schema)) for name, (schema, _) in CORE_TABLES.items()
    ]
    for owner, relative in DECLARED_BY.items():
        for statement in duckdb.extract_statements(declaration_text(relative)):
            tables.append(Table(_created_table(statement.query, relative), owner, statement.query))
    return tuple(tables)


def _created_table(sql: str, relative: str) -> str:
    """The table a declaration creates (DuckDB parses it: one throwaway in-memory table)."""
    with duckdb.connect() as con:
        con.execute(sql)
        names = [row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    if len(names) != 1:
        raise ValueError(f"{relative}: each statement must create one table: {sql[:60]!r}")
    return names[0]


def table_names() -> tuple[str, ...]:
    return tuple(table.name for table in registered_tables())


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in registered_tables():
        con.execute(table.ddl)


def layout(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """Each base table of the connected database: its (column, type) pairs, in order."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database() AND table_name IN "
        "(SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        " AND table_schema = 'main' AND table_catalog = current_database()) "
        "ORDER BY table_name, ordinal_position"
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, type_ in rows:
        tables.setdefault(table, []).append((column, type_))
    return tables


@cache
def declared_layout() -> dict[str, list[tuple[str, str]]]:
    """The layout a new store gets (built once in memory)."""
    with duckdb.connect() as con:
        create_tables(con)
        return layout(con)


@cache
def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a declared table (for building batches to append to it)."""
    schema, _key = CORE_TABLES.get(table, (None, ""))
    if schema is not None:
        return schema
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        create_tables(con)
        return con.sql(f"SELECT * FROM {table} LIMIT 0").to_arrow_table().schema


def describe() -> list[dict[str, Any]]:
    """Name, owner and columns of every table (for docs and `agentaudit store`)."""
    columns = declared_layout()
    return [
        {"table": t.name, "owner": t.owner, "columns": [c for c, _ in columns[t.name]]}
        for t in registered_tables()
    ]
