"""Ingest: files -> collector -> enrichment -> store, with counts for every file.

Every record ends up in `events` or in `quarantine`; re-reading a file adds nothing (event ids
are deterministic) and append-only files are read from their checkpointed offset.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from agentaudit.collectors import companion_of, sniff_collector
from agentaudit.collectors.base import Collector, SourceInput
from agentaudit.enrich.environments import ENV_CLUE_MARKERS
from agentaudit.enrich.event import REDACTED_COLUMNS, REDACTED_LISTS, enrich
from agentaudit.enrich.secrets import NoSecrets, Redactor, redactor_for, scan_texts
from agentaudit.schema import Quarantined, stable_id
from agentaudit.store import Store, now

HEAD_BYTES = 4096
IDENTITY_BYTES = 1024  # a file's identity: device, inode and a hash of its first bytes
BATCH_SIZE = 5000
# A last line without a newline in a file written this recently may still be growing.
STILL_WRITING_SECONDS = 60


@dataclass
class FileReport:
    path: str
    source: str | None
    ingested: int = 0
    duplicate: int = 0
    quarantined: int = 0
    status: str = "read"  # read, unchanged, skipped (unrecognised: quarantined), companion, error
    detail: str | None = None


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def ingested(self) -> int:
        return sum(f.ingested for f in self.files)

    @property
    def duplicate(self) -> int:
        return sum(f.duplicate for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ingested": self.ingested,
            "duplicate": self.duplicate,
            "quarantined": self.quarantined,
            "files": [vars(f) for f in self.files],
        }


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and every file under directories named, in a stable order."""
    out: list[Path] = []
    for entry in paths:
        path = Path(entry).expanduser()
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file())
        else:
            out.append(path)
    return out


def ingest_source(
    store: Store, collector: Collector, src: SourceInput, redactor: Redactor | None = None
) -> FileReport:
    """One in-memory input (e.g. an OTLP request) through the same collect, enrich, store path."""
    report = FileReport(src.path, collector.name)
    _consume(store, collector, src, redactor or redactor_for(), report)
    return report


@dataclass
class FilePlan:
    """Where and how to read one file: decided from its head, identity and checkpoint."""

    path: Path
    collector: Collector
    identity: dict[str, Any]
    start_offset: int
    start_line: int
    hold_partial_line: bool

    @property
    def to_read(self) -> int:
        return int(self.identity["size"]) - self.start_offset

    def open(self) -> BinaryIO:
        """The planned file, refused (OSError) if another file has taken its name since."""
        fh = self.path.open("rb")
        stat = os.fstat(fh.fileno())
        if (stat.st_dev, stat.st_ino) != (self.identity["device"], self.identity["inode"]):
            fh.close()
            raise OSError(f"{self.path} was replaced while being read; it is read next run")
        return fh

    def source_input(self, fh: BinaryIO, max_bytes: int | None) -> SourceInput:
        return SourceInput(
            str(self.path),
            fh,
            start_offset=self.start_offset,
            start_line=self.start_line,
            hold_partial_line=self.hold_partial_line,
            max_bytes=max_bytes if self.collector.incremental else None,
        )


UNRECOGNISED = "no collector recognises this file"


def plan_file(
    store: Store, path: Path, forced: Collector | None, redactor: Redactor | None = None
) -> FilePlan | FileReport:
    """The plan for reading a file, or its final report when there is nothing to read."""
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
            stat = os.fstat(fh.fileno())
    except OSError as exc:
        return FileReport(str(path), None, status="error", detail=str(exc))
    collector = forced or sniff_collector(path, head)
    if collector is None:
        companion = companion_of(path)
        if companion:
            return FileReport(str(path), companion[0].name, status="companion", detail=companion[1])
        return _unrecognised(store, path, head, stat.st_size, redactor or redactor_for())
    identity = {
        "collector": collector.name,
        "device": stat.st_dev,
        "inode": stat.st_ino,
        "size": stat.st_size,
        "head_hash": _head_hash(head),
    }
    start_offset, start_line = _resume_point(store, str(path), identity, collector, head)
    if start_offset is None:
        return FileReport(str(path), collector.name, status="unchanged")
    still_writing = time.time() - stat.st_mtime < STILL_WRITING_SECONDS
    return FilePlan(path, collector, identity, start_offset, start_line, still_writing)


def _unrecognised(
    store: Store, path: Path, head: bytes, size: int, redactor: Redactor
) -> FileReport:
    """A file no collector reads is one quarantine row (its size and first bytes), never a
    silent zero; the same unchanged file is not added twice."""
    shown = head[:512].decode("utf-8", "backslashreplace")
    raw = json.dumps({"size": size, "head": shown}, ensure_ascii=False)
    row = {
        "quarantine_id": stable_id("unrecognised", str(path), size, _head_hash(head)),
        "source": None,
        "source_path": str(path),
        "line": None,
        "byte_offset": 0,
        "reason": UNRECOGNISED,
        "raw": redactor.redact(raw).text,
        "parser_version": None,
        "ingested_at": now(),
    }
    added = store.append_quarantine([row])
    detail = f"{UNRECOGNISED} ({size} bytes; quarantined)"
    return FileReport(str(path), None, quarantined=added, status="skipped", detail=detail)


def ingest_file(
    store: Store,
    path: Path,
    forced: Collector | None,
    redactor: Redactor,
    max_bytes: int | None = None,
) -> FileReport:
    plan = plan_file(store, path, forced, redactor)
    if isinstance(plan, FileReport):
        return plan
    return ingest_planned(store, plan, redactor, max_bytes)


def ingest_planned(
    store: Store, plan: FilePlan, redactor: Redactor, max_bytes: int | None = None
) -> FileReport:
    """Read a planned file in this process, append what it yields, save its checkpoint."""
    report = FileReport(str(plan.path), plan.collector.name)
    try:
        with plan.open() as fh:
            src = plan.source_input(fh, max_bytes)
            _consume(store, plan.collector, src, redactor, report)
    except OSError as exc:
        return FileReport(str(plan.path), None, status="error", detail=str(exc))
    store.save_checkpoint(
        str(plan.path), **plan.identity, byte_offset=src.end_offset, line=src.end_line
    )
    return report


def _head_hash(head: bytes, length: int = IDENTITY_BYTES) -> str:
    """`<n>:<hash of the first n bytes>`: an appended file keeps the same head hash."""
    prefix = head[:length]
    return f"{len(prefix)}:{hashlib.sha256(prefix).hexdigest()[:32]}"


def _resume_point(
    store: Store, path: str, identity: dict[str, Any], collector: Collector, head: bytes
) -> tuple[int | None, int]:
    """(offset, line) to read from; offset None when the file is unchanged since last time."""
    saved = store.checkpoint(path)
    if saved is not None and saved["head_hash"] != identity["head_hash"]:
        # The file may have been shorter than IDENTITY_BYTES last time: compare that prefix.
        saved_length = int(saved["head_hash"].split(":", 1)[0])
        identity = {**identity, "head_hash": _head_hash(head, saved_length)}
    same_file = saved is not None and all(
        saved[k] == identity[k] for k in ("collector", "device", "inode", "head_hash")
    )
    if not same_file:
        return 0, 0
    assert saved is not None
    if identity["size"] < saved["byte_offset"]:
        return 0, 0  # shrunk: rewritten in place, read again (dedup keeps it exactly-once)
    if identity["size"] == saved["size"] and saved["byte_offset"] == identity["size"]:
        return None, 0
    if not collector.incremental:
        return 0, 0
    return saved["byte_offset"], saved["line"]


def _consume(
    store: Store, collector: Collector, src: SourceInput, redactor: Redactor, report: FileReport
) -> None:
    for events, quarantine_rows in prepare_batches(collector, src, redactor):
        if events:
            inserted = store.append_events(events)
            report.ingested += inserted
            report.duplicate += len(events) - inserted
        if quarantine_rows:
            store.append_quarantine(quarantine_rows)
            report.quarantined += len(quarantine_rows)


def prepare_batches(
    collector: Collector, src: SourceInput, redactor: Redactor
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Collect and enrich, no store: (enriched events, redacted quarantine rows) per batch."""
    for events, quarantined in _batches(collector.collect(src)):
        enrich_events(events, redactor)
        rows = [_quarantine_row(q, collector, src.path, redactor) for q in quarantined]
        yield events, rows


def enrich_events(events: list[dict[str, Any]], redactor: Redactor) -> None:
    """Enrich a batch in place; one vectorised pass first rules out events no secret
    detector can match (they skip the full scan)."""
    if not events:
        return
    texts = [_redactable_text(e) for e in events]
    maybe, clues = scan_texts(texts, ENV_CLUE_MARKERS)  # one RE2 pass a text asks both
    for event, scan, clue in zip(events, maybe, clues, strict=True):
        event["ingested_at"] = now()
        enrich(event, redactor if scan else _NO_SECRETS, clues=clue)


_NO_SECRETS = NoSecrets(b"")


def _redactable_text(event: dict[str, Any]) -> str:
    """Every value enrichment redacts, joined: the prefilter's input for one event. The
    separator is no line break: the prefilter reads line breaks as file content."""
    values = [str(event[c]) for c in REDACTED_COLUMNS if event.get(c)]
    return "\x1e".join(values + [str(v) for c in REDACTED_LISTS for v in event.get(c) or []])


def _batches(
    outputs: Iterator[dict[str, Any] | Quarantined],
) -> Iterator[tuple[list[dict[str, Any]], list[Quarantined]]]:
    events: list[dict[str, Any]] = []
    quarantined: list[Quarantined] = []
    for output in outputs:
        if isinstance(output, Quarantined):
            quarantined.append(output)
        else:
            events.append(output)
        if len(events) + len(quarantined) >= BATCH_SIZE:
            yield events, quarantined
            events, quarantined = [], []
    if events or quarantined:
        yield events, quarantined


def _quarantine_row(
    q: Quarantined, collector: Collector, path: str, redactor: Redactor
) -> dict[str, Any]:
    # backslashreplace keeps every byte visible (and reversible) in valid UTF-8 text.
    text = q.raw.decode("utf-8", "backslashreplace")
    return {
        "quarantine_id": stable_id(collector.source, path, q.byte_offset, q.line, q.raw),
        "source": collector.source,
        "source_path": path,
        "line": q.line,
        "byte_offset": q.byte_offset,
        "reason": redactor.redact(q.reason).text,  # a parser's message may quote the input
        "raw": redactor.redact(text).text,
        "parser_version": collector.parser_version,
        "ingested_at": now(),
    }
