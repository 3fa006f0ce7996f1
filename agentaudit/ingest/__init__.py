"""Ingest: files -> collector -> enrichment -> store, with counts for every file.

`files` reads one file (or in-memory input) through its collector; `parallel` spreads large
inputs over worker processes; `discover` finds each source's default locations.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from agentaudit.collectors import get_collector
from agentaudit.enrich.secrets import Redactor, redactor_for
from agentaudit.ingest.files import (
    FileReport,
    IngestReport,
    expand_paths,
    ingest_file,
    ingest_source,
)
from agentaudit.ingest.parallel import ingest_parallel
from agentaudit.store import Store, now

__all__ = ["FileReport", "IngestReport", "expand_paths", "ingest_paths", "ingest_source"]


def ingest_paths(
    store: Store,
    paths: Iterable[str | Path],
    *,
    source: str | None = None,
    redactor: Redactor | None = None,
    on_file: Callable[[FileReport], None] | None = None,
    max_bytes: int | None = None,
    record_run: bool = True,
    jobs: int = 1,
) -> IngestReport:
    """Ingest files from their checkpoints. `max_bytes` bounds what is read of each
    append-only file in this call (the rest waits for the next call: `watch` stays fair
    between a busy file and a quiet one); `record_run=False` writes no `ingest_runs` row.
    `jobs > 1` collects and enriches large inputs in that many worker processes (the store
    append stays in this one; see `ingest_parallel`); the stored rows are the same."""
    redactor = redactor or redactor_for()
    forced = get_collector(source) if source else None
    report = IngestReport()
    started = now()
    files = expand_paths(paths)
    with store.bulk_append():
        if jobs > 1 and files:
            report.files += ingest_parallel(
                store, files, forced, redactor, max_bytes, jobs, on_file
            )
        else:
            for path in files:
                file_report = ingest_file(store, path, forced, redactor, max_bytes)
                report.files.append(file_report)
                if on_file:
                    on_file(file_report)
    if not record_run:
        return report
    store.con.execute(
        "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            uuid.uuid4().hex,
            started,
            now(),
            len(report.files),
            report.ingested,
            report.duplicate,
            report.quarantined,
        ],
    )
    return report
