"""Ingest on several cores: collect + enrich in worker processes, every store write here.

Collecting, redacting and analysing are pure per record, so they run in a process pool; the
parent only appends the workers' Arrow tables (with the usual anti-join on event_id), the
quarantine rows and the checkpoints, one file at a time and in file order, so dedup,
checkpoints and reports are exactly those of the serial path (`tests/test_ingest_parallel.py`
compares the stored rows). Units of work:

- a whole file (agent transcripts: a collector joins lines across the file, so a file is not
  split), up to `MAX_FILE_JOB_BYTES` still to read; larger ones are streamed in this process;
- a chunk of records of one big `{"Records": [...]}` document (CloudTrail delivery files): the
  document is cut between two top-level records and each piece re-wrapped as a document. A cut
  is only ever made at `},{"<first key>"` (the first key of the first record). That marker
  cannot lie inside a string (its last `"` would close the string and be followed by the key:
  not JSON); one between nested objects leaves the piece with unclosed brackets, i.e. invalid
  JSON, so a piece that does not parse cleanly sends the whole file through the serial path.

Memory: at most `2 * jobs` units are in flight (workers keep busy while the parent appends),
each at most one chunk or one file's events, plus up to `APPEND_BYTES` gathered for one append.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from agentaudit.collectors import get_collector
from agentaudit.collectors.base import Collector, SourceInput, guarded_collect
from agentaudit.enrich.secrets import Redactor
from agentaudit.ingest.files import (
    FilePlan,
    FileReport,
    ingest_planned,
    note_damage,
    plan_file,
    read_error,
)
from agentaudit.ingest.records import (
    BATCH_SIZE,
    batches,
    enrich_events,
    prepare_batches,
    quarantine_row,
    storable,
)
from agentaudit.schema import EVENT_SCHEMA, to_arrow
from agentaudit.store import Store

PARALLEL_MIN_BYTES = 16_000_000  # below this a pool costs more than it saves
MAX_FILE_JOB_BYTES = 64_000_000  # a worker holds one file's events: larger files stream here
# Files under SMALL_FILE_BYTES go to a worker in groups of about GROUP_BYTES, enriched together:
# the secret prefilter (one RE2 pass, compiled per call) costs about half as much over a group
# as over each ~2 MB transcript alone.
SMALL_FILE_BYTES = 4_000_000
GROUP_BYTES = 8_000_000
CHUNK_BYTES = 8_000_000  # records per chunk of a big Records document
APPEND_BYTES = 48_000_000  # Arrow bytes of events gathered for one append statement
_ARRAY_HEAD = re.compile(rb'^\s*\{\s*"(?P<key>[A-Za-z]+)"\s*:\s*\[\s*\{"(?P<first>[^"\\]{1,64})"')


def default_jobs() -> int:
    """Worker processes for `--jobs auto`: the cores this process may use, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


# -- worker side -------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(redactor: Redactor, spool: str | None = None, parent: int | None = None) -> None:
    _worker["redactor"], _worker["spool"] = redactor, spool
    _die_with_parent(parent)
    # Ctrl-C reaches the whole process group: the parent stops at a batch boundary and
    # ends the pool; a worker interrupted mid-unit would only print a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _keep_freed_memory()


def _die_with_parent(parent: int | None) -> None:
    """A worker is killed when the ingest that started it dies, even by SIGKILL (Linux's
    PR_SET_PDEATHSIG; elsewhere a thread that watches the parent's pid)."""
    if parent is None:
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before the request took hold
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


_PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


def _keep_freed_memory() -> None:
    """glibc: serve big blocks from the heap and keep freed memory, so each unit's buffers
    (pickled results of ~12 MB) reuse pages instead of mapping fresh ones: a worker then
    takes a quarter of the page faults and about half the system time. A no-op elsewhere."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
        libc.mallopt(_M_MMAP_THRESHOLD, 256 << 20)
    except (OSError, AttributeError):
        pass


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)


@dataclass
class UnitResult:
    events: pa.Table | None = None
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    outputs: int = 0  # events + quarantined records
    end_offset: int = 0
    end_line: int = 0
    error: str | None = None  # an OSError reading the file
    broken: bool = False  # a chunk that is not a clean JSON document

    # Sent to the parent through a file, not the pipe: the worker writes its events as an
    # Arrow IPC file in the spool and the parent maps it (no pickling, no copies through the
    # pipe: about a fifth of the parent's CPU at 300 MB of transcripts).
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if state["events"] is not None and _worker.get("spool"):
            state["events"] = _SpooledTable.write(state["events"], _worker["spool"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state["events"], _SpooledTable):
            state["events"] = state["events"].read()
        self.__dict__.update(state)


@dataclass(frozen=True)
class _SpooledTable:
    path: str

    @classmethod
    def write(cls, table: pa.Table, spool: str) -> _SpooledTable:
        _worker["spooled"] = _worker.get("spooled", 0) + 1
        path = os.path.join(spool, f"{os.getpid()}-{_worker['spooled']}.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        return cls(path)

    def read(self) -> pa.Table:
        table = pa.ipc.open_file(pa.memory_map(self.path)).read_all()  # zero-copy
        # the mapping outlives the name (POSIX); elsewhere it goes with the spool directory
        with suppress(OSError):
            os.unlink(self.path)
        return table


def _collect(collector: Collector, src: SourceInput) -> UnitResult:
    tables, result = [], UnitResult()
    for table, rows in prepare_batches(collector, src, _worker["redactor"]):
        if table is not None:
            tables.append(table)
        result.quarantine += rows
        result.outputs += (table.num_rows if table is not None else 0) + len(rows)
    result.events = pa.concat_tables(tables) if tables else None
    return result


def _run_file(plan: FilePlan, max_bytes: int | None) -> UnitResult:
    try:
        with plan.open() as fh:
            src = plan.source_input(fh, max_bytes)
            result = _collect(plan.collector, src)
    except OSError as exc:
        return UnitResult(error=read_error(exc, plan.path))
    result.end_offset, result.end_line = src.end_offset, src.end_line
    return result


def _run_files(plans: list[FilePlan], max_bytes: int | None) -> list[UnitResult]:
    """Small files: collect each, then enrich the group's events together, in batches."""
    redactor = _worker["redactor"]
    results: list[tuple[UnitResult, list[dict[str, Any]], FilePlan]] = []
    for plan in plans:
        events: list[dict[str, Any]] = []
        result = UnitResult()
        try:
            with plan.open() as fh:
                src = plan.source_input(fh, max_bytes)
                for batch, quarantined in batches(guarded_collect(plan.collector, src)):
                    events += batch
                    result.quarantine += [
                        quarantine_row(q, plan.collector, src.path, redactor) for q in quarantined
                    ]
        except OSError as exc:
            results.append((UnitResult(error=read_error(exc, plan.path)), [], plan))
            continue
        result.outputs = len(events) + len(result.quarantine)
        result.end_offset, result.end_line = src.end_offset, src.end_line
        results.append((result, events, plan))
    group = [event for _result, events, _plan in results for event in events]
    try:
        for start in range(0, len(group), BATCH_SIZE):
            enrich_events(group[start : start + BATCH_SIZE], redactor)
        for result, events, _plan in results:
            result.events = to_arrow(events) if events else None
    except Exception:  # a malformed event: each file's events are checked on their own
        for result, events, plan in results:
            result.events, refused = storable(events, redactor)
            result.quarantine += [
                quarantine_row(q, plan.collector, str(plan.path), redactor) for q in refused
            ]
    return [result for result, _events, _plan in results]


def _run_chunk(collector_name: str, path: str, document: bytes) -> UnitResult:
    collector = get_collector(collector_name)
    result = _collect(collector, SourceInput.from_bytes(path, document))
    # the stream parser's own complaint (no position, `invalid JSON after record N`): the cut
    # was not clean or the file is damaged; either way the serial path reads the file
    result.broken = any(
        r["line"] is None and r["reason"].startswith("invalid JSON") for r in result.quarantine
    )
    return result


# -- parent side -------------------------------------------------------------------------------


@dataclass
class _Unit:
    plan: FilePlan
    future: Future[UnitResult] | None  # None: read in this process when its turn comes
    chunk: int | None = None  # chunk number for a split document
    last: bool = True
    member: int | None = None  # index in a group's results

    def result(self) -> UnitResult:
        assert self.future is not None
        results = self.future.result()
        return results if self.member is None else results[self.member]


def ingest_parallel(
    store: Store,
    files: list[Path],
    forced: Collector | None,
    redactor: Redactor,
    max_bytes: int | None,
    jobs: int,
    on_file: Callable[[FileReport], None] | None = None,
    stop: threading.Event | None = None,
) -> list[FileReport]:
    plans = [plan_file(store, path, forced, redactor) for path in files]
    reports: list[FileReport] = []
    stopping = stop.is_set if stop is not None else lambda: False

    def done(report: FileReport) -> None:
        reports.append(report)
        if on_file:
            on_file(report)

    to_read = sum(p.to_read for p in plans if isinstance(p, FilePlan))
    if to_read < PARALLEL_MIN_BYTES:
        for plan in plans:
            if stopping():
                break
            if isinstance(plan, FileReport):
                done(plan)
            else:
                done(ingest_planned(store, plan, redactor, stop=stop))
        return reports
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    )
    with (
        tempfile.TemporaryDirectory(
            prefix="agentaudit-ingest-", ignore_cleanup_errors=True
        ) as spool,
        ProcessPoolExecutor(
            jobs, context, initializer=_init_worker, initargs=(redactor, spool, os.getpid())
        ) as pool,
        _one_thread(store),
    ):
        state = _Appender(store, redactor, max_bytes, done, stop)
        window: list[_Unit | FileReport] = []
        for item in _units(plans, pool, max_bytes, state.broken_files):
            if stopping():
                break
            window.append(item)
            # keep the pool busy while this process appends, with at most 2 * jobs in memory
            while (
                len({id(u.future) for u in window if isinstance(u, _Unit) and u.future}) > 2 * jobs
            ):
                state.take(window.pop(0))
        while window and not stopping():
            unit = window.pop(0)
            if isinstance(unit, _Unit) and unit.future is not None and not unit.future.done():
                # the last units are still being read: append what is here meanwhile, so
                # less is left to append once the workers are done
                state.flush()
            state.take(unit)
        if stopping():  # what is appended stays; files not finished are read next run
            pool.shutdown(wait=False, cancel_futures=True)
        store.con.execute("RESET threads")  # the workers are done: every core for the last append
        state.flush()
    if stopping():
        finished = {r.path for r in reports}
        for plan in plans:
            if isinstance(plan, FilePlan) and str(plan.path) not in finished:
                reports.append(
                    FileReport(
                        str(plan.path),
                        plan.collector.name,
                        status="interrupted",
                        detail="not read to its end: read again next run",
                    )
                )
    return reports


@contextmanager
def _one_thread(store: Store) -> Iterator[None]:
    """DuckDB on one thread while the workers hold the cores: its appends then cost a quarter
    less CPU (no work split between threads that would only compete with the workers)."""
    store.con.execute("SET threads = 1")
    try:
        yield
    finally:
        store.con.execute("RESET threads")


def _units(
    plans: list[FilePlan | FileReport],
    pool: ProcessPoolExecutor,
    max_bytes: int | None,
    broken_files: set[str],
) -> Iterator[_Unit | FileReport]:
    group: list[FilePlan | FileReport] = []

    def send_group() -> Iterator[_Unit | FileReport]:
        files = [p for p in group if isinstance(p, FilePlan)]
        future = pool.submit(_run_files, files, max_bytes) if files else None
        member = 0
        for item in group:
            if isinstance(item, FileReport):
                yield item
            else:
                yield _Unit(item, future, member=member)
                member += 1
        group.clear()

    for plan in plans:
        if isinstance(plan, FileReport):
            if group:
                group.append(plan)  # keeps the reports in file order
            else:
                yield plan
            continue
        if plan.to_read < SMALL_FILE_BYTES and _array_layout(plan) is None:
            group.append(plan)
            if sum(p.to_read for p in group if isinstance(p, FilePlan)) >= GROUP_BYTES:
                yield from send_group()
            continue
        yield from send_group()
        layout = _array_layout(plan)
        if layout is not None:
            yield from _chunk_units(plan, layout, pool, broken_files)
        elif plan.to_read <= MAX_FILE_JOB_BYTES:
            yield _Unit(plan, pool.submit(_run_file, plan, max_bytes))
        else:
            yield _Unit(plan, None)
    yield from send_group()


def _array_layout(plan: FilePlan) -> tuple[bytes, bytes] | None:
    """(opening `{"<key>":[`, cut marker `},{"<first key>"`) of a big compact Records
    document, else None."""
    # `splittable`: one output (event or quarantine) per record of a `{"<key>": [...]}`
    # document, so a chunk's record count gives the next chunk's `seq` base
    if not plan.collector.splittable or plan.to_read <= CHUNK_BYTES:
        return None
    try:
        with plan.path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    found = _ARRAY_HEAD.match(head)
    if found is None or plan.start_offset != 0:
        return None
    return b'{"' + found.group("key") + b'":[', b'},{"' + found.group("first") + b'"'


def _chunk_units(
    plan: FilePlan,
    layout: tuple[bytes, bytes],
    pool: ProcessPoolExecutor,
    broken_files: set[str],
) -> Iterator[_Unit]:
    path, name = str(plan.path), plan.collector.name
    opening, marker = layout
    number = 0
    try:
        fh = plan.open()
    except OSError:
        yield _Unit(plan, None, number)  # the serial path reports the error
        return
    with fh:
        carry = b""
        piece_start = True  # the first piece carries the document's own opening
        while path not in broken_files:
            block = fh.read(CHUNK_BYTES)
            data = carry + block
            cut = data.rfind(marker) if block else -1
            if block and cut < 0:
                if len(data) > 4 * CHUNK_BYTES:  # records not cut where expected
                    yield _Unit(plan, None, number)  # the serial path reads the file
                    return
                carry = data
                continue
            if cut < 0:  # end of file: the rest, with the document's own closing
                document = data if piece_start else opening + data
                yield _Unit(plan, pool.submit(_run_chunk, name, path, document), number, True)
                return
            piece, carry = data[: cut + 1], data[cut + 2 :]
            document = (piece if piece_start else opening + piece) + b"]}"
            yield _Unit(plan, pool.submit(_run_chunk, name, path, document), number, False)
            piece_start, number = False, number + 1


class _Appender:
    """Takes unit results in order and writes them: events, quarantine, checkpoint, report.

    Events are gathered across units up to `APPEND_BYTES` and appended in one statement; a
    file's checkpoint is saved, and its report given, only after its events are in the store.
    """

    def __init__(
        self,
        store: Store,
        redactor: Redactor,
        max_bytes: int | None,
        done: Callable[[FileReport], None],
        stop: threading.Event | None = None,
    ) -> None:
        self.store, self.redactor, self.max_bytes, self.done = store, redactor, max_bytes, done
        self.stop = stop
        self.broken_files: set[str] = set()
        self.report: FileReport | None = None
        self.seq_base = 0
        self.tables: list[tuple[FileReport, pa.Table]] = []
        self.pending_bytes = 0
        self.after_flush: list[Callable[[], None]] = []
        self.checkpoints: list[dict[str, Any]] = []  # saved in one statement per flush

    def take(self, unit: _Unit | FileReport) -> None:
        if isinstance(unit, FileReport):
            self.after_flush.append(lambda: self.done(unit))
            return
        path = str(unit.plan.path)
        if unit.chunk in (None, 0):
            self.report, self.seq_base = FileReport(path, unit.plan.collector.name), 0
        report = self.report
        assert report is not None
        if unit.future is None:  # a file to stream here, or a document that could not be cut
            self.broken_files.add(path)
            self._read_serially(unit.plan, report)
            return
        result = unit.result()
        if path in self.broken_files:
            return  # already read serially
        if result.error is not None:
            error = FileReport(path, None, status="error", detail=result.error)
            self.after_flush.append(lambda: self.done(error))
            return
        if result.broken:
            self.broken_files.add(path)
            self._read_serially(unit.plan, report)
            return
        if result.events is not None:
            events = _shift_seq(result.events, self.seq_base) if unit.chunk else result.events
            self._add(report, events)
        if result.quarantine:
            self.store.append_quarantine(result.quarantine)
            report.quarantined += len(result.quarantine)
            note_damage(report, result.quarantine)
        self.seq_base += result.outputs
        if unit.last:
            if unit.chunk is None:
                offset, line = result.end_offset, result.end_line
            else:
                offset, line = int(unit.plan.identity["size"]), 0
            self.checkpoints.append(
                {"path": path, **unit.plan.identity, "byte_offset": offset, "line": line}
            )
            self.after_flush.append(lambda: self.done(report))
        if self.pending_bytes >= APPEND_BYTES:
            self.flush()

    def _add(self, report: FileReport, events: pa.Table) -> None:
        paths = pc.unique(events["source_path"]).to_pylist()
        if paths != [report.path]:  # rows not named after their file: count them alone
            inserted = self.store.append("events", events)
            report.ingested += inserted
            report.duplicate += events.num_rows - inserted
            return
        self.tables.append((report, events))
        self.pending_bytes += events.nbytes

    def flush(self) -> None:
        if self.tables:
            batch = pa.concat_tables([table for _report, table in self.tables])
            inserted = self.store.append_events_by_path(batch)
            for report, table in self.tables:
                new = min(inserted.get(report.path, 0), table.num_rows)
                inserted[report.path] = inserted.get(report.path, 0) - new
                report.ingested += new
                report.duplicate += table.num_rows - new
            self.tables, self.pending_bytes = [], 0
        if self.after_flush:
            # one commit (one log sync) for the checkpoints of every file in this append
            self.store.con.execute("BEGIN TRANSACTION")
            try:
                self.store.save_checkpoints(self.checkpoints)
                for step in self.after_flush:
                    step()
            except BaseException:
                self.store.con.execute("ROLLBACK")
                raise
            self.store.con.execute("COMMIT")
        self.after_flush, self.checkpoints = [], []

    def _read_serially(self, plan: FilePlan, partial: FileReport) -> None:
        """The whole file again in this process; rows from its clean chunks count once."""
        self.flush()
        again = ingest_planned(self.store, plan, self.redactor, self.max_bytes, self.stop)
        again.duplicate -= partial.ingested
        again.ingested += partial.ingested
        self.done(again)


def _shift_seq(events: pa.Table, base: int) -> pa.Table:
    index = EVENT_SCHEMA.get_field_index("seq")
    shifted = pc.add(events.column(index), pa.scalar(base, pa.int64()))
    return events.set_column(index, EVENT_SCHEMA.field(index), shifted)
