"""Ingest: files -> collector -> enrichment -> store, with counts for every file.

`files` reads one file (or in-memory input) through its collector; `parallel` spreads large
inputs over worker processes; `discover` finds each source's default locations.
"""

from __future__ import annotations

import threading
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
    stop: threading.Event | None = None,
) -> IngestReport:
    """Ingest files from their checkpoints. `max_bytes` bounds what is read of each
    append-only file in this call (the rest waits for the next call: `watch` stays fair
    between a busy file and a quiet one); `record_run=False` writes no `ingest_runs` row.
    `jobs > 1` collects and enriches large inputs in that many worker processes (the store
    append stays in this one; see `ingest_parallel`); the stored rows are the same.
    `stop` (set from a signal handler) ends the run at the next batch boundary: the file being
    read keeps what was appended and no checkpoint, `report.interrupted` says where it
    stopped, and the next run resumes (dedup keeps it exactly-once)."""
    redactor = redactor or redactor_for()
    forced = get_collector(source) if source else None
    report = IngestReport()
    started = now()
    files = expand_paths(paths)
    with store.bulk_append():
        if jobs > 1 and files:
            report.files += ingest_parallel(
                store, files, forced, redactor, max_bytes, jobs, on_file, stop
            )
        else:
            for path in files:
                if stop is not None and stop.is_set():
                    break
                file_report = ingest_file(store, path, forced, redactor, max_bytes, stop)
                report.files.append(file_report)
                if on_file:
                    on_file(file_report)
    if stop is not None and stop.is_set():
        report.interrupted = _where_stopped(report, len(files))
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


def _where_stopped(report: IngestReport, total: int) -> str:
    stopped = next((f for f in report.files if f.status == "interrupted"), None)
    done = sum(f.status != "interrupted" for f in report.files)
    where = f"in {stopped.path} ({stopped.detail})" if stopped else "between two files"
    return f"stopped {where}; {done} of {total} files done; run it again to resume"
