"""Which SQL a reader may send to the store's owner.

The owner's DuckDB is the one `watch` or `serve` writes with, so it cannot be sandboxed with
`enable_external_access = false` (a global setting: ingest's Arrow scans would stop too).
Instead a statement is let through only when DuckDB's own parser (`json_serialize_sql`) shows
a SELECT whose tables are the store's tables and views (or its own CTEs), whose table
functions only compute (`unnest`, `range`, ...) and whose functions are already loaded (no
extension is installed or loaded for it). It then runs in a READ ONLY transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import duckdb

COMPUTING_TABLE_FUNCTIONS = frozenset(
    {"unnest", "range", "generate_series", "json_each", "json_tree"}
)
# scalar functions with an effect beyond their result (sequences, the log, the random seed)
SIDE_EFFECTS = frozenset({"nextval", "setval", "setseed", "write_log"})
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog"})
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SqlRefused(duckdb.PermissionException):
    """A statement the owner does not run for a reader (a DuckDB permission error)."""


def statements(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    """The statements of `sql`, each a SELECT, else `SqlRefused`."""
    parsed = con.extract_statements(sql)
    for statement in parsed:
        if statement.type != duckdb.StatementType.SELECT:
            raise SqlRefused(
                f"Permission Error: the store is in use; its owner answers readers read-only, "
                f"SELECT statements only "
                f"(got {statement.type.name})"
            )
    return [s.query for s in parsed]


def check_select(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise `SqlRefused` unless every statement of `sql` reads the store and nothing else."""
    for query in statements(con, sql):
        serialized = con.execute("SELECT json_serialize_sql(?)", [query]).fetchall()[0][0]
        tree = json.loads(serialized)
        if tree.get("error"):
            raise duckdb.ParserException(str(tree.get("error_message", "cannot parse")))
        _check_tree(con, tree)


def _check_tree(con: duckdb.DuckDBPyConnection, tree: dict[str, Any]) -> None:
    ctes = {name for node in _nodes(tree) for name in _cte_names(node)}
    functions: set[str] = set()
    for node in _nodes(tree):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            schema, name = str(node.get("schema_name") or ""), str(node.get("table_name"))
            if (schema or "main").lower() in SYSTEM_SCHEMAS:
                continue
            cte = not schema and name in ctes and _PLAIN_NAME.match(name)
            if not (cte or _known(con, "catalog", name.lower())):
                raise SqlRefused(f"Permission Error: {name!r} is not a table or view of the store")
        elif kind == "TABLE_FUNCTION":
            name = str((node.get("function") or {}).get("function_name", "")).lower()
            if name not in COMPUTING_TABLE_FUNCTIONS:
                raise SqlRefused(
                    f"Permission Error: table function {name}() reads outside the store; "
                    f"readers of a store in use get {', '.join(sorted(COMPUTING_TABLE_FUNCTIONS))}"
                )
        elif node.get("class") in ("FUNCTION", "WINDOW", "AGGREGATE") and node.get("function_name"):
            functions.add(str(node["function_name"]).lower())
    effects = functions & SIDE_EFFECTS
    if effects:
        raise SqlRefused(f"Permission Error: {sorted(effects)[0]}() changes state")
    unknown = sorted(f for f in functions if not _known(con, "functions", f))
    if unknown:
        raise SqlRefused(f"Permission Error: unknown function {unknown[0]}()")


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


def _cte_names(node: dict[str, Any]) -> list[str]:
    entries = (node.get("cte_map") or {}).get("map") or []
    return [str(e.get("key")) for e in entries if isinstance(e, dict)]


# names of the store's tables and views, and of the loaded functions: listing them costs tens
# of milliseconds, so they are listed again only when a statement names one not seen yet
_seen: dict[str, frozenset[str]] = {}


def _known(con: duckdb.DuckDBPyConnection, kind: str, name: str) -> bool:
    if name in _seen.get(kind, frozenset()):
        return True
    _seen[kind] = frozenset(_catalog(con) if kind == "catalog" else _loaded_functions(con))
    return name in _seen[kind]


def _catalog(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
    ).fetchall()
    return {str(r[0]).lower() for r in rows}


def _loaded_functions(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT DISTINCT function_name FROM duckdb_functions()").fetchall()
    return {str(r[0]).lower() for r in rows}
