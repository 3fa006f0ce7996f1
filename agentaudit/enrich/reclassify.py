"""Re-apply enrichment to stored events after environments.yaml, a catalog or a pack changed.

Each stored row is rebuilt as a collector left it (its own columns, hints and raw record, the
derived columns cleared) and passed through `agentaudit.enrich.event.enrich`, the code ingest
runs, so a reclassified row equals one ingested today. Only the derived columns are written:
`target_env`, `env_evidence`, `categories`, `destructive`, `severity`. Redaction is not redone
(the stored text is already redacted), so what redaction decided at ingest is kept: the
fingerprints and `credential_access`, and `conflicting_duplicate`, which the store sets.

Rows of origin `agentaudit` (the guard's decisions) carry the guard's own verdict and are not
reclassified. All writes go through `apply_changes`, in one transaction with its run record,
chained by the store as one explained link (`Store.explained_change("reclassify", ...)`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from agentaudit.enrich.environments import forget_mapping_cache
from agentaudit.enrich.event import enrich
from agentaudit.enrich.secrets import NoSecrets

if TYPE_CHECKING:  # enrichment runs before the store: it is handed one, never imports it
    from agentaudit.store import Store

DERIVED = ("target_env", "env_evidence", "categories", "destructive", "severity")
# categories set by redaction at ingest or by the store, never by classification
_KEPT_CATEGORIES = ("credential_access", "conflicting_duplicate")
# the kinds enrichment classifies (commands, provider operations); others keep their categories
_CLASSIFIED_KINDS = ("process", "api")
_INPUT_COLUMNS = (
    "event_id, source, kind, origin, command, cwd, operation, scope, target, url, provider, "
    "argvs, tool_name, text, env_hints, secret_fps, credential_fp, instructions, "
    "CASE WHEN kind = 'api' THEN raw END AS raw"
)
_BATCH_ROWS = 20_000
# stored text is already redacted: enrichment must not scan it again
_AS_STORED = NoSecrets(b"")


@dataclass
class ReclassifyReport:
    examined: int = 0
    changed_rows: int = 0
    changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DERIVED, 0))
    run_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "examined": self.examined,
            "changed_rows": self.changed_rows,
            "changed": dict(self.changed),
        }


def reclassify(store: Store) -> ReclassifyReport:
    """Re-derive the derived columns of every stored event; write and count what changed.
    The rewrite is chained as one explained link (`reclassify`) of the store's chain."""
    con = store.con
    forget_mapping_cache()  # the user has just edited environments.yaml: read it now
    report = ReclassifyReport()
    changes: list[dict[str, Any]] = []
    for row in _stored_rows(con):
        report.examined += 1
        new = rederive(row)
        differing = [c for c in DERIVED if _normal(new[c]) != _normal(row["stored"][c])]
        if differing:
            for column in differing:
                report.changed[column] += 1
            changes.append({"event_id": row["event_id"], **{c: new[c] for c in DERIVED}})
    report.changed_rows = len(changes)
    note = f"{report.changed_rows} of {report.examined} events: " + ", ".join(
        f"{column} {count}" for column, count in report.changed.items() if count
    )
    with store.explained_change("reclassify", note.rstrip(": ")):
        report.run_id = apply_changes(con, changes, report)
    return report


def rederive(row: dict[str, Any]) -> dict[str, Any]:
    """The derived columns enrichment gives this stored row today."""
    stored = row["stored"]
    event = {k: v for k, v in row.items() if k != "stored"}
    classified = event["kind"] in _CLASSIFIED_KINDS
    before = list(stored["categories"] or [])
    kept = [c for c in before if c in _KEPT_CATEGORIES]  # appended after classification
    event.update(target_env=None, env_evidence=None, severity=None)
    event["categories"] = None if classified else [c for c in before if c not in kept] or None
    # a classified row's destruction is re-derived; another kind's is the collector's own
    event["destructive"] = False if classified else bool(stored["destructive"])
    event["secret_fps"] = None  # credential_access stays as redaction found it at ingest
    if "credential_access" in kept:  # it weighs in the severity, as at ingest
        event["categories"] = [*(event["categories"] or []), "credential_access"]
    enrich(event, _AS_STORED, clues=False)
    # in ingest's order: classification's, then redaction's, then the store's
    categories = [c for c in event["categories"] or [] if c not in kept] + kept
    event["categories"] = list(dict.fromkeys(categories)) or None
    return {c: event[c] for c in DERIVED}


def apply_changes(
    con: duckdb.DuckDBPyConnection, changes: list[dict[str, Any]], report: ReclassifyReport
) -> str:
    """Every write of a reclassification: the changed rows and the run's record, in one
    transaction (the one place a change log or hash chain has to follow)."""
    run_id = uuid.uuid4().hex[:16]
    table = pa.Table.from_pylist(
        changes,
        schema=pa.schema(
            [("event_id", pa.string()), ("target_env", pa.string()),
             ("env_evidence", pa.string()), ("categories", pa.list_(pa.string())),
             ("destructive", pa.bool_()), ("severity", pa.string())]
        ),
    )  # fmt: skip
    con.execute("BEGIN TRANSACTION")
    try:
        if table.num_rows:
            con.register("_agentaudit_reclassified", table)
            try:
                con.execute(
                    "UPDATE events SET "
                    + ", ".join(f"{c} = u.{c}" for c in DERIVED)
                    + " FROM _agentaudit_reclassified u WHERE events.event_id = u.event_id"
                )
            finally:
                con.unregister("_agentaudit_reclassified")
        con.execute(
            "INSERT INTO reclassify_runs VALUES (?, ?, ?, ?, ?)",
            [run_id, datetime.now(UTC), report.examined, report.changed_rows,
             json.dumps(report.changed)],
        )  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return run_id


def _stored_rows(con: duckdb.DuckDBPyConnection) -> Iterator[dict[str, Any]]:
    cursor = con.cursor()
    try:
        reader = cursor.sql(
            f"SELECT {_INPUT_COLUMNS}, {', '.join(DERIVED)} FROM events "
            "WHERE origin IS DISTINCT FROM 'agentaudit' ORDER BY event_id"
        ).to_arrow_reader(_BATCH_ROWS)
        for batch in reader:
            for row in batch.to_pylist():
                row["stored"] = {c: row.pop(c) for c in DERIVED}
                yield row
    finally:
        cursor.close()


def _normal(value: Any) -> Any:
    """Compare lists as lists (Arrow gives lists; enrichment may give tuples) and NULL alike."""
    if isinstance(value, (list, tuple)):
        return list(value) or None
    return value
