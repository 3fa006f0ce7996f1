"""The chain's write path: one link per write batch, signed checkpoints of the links.

A link holds the batch's row keys and content hashes (`rows.py`) in order, their RFC 6962
Merkle root, and `link_hash = SHA-256(previous link_hash || payload)`. One link per batch, not
per row: per-row links would add a Python hash and a stored row per event, while a batch's
Merkle root still names each row and gives it an inclusion proof (bench/RESULTS.md, chain).

Appends are chained by the store as they happen (`Store._after_append`). Tables detection and
alerting change in place (`rows.MUTABLE`) are sealed by comparing them with the chain: at each
checkpoint and when the store closes (`write`), after a migration (`migration`), and, before
this writer changes anything, at open (`outside`: a change made while no agentaudit process
held the store, which `verify` reports).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from agentaudit.store.chain import merkle, rows, signing

GENESIS = "0" * 64
CHECKPOINT_EVERY_ROWS = 100_000
CHECKPOINT_EVERY_SECONDS = 300.0
HASH_SLICE_ROWS = 4096
ANCHOR_VARIABLE = "AGENTAUDIT_CHECKPOINT_LOG"
SWITCH_VARIABLE = "AGENTAUDIT_CHAIN"


def enabled() -> bool:
    return os.environ.get(SWITCH_VARIABLE, "1").strip().lower() not in ("0", "off", "false", "no")


def leaf(table: str, key: str, row_hash: str) -> bytes:
    """A batch tree's leaf: which row of which table, and its content hash."""
    return f"{table}\n{key}\n{row_hash}".encode()


def link_fields(
    seq: int, table: str, action: str, note: str | None, count: int, batch_root: str, at: datetime
) -> dict[str, Any]:
    return {
        "seq": seq,
        "table": table,
        "action": action,
        "note": note,
        "rows": count,
        "batch_root": batch_root,
        "created_at": at.isoformat(),
    }


def link_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(bytes.fromhex(prev_hash) + payload).hexdigest()


class ChainWriter:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        head = con.execute("SELECT seq, link_hash FROM chain ORDER BY seq DESC LIMIT 1").fetchall()
        self.seq, self.head = (int(head[0][0]), str(head[0][1])) if head else (0, GENESIS)
        self.rows_since_checkpoint = 0
        self.last_checkpoint = time.monotonic()
        self._columns: dict[str, list[str]] = {}

    # -- links -----------------------------------------------------------------------------

    def record(
        self,
        table: str,
        keys: Sequence[str],
        hashes: Sequence[str],
        action: str = "append",
        note: str | None = None,
    ) -> None:
        if not keys:
            return
        batch_root = merkle.root([leaf(table, k, h) for k, h in zip(keys, hashes, strict=True)])
        at = datetime.now(UTC)
        fields = link_fields(self.seq + 1, table, action, note, len(keys), batch_root.hex(), at)
        new_hash = link_hash(self.head, fields)
        link = pa.table(
            {
                "seq": pa.array([self.seq + 1], pa.int64()),
                "table_name": [table],
                "action": [action],
                "note": pa.array([note], pa.string()),
                "row_keys": pa.array([list(keys)], pa.list_(pa.string())),
                "row_hashes": pa.array([list(hashes)], pa.list_(pa.string())),
                "batch_root": [batch_root.hex()],
                "prev_hash": [self.head],
                "link_hash": [new_hash],
                "created_at": pa.array([at], pa.timestamp("us", tz="UTC")),
            }
        )
        self.con.register("_chain_link", link)
        try:
            self.con.execute("INSERT INTO chain BY NAME SELECT * FROM _chain_link")
        finally:
            self.con.unregister("_chain_link")
        self.seq, self.head = self.seq + 1, new_hash
        self.rows_since_checkpoint += len(keys)

    def record_batch(self, table: str, batch: pa.Table, only: set[str] | None = None) -> None:
        """Chain the rows of `batch` just appended to `table` (`only`: the keys that were new,
        when an anti-join dropped some). One statement per batch, its result streamed in
        slices of `HASH_SLICE_ROWS`: the canonical text of a whole 48 MB append held at once
        pushed the store's buffer pool (256 MB during ingest) out to disk, and a statement per
        slice cost a quarter more CPU (bench/RESULTS.md, chain)."""
        if table not in self._columns:  # a writer starts after migrations: they do not move
            self._columns[table] = rows.columns(self.con, table)
        # a column NULL in every row is written as the NULL literal: the same text, and a
        # fifth less of to_json's work on sparse sources
        canonical = rows.canonical_sql(self._columns[table], "b", rows.non_null_columns(batch))
        sql = f"SELECT {rows.key_sql(table, 'b')} AS k, {canonical} AS c FROM _chain_rows b"
        keys: list[str] = []
        hashes: list[str] = []
        self.con.register("_chain_rows", batch)
        try:
            for part in self.con.sql(sql).to_arrow_reader(HASH_SLICE_ROWS):
                keys += part.column(0).to_pylist()
                hashes += rows.sha256_each(pa.chunked_array([part.column(1)]))
        finally:
            self.con.unregister("_chain_rows")
        if only is not None:
            kept = [i for i, key in enumerate(keys) if key in only]
            keys, hashes = [keys[i] for i in kept], [hashes[i] for i in kept]
        self.record(table, keys, hashes)
        self.checkpoint_if_due()

    def seal(
        self, tables: Iterable[str] = rows.MUTABLE, action: str = "write", note: str | None = None
    ) -> int:
        """Chain every row of `tables` whose content the chain does not have yet."""
        changed = 0
        for table in tables:
            keys, hashes = rows.differences(self.con, table)
            self.record(table, keys, hashes, action, note)
            changed += len(keys)
        return changed

    def observe_outside(self, tables: Iterable[str] = rows.MUTABLE) -> int:
        """Before writing: chain what changed while no agentaudit process held the store, as
        `outside` links, so that the next seal does not take it for our own write."""
        return self.seal(tables, "outside", "changed while no agentaudit writer held the store")

    # -- checkpoints -----------------------------------------------------------------------

    def checkpoint_if_due(self) -> None:
        due = self.rows_since_checkpoint >= CHECKPOINT_EVERY_ROWS or (
            time.monotonic() - self.last_checkpoint >= CHECKPOINT_EVERY_SECONDS
        )
        if due:
            self.seal()
            self.checkpoint()

    def checkpoint(self) -> dict[str, Any] | None:
        """Sign the Merkle tree head over every link, unless the last checkpoint covers them."""
        last = self.con.execute(
            "SELECT coalesce(max(checkpoint_no), 0), coalesce(max(tree_size), 0) "
            "FROM chain_checkpoints"
        ).fetchall()[0]
        self.rows_since_checkpoint, self.last_checkpoint = 0, time.monotonic()
        if int(last[1]) >= self.seq:
            return None
        hashes = [
            bytes.fromhex(row[0])
            for row in self.con.execute("SELECT link_hash FROM chain ORDER BY seq").fetchall()
        ]
        key = signing.load_or_create_key()
        row: dict[str, Any] = {
            "checkpoint_no": int(last[0]) + 1,
            "tree_size": len(hashes),
            "root_hash": merkle.root(hashes).hex(),
            "head_hash": self.head,
            "created_at": datetime.now(UTC),
            "key_id": signing.key_id(key.public_key()),
        }
        fields = signing.statement(row)
        row["signature"] = signing.sign(key, fields)
        self.con.execute(
            "INSERT INTO chain_checkpoints BY NAME SELECT * FROM (SELECT "
            "? AS checkpoint_no, ? AS tree_size, ? AS root_hash, ? AS head_hash, "
            "? AS created_at, ? AS key_id, ? AS signature)",
            [row[name] for name in row],
        )
        write_anchor({"statement": fields, "signature": row["signature"]})
        return row


def write_anchor(record: dict[str, Any]) -> None:
    """Append the checkpoint to the file the user named (`AGENTAUDIT_CHECKPOINT_LOG`: an
    append-only or WORM mount), one JSON line, in one O_APPEND write."""
    target = os.environ.get(ANCHOR_VARIABLE)
    if not target:
        return
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
