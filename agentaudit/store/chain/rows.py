"""What the chain hashes: each chained table's rows as canonical JSON, and what the chain expects.

A row's content hash is DuckDB's `sha256` over `json_strip_nulls(to_json(...))` of its columns
in name order: computed in one vectorised statement per batch, the same text whether it is
read from an Arrow batch being appended or from the table later, and unchanged when a
migration appends a column that stays NULL.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

# chained table -> the SQL of its key
CHAINED: dict[str, str] = {
    "events": "event_id",
    "findings": "finding_id",
    "alerts": "alert_id",
    "deliveries": "delivery_id",
    "finding_log": "CAST(seq AS VARCHAR)",  # every alert state change, in order
}
# written only by appends: their row order is checked too
APPEND_ONLY = ("events", "deliveries", "finding_log")
# changed in place by detection and alerting: sealed by comparing with the chain
MUTABLE = ("findings", "alerts", "deliveries", "finding_log")
DELETED = "deleted"  # the hash a link gives a row that was removed


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
        "AND table_catalog = current_database() AND table_name = ? ORDER BY column_name",
        [table],
    ).fetchall()
    return [row[0] for row in rows]


def canonical_sql(names: Iterable[str], alias: str) -> str:
    fields = ", ".join(f'"{name}" := {alias}."{name}"' for name in sorted(names))
    return f"json_strip_nulls(to_json(struct_pack({fields})))"


def key_sql(table: str, alias: str) -> str:
    key = CHAINED[table]
    return key.replace("seq", f"{alias}.seq") if key.startswith("CAST") else f'{alias}."{key}"'


def actual_sql(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """(k, h, pos): every row's key, content hash and physical position."""
    return (
        f"SELECT {key_sql(table, 't')} AS k, sha256({canonical_sql(columns(con, table), 't')}) "
        f"AS h, t.rowid AS pos FROM {table} t"
    )


def expected_sql(table: str) -> str:
    """(k, h, seq, idx): each key's latest hash in the chain, and where it was first chained."""
    return f"""
        SELECT k, arg_max(h, seq) AS h, min(seq) AS seq, arg_min(idx, seq) AS idx FROM (
            SELECT unnest(row_keys) AS k, unnest(row_hashes) AS h,
                   unnest(range(len(row_keys))) AS idx, seq
            FROM chain WHERE table_name = '{table}'
        ) GROUP BY k"""


def differences(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[str]]:
    """Keys whose stored content is not what the chain last recorded, and their hashes now
    (`DELETED` for a chained row that is gone)."""
    rows = con.execute(
        f"""WITH actual AS ({actual_sql(con, table)}), expected AS ({expected_sql(table)})
            SELECT coalesce(a.k, e.k) AS k, coalesce(a.h, '{DELETED}') AS h
            FROM actual a FULL JOIN expected e ON a.k = e.k
            WHERE e.h IS DISTINCT FROM coalesce(a.h, '{DELETED}')
            ORDER BY coalesce(a.pos, -1), k"""
    ).fetchall()
    return [row[0] for row in rows], [row[1] for row in rows]
