"""Duplicates are compared, not trusted: the same event id with other content is a new event.

An event id comes from the record's own id when the source has one (CloudTrail `eventID`,
GitHub `_document_id`, k8s `auditID`), so a forged file reusing real ids would otherwise be
dropped as "already stored", and so would the real records if the forgery came first. Before an
append, every incoming event whose id is already stored (or earlier in the batch) is compared
on `raw`, the whole source record: identical content is a true duplicate (dropped by the
append's anti-join as before); other content is kept under a new id derived from the old one
and its content, with the category `conflicting_duplicate` (an audit-tamper signal: the Sigma
rule `agentaudit_conflicting_duplicate` makes it a finding). Re-reading the forged file adds
nothing more: its re-keyed rows are true duplicates of themselves.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from agentaudit.schema import stable_id

CONFLICT_CATEGORY = "conflicting_duplicate"
# Sources whose event id is the provider's own record id. An agent's event id is built from
# its session and sequence, and the same call logged twice (hook and transcript, two OTLP
# namings) is one event whatever the wrapping: those stay deduplicated by id alone.
PROVIDER_SOURCES = frozenset(
    {"aws.cloudtrail", "github.audit", "k8s.audit", "gcp.audit", "azure.activity", "railway.audit"}
)


def compared(con: duckdb.DuckDBPyConnection, batch: pa.Table, all_new: bool) -> pa.Table:
    """`batch` with every event that reuses a stored (or earlier) id for other content
    re-keyed and flagged. `all_new`: no id of the batch is stored (then only the batch's
    own repeats are compared)."""
    unique = pc.count_distinct(batch["event_id"]).as_py() == batch.num_rows
    if unique and all_new:
        return batch
    provider = {i for i, s in enumerate(batch["source"].to_pylist()) if s in PROVIDER_SOURCES}
    if not provider:
        return batch
    conflicting: dict[int, str] = {}  # row -> the raw it conflicts on
    if not unique:
        first_raw: dict[str, Any] = {}
        for row, (event_id, raw) in enumerate(
            zip(batch["event_id"].to_pylist(), batch["raw"].to_pylist(), strict=True)
        ):
            if row not in provider:
                continue
            if event_id not in first_raw:
                first_raw[event_id] = raw
            elif not _same_content(first_raw[event_id], raw):
                conflicting[row] = raw
    if not all_new:
        found = _conflicts_with_store(con, batch)
        conflicting.update({row: raw for row, raw in found.items() if row in provider})
    if not conflicting:
        return batch
    return _rekeyed(batch, conflicting)


def _conflicts_with_store(con: duckdb.DuckDBPyConnection, batch: pa.Table) -> dict[int, str]:
    numbered = batch.select(["event_id", "raw"]).append_column(
        "_row", pa.array(range(batch.num_rows), pa.int64())
    )
    con.register("_compared", numbered)
    try:
        rows = con.execute(
            "SELECT c._row, c.raw, e.raw FROM _compared c JOIN events e USING (event_id) "
            "WHERE c.raw IS DISTINCT FROM e.raw"
        ).fetchall()
    finally:
        con.unregister("_compared")
    found: dict[int, str] = {}
    stored: dict[int, list[Any]] = {}
    for row, raw, stored_raw in rows:
        stored.setdefault(row, []).append(stored_raw)
        found[row] = raw
    # the same content serialised in another key order is the same record
    return {
        row: raw
        for row, raw in found.items()
        if not any(_same_content(raw, other) for other in stored[row])
    }


def _same_content(a: str | None, b: str | None) -> bool:
    if a == b:
        return True
    if a is None or b is None:
        return False
    try:
        return json.loads(a) == json.loads(b)
    except (ValueError, RecursionError):
        return False


def _rekeyed(batch: pa.Table, conflicting: dict[int, str]) -> pa.Table:
    ids = batch["event_id"].to_pylist()
    categories = batch["categories"].to_pylist()
    for row, raw in conflicting.items():
        ids[row] = stable_id(ids[row], CONFLICT_CATEGORY, raw)
        categories[row] = [*(categories[row] or []), CONFLICT_CATEGORY]
    schema = batch.schema
    batch = batch.set_column(
        schema.get_field_index("event_id"), schema.field("event_id"), pa.array(ids, pa.string())
    )
    index = schema.get_field_index("categories")
    return batch.set_column(
        index, schema.field(index), pa.array(categories, schema.field(index).type)
    )
