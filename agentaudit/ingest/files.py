"""Ingest: files -> collector -> enrichment -> store, with counts for every file.

Every record ends up in `events` or in `quarantine`; re-reading a file adds nothing (event ids
are deterministic) and append-only files are read from their checkpointed offset.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat as stat_mode
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from agentaudit.collectors import companion_of, sniff_collector
from agentaudit.collectors.base import Collector, SourceInput
from agentaudit.enrich.secrets import Redactor, redactor_for
from agentaudit.ingest.records import enrich_events, prepare_batches
from agentaudit.schema import stable_id
from agentaudit.store import Store, now

__all__ = ["enrich_events"]  # re-exported: the OTLP receiver imports it from here

HEAD_BYTES = 4096
IDENTITY_BYTES = 1024  # a file's identity: device, inode and a hash of its first bytes
# A last line without a newline in a file written this recently may still be growing.
STILL_WRITING_SECONDS = 60


@dataclass
class FileReport:
    path: str
    source: str | None
    ingested: int = 0
    duplicate: int = 0
    quarantined: int = 0
    # read, unchanged, skipped (unrecognised: quarantined), companion; damaged (read, the
    # records past the damage kept where they could be), error (not read), interrupted
    # (stopped by the user; read again next run)
    status: str = "read"
    detail: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


FAILED_STATUSES = frozenset({"error", "damaged"})


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    interrupted: str | None = None  # where a stop request ended the run

    @property
    def failed(self) -> list[FileReport]:
        """Files that could not be read whole (the exit code of `ingest` says so)."""
        return [f for f in self.files if f.failed]

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
            "failed": len(self.failed),
            "interrupted": self.interrupted,
            "files": [vars(f) for f in self.files],
        }


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and every entry under directories named, in a stable order. What is not
    a regular file (a fifo, a symlink loop) and a directory that cannot be listed are kept
    in the list: reading them reports why they were not read."""
    out: list[Path] = []
    for entry in paths:
        path = Path(entry).expanduser()
        if not path.is_dir():
            out.append(path)
            continue
        found: list[Path] = []
        unlisted: list[Path] = []

        def unreadable(error: OSError, unlisted: list[Path] = unlisted) -> None:
            unlisted.append(Path(error.filename))

        for root, dirs, names in os.walk(path, onerror=unreadable):
            dirs.sort()
            found += [Path(root, name) for name in names]
        out += sorted(found + unlisted)
    return out


def ingest_source(
    store: Store, collector: Collector, src: SourceInput, redactor: Redactor | None = None
) -> FileReport:
    """One in-memory input (e.g. an OTLP request) through the same collect, enrich, store path."""
    report = FileReport(src.path, collector.name)
    _consume(store, collector, src, redactor or redactor_for(), report, None)
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
        fh = open_regular(self.path)
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
        with open_regular(path) as fh:
            head = fh.read(HEAD_BYTES)
            stat = os.fstat(fh.fileno())
    except OSError as exc:
        return FileReport(str(path), None, status="error", detail=read_error(exc, path))
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


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading; anything else (a fifo, a device, a directory) is an
    OSError saying what it is, raised before a read could block on it."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    mode = os.fstat(fd).st_mode
    if not stat_mode.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat_mode.S_ISDIR(mode) else _KINDS.get(stat_mode.S_IFMT(mode))
        raise OSError(f"not a regular file ({kind or 'a special file'}): not read")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


_KINDS = {
    stat_mode.S_IFIFO: "a fifo",
    stat_mode.S_IFSOCK: "a socket",
    stat_mode.S_IFCHR: "a character device",
    stat_mode.S_IFBLK: "a block device",
}


def read_error(exc: OSError, path: Path) -> str:
    """One line saying why a file was not read (the path is in the report beside it)."""
    if exc.strerror and exc.filename is not None:
        return f"{exc.strerror} (errno {exc.errno})"
    return str(exc).replace(f"{path}", "the file").strip() or type(exc).__name__


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
    stop: threading.Event | None = None,
) -> FileReport:
    plan = plan_file(store, path, forced, redactor)
    if isinstance(plan, FileReport):
        return plan
    return ingest_planned(store, plan, redactor, max_bytes, stop)


def ingest_planned(
    store: Store,
    plan: FilePlan,
    redactor: Redactor,
    max_bytes: int | None = None,
    stop: threading.Event | None = None,
) -> FileReport:
    """Read a planned file in this process, append what it yields, save its checkpoint.
    A read error keeps what was appended and no checkpoint: the file is read again next run
    (dedup keeps that exactly-once). So does a stop request, checked after each batch."""
    report = FileReport(str(plan.path), plan.collector.name)
    try:
        with plan.open() as fh:
            src = plan.source_input(fh, max_bytes)
            _consume(store, plan.collector, src, redactor, report, stop)
    except OSError as exc:
        report.status, report.detail = "error", read_error(exc, plan.path)
        return report
    if report.status != "interrupted":
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
    store: Store,
    collector: Collector,
    src: SourceInput,
    redactor: Redactor,
    report: FileReport,
    stop: threading.Event | None,
) -> None:
    for table, quarantine_rows in prepare_batches(collector, src, redactor):
        if table is not None:
            inserted = store.append("events", table)
            report.ingested += inserted
            report.duplicate += table.num_rows - inserted
        if quarantine_rows:
            store.append_quarantine(quarantine_rows)
            report.quarantined += len(quarantine_rows)
            note_damage(report, quarantine_rows)
        if stop is not None and stop.is_set():
            report.status = "interrupted"
            report.detail = f"stopped after {report.ingested + report.duplicate} records"
            return


def note_damage(report: FileReport, quarantine_rows: list[dict[str, Any]]) -> None:
    """A quarantined record that stands for damage to the whole file (a cut gzip) marks it."""
    for row in quarantine_rows:
        if row.get("damaged_file"):
            report.status, report.detail = "damaged", row["reason"]
