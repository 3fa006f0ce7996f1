"""What the chain hashes: each chained table's rows as canonical JSON, and what the chain expects.

A row's content hash is DuckDB's `sha256` over `to_json` of a struct of every column of its
table in name order: one vectorised statement per batch, the same text whether it is read from
an Arrow batch being appended (a column the batch lacks is NULL, as it is stored) or from the
table later. A migration that appends a column changes every row's text; it is chained as
the migration's own links (`Store._start_chain`). (Stripping NULLs would spare that, but cost
a third more CPU on every append: bench/RESULTS.md, "chain".)
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable

import duckdb
import numpy as np
import pyarrow as pa

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


def canonical_sql(names: Iterable[str], alias: str, present: Iterable[str] | None = None) -> str:
    """The canonical text of a row of a table with columns `names`, read from `alias`, which
    has the columns `present` (default: all of them; the others are NULL)."""
    has = set(names if present is None else present)
    fields = ", ".join(
        f'"{name}" := ' + (f'{alias}."{name}"' if name in has else "NULL") for name in sorted(names)
    )
    return f"to_json(struct_pack({fields}))"


def non_null_columns(batch: pa.Table) -> list[str]:
    """The columns of `batch` with a value in at least one row (the others hash as NULL)."""
    return [
        name
        for name, column in zip(batch.column_names, batch.columns, strict=True)
        if column.null_count < batch.num_rows
    ]


def sha256_each(texts: pa.ChunkedArray) -> list[str]:
    """SHA-256 of each UTF-8 string, hex: what DuckDB's `sha256` gives, at a third less CPU on
    the append path (OpenSSL's SHA extensions; each value hashed straight from Arrow's buffer)."""
    hashes: list[str] = []
    sha256 = hashlib.sha256
    for chunk in texts.chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            chunk = chunk.cast(pa.large_string())
        _validity, offsets_buffer, data_buffer = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(offsets_buffer, dtype=width)
        bounds = offsets[chunk.offset : chunk.offset + len(chunk) + 1].tolist()
        data = memoryview(data_buffer) if data_buffer is not None else memoryview(b"")
        hashes += [sha256(data[a:b]).hexdigest() for a, b in itertools.pairwise(bounds)]
    return hashes


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
    if not con.execute(
        f"SELECT EXISTS (FROM {table}) OR EXISTS (FROM chain WHERE table_name = ?)", [table]
    ).fetchall()[0][0]:
        return [], []  # nothing stored, nothing chained (most tables of a fresh store)
    rows = con.execute(
        f"""WITH actual AS ({actual_sql(con, table)}), expected AS ({expected_sql(table)})
            SELECT coalesce(a.k, e.k) AS k, coalesce(a.h, '{DELETED}') AS h
            FROM actual a FULL JOIN expected e ON a.k = e.k
            WHERE e.h IS DISTINCT FROM coalesce(a.h, '{DELETED}')
            ORDER BY coalesce(a.pos, -1), k"""
    ).fetchall()
    return [row[0] for row in rows], [row[1] for row in rows]
