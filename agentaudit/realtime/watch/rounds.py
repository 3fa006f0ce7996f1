"""What `watch` reads next, and how much: file changes, fair rounds, backlogs.

Files are read in rounds of at most `ROUND_BYTES` each, quietest first, so one busy file
cannot hold back a page from another. File-system notifications (watchfiles: inotify,
FSEvents) arrive on a queue from their own thread; a timed pass looks at every file.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

import watchfiles

from agentaudit.enrich.secrets import Redactor
from agentaudit.ingest import IngestReport, ingest_paths
from agentaudit.realtime.watch.sources import FileTailSource, WatchSource
from agentaudit.store import Store

log = logging.getLogger("agentaudit.watch")
# Bytes of one file read per round (about 250 hook lines): a busy file yields to quiet ones.
ROUND_BYTES = 64 * 1024

Work = dict[FileTailSource, set[Path]]


class Reader:
    """The reading state of one watch loop: what moved, what is behind, what changed."""

    def __init__(self, store: Store, sources: list[WatchSource], redactor: Redactor) -> None:
        self.store = store
        self.sources = sources
        self.redactor = redactor
        self.carry: Work = {}  # files still behind after a pass: read first by the next one
        self.has_sessions: dict[Path, bool] = {}  # does a file's data carry agent sessions
        self._stats: dict[Path, tuple[int, int, int]] = {}
        self._progress: dict[Path, int] = {}
        self._noticed: set[Path] = set()  # changes taken from the queue during a pass
        self._pulled: dict[WatchSource, float] = {}
        self._changes: queue.Queue[set[Path]] = queue.Queue()

    # -- what changed ----------------------------------------------------------------------

    def watch_dirs(self) -> list[Path]:
        dirs: list[Path] = []
        for source in self.sources:
            dirs += [d for d in source.watch_dirs() if d.is_dir()]
        return list(dict.fromkeys(dirs))

    def start_notifier(self, debounce_ms: int, stop_event: threading.Event) -> None:
        dirs = self.watch_dirs()
        if dirs:
            threading.Thread(
                target=self._notify_changes,
                args=(dirs, debounce_ms, stop_event),
                name="watchfiles",
                daemon=True,
            ).start()

    def _notify_changes(self, dirs: list[Path], debounce_ms: int, stop: threading.Event) -> None:
        """File-system notifications (inotify, FSEvents) into a queue for the main loop."""
        for changes in watchfiles.watch(
            *dirs,
            watch_filter=None,
            debounce=debounce_ms,
            step=min(debounce_ms, 50),
            stop_event=stop,
            recursive=False,
            raise_interrupt=False,
        ):
            self._changes.put({Path(p) for _, p in changes})

    def next_changes(self, poll_seconds: float, stop_event: threading.Event) -> set[Path] | None:
        """Changed paths (merged), an empty set to continue a backlog, None for a timed pass."""
        if self.carry or self._noticed:
            changed, self._noticed = self._noticed, set()
        else:
            # Short waits, so a stop (a signal handler only sets the event) is seen at once.
            deadline = time.monotonic() + poll_seconds
            while True:
                try:
                    changed = self._changes.get(timeout=0.1)
                    break
                except queue.Empty:
                    if stop_event.is_set() or time.monotonic() >= deadline:
                        return None
        while True:
            try:
                changed |= self._changes.get_nowait()
            except queue.Empty:
                return changed

    def work(self, changed: set[Path] | None) -> Work:
        """The files to read this pass: what moved, and what the last pass carried."""
        work = {
            source: self.moved_files(source, changed) | self.carry.get(source, set())
            for source in self.sources
            if isinstance(source, FileTailSource)
        }
        self.carry = {}
        return work

    def changed_meanwhile(self, work: Work, queued: set[Path]) -> list[tuple[FileTailSource, Path]]:
        """Files the notifier reported since the pass began, not queued in this round yet.
        (What was taken from the notifier's queue is handed to the next pass too.)"""
        while True:
            try:
                self._noticed |= self._changes.get_nowait()
            except queue.Empty:
                break
        fresh = set(self._noticed)  # (a file read since it was noticed has not moved again)
        if not fresh:
            return []
        found = []
        for source in work:
            for path in self.moved_files(source, fresh):
                work[source].add(path)  # its backlog is looked at after the round, too
                if path not in queued:
                    found.append((source, path))
        return found

    def moved_files(self, source: FileTailSource, changed: set[Path] | None) -> set[Path]:
        """The source's files whose size, mtime or inode moved since the last look."""
        # (Own files only: a stat taken for another source's file would hide its change.)
        files = source.files() if changed is None else [p for p in changed if source.owns(p)]
        return {p for p in files if self._moved(p)}

    def _moved(self, path: Path) -> bool:
        try:
            st = path.stat()
        except OSError:
            return False
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        if self._stats.get(path) == key:
            return False
        self._stats[path] = key
        return True

    # -- in which order, how much ----------------------------------------------------------

    def quietest_first(self, items: list[tuple[FileTailSource, Path]]) -> list:
        """Files of agent sessions first, quietest first; then files without sessions (shell
        history, provider logs): their lines wait for their agent call before they page."""
        unread = self.unread_bytes([path for _, path in items])
        return sorted(
            items,
            key=lambda item: (not self.has_sessions.get(item[1], True), unread[item[1]]),
        )

    def unread_bytes(self, paths: list[Path]) -> dict[Path, int]:
        """Bytes on disk past the checkpoint, per file (one query for all of them)."""
        if not paths:
            return {}
        offsets = dict(
            self.store.con.execute(
                "SELECT path, byte_offset FROM checkpoints "
                "WHERE path IN (SELECT unnest(?::VARCHAR[]))",
                [[str(p) for p in paths]],
            ).fetchall()
        )
        out = {}
        for path in paths:
            try:
                out[path] = path.stat().st_size - offsets.get(str(path), 0)
            except OSError:
                out[path] = 0
        return out

    def backlog(self, files: set[Path]) -> set[Path]:
        """Files read in this round that still have unread bytes (and moved forward)."""
        moved = [p for p in files if self._progress.get(p)]
        return {p for p, unread in self.unread_bytes(moved).items() if unread > 0}

    def due_sources(self) -> list[WatchSource]:
        """Receivers are drained every pass; a pull source once its interval has elapsed."""
        due = []
        clock = time.monotonic()
        for source in self.sources:
            if isinstance(source, FileTailSource):
                continue
            interval = source.interval_seconds
            if interval is None or clock - self._pulled.get(source, -interval) >= interval:
                self._pulled[source] = clock
                due.append(source)
        return due

    # -- reading ---------------------------------------------------------------------------

    def read_files(self, source: FileTailSource, files: set[Path]) -> IngestReport:
        quietest_first = list(files)
        if len(files) > 1:
            unread = self.unread_bytes(quietest_first)
            quietest_first.sort(key=lambda p: unread[p])
        try:
            return ingest_paths(
                self.store,
                quietest_first,
                redactor=self.redactor,
                max_bytes=ROUND_BYTES,
                record_run=False,
            )
        except Exception:  # one broken source must not stop the others; retried next pass
            log.exception("source %s failed", source.name)
            for path in files:
                self._stats.pop(path, None)
            return IngestReport()

    def collect(self, source: WatchSource, changed: set[Path] | None) -> IngestReport:
        try:
            return source.collect(self.store, changed, self.redactor)
        except Exception:
            log.exception("source %s failed", source.name)
            return IngestReport()

    def note(self, report: IngestReport) -> None:
        """What a read moved forward; whether each new file's data carries agent sessions."""
        self._progress.update(
            {Path(f.path): f.ingested + f.duplicate + f.quarantined for f in report.files}
        )
        for f in report.files:  # learnt once per file, from what it stored
            if f.ingested and Path(f.path) not in self.has_sessions:
                rows = self.store.con.execute(
                    "SELECT bool_or(session_id IS NOT NULL) FROM events WHERE source_path = ?",
                    [f.path],
                ).fetchall()
                self.has_sessions[Path(f.path)] = bool(rows[0][0])
