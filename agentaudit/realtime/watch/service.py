"""The `watch` loop: wake on file changes (or every poll interval), ingest, detect, page.

One thread owns the store's connection and does every write: ingest, links, findings,
alerts, deliveries. The health endpoint reads counters; the guard helper reads the store
through its own cursor (DuckDB connections are per thread). On SIGTERM the loop stops
waiting, runs one last pass (reads what was written, detects, delivers), then closes.
After SIGKILL, a restart resumes from the ingest checkpoints; event and finding ids make
re-reading anything exactly-once.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import watchfiles

from agentaudit import paths
from agentaudit.alert.config import AlertingConfig, from_urls, load_config
from agentaudit.alert.delivery.outbox import deliver_due
from agentaudit.alert.engine import evaluate
from agentaudit.detect.driver import builtin_detectors
from agentaudit.detect.sigma.detector import SigmaRules
from agentaudit.enrich.secrets import Redactor, redactor_for
from agentaudit.ingest import IngestReport, ingest_paths
from agentaudit.realtime.guard.record import decision_log_path
from agentaudit.realtime.watch.config import WatchConfig
from agentaudit.realtime.watch.health import HealthServer
from agentaudit.realtime.watch.incremental import detect_recent
from agentaudit.realtime.watch.sources import FileTailSource, WatchSource, build_source
from agentaudit.realtime.watch.telemetry import Telemetry, readers_from_config
from agentaudit.store import Store, now

log = logging.getLogger("agentaudit.watch")
ALERT_TICK_SECONDS = 1.0
DELIVERY_BUDGET_SECONDS = 5.0
# Bytes of one file read per round (about 250 hook lines): a busy file yields to quiet ones.
ROUND_BYTES = 64 * 1024
PASS_SECONDS = 0.25  # then look at what else changed
MAX_JUMPS = 4  # files that changed during a round and are read before its busier files
# After a page, the Sigma pack's pass over the batch could wait while new lines are queued, at
# most this many passes in a row (the batch is then detected again, Sigma pack included).
# Off: detecting a batch again after its lines gained links re-keyed a call's findings
# (a second `destructive-provider-http` and `data-and-backups-destroyed` in about one run of
# 15 of tests/test_watch_service.py; none in 22 runs with it off).
MAX_POSTPONED = 0
QUIET_BYTES = 16 * 1024  # unread bytes of a file that counts as a quiet one's next lines
RESUME_SECONDS = 30.0  # at start, detect again what was ingested this long before the stop
RESUME_EVENTS = 10_000  # and at most this many events
FINAL_PASS_SECONDS = 10.0
PLAIN_DETECT_SECONDS = 2.0  # detection for plain events at most this often
# What detects at once: a destructive call, a high or critical one, a provider's record.
PAGE_TRIGGER = "(destructive OR severity IN ('high', 'critical') OR kind = 'api')"


def sources_for(config: WatchConfig) -> list[WatchSource]:
    sources = [build_source(spec) for spec in config.sources]
    if config.hook_log:
        sources.append(FileTailSource([paths.hook_log_dir()], name="hook-log"))
    if config.guard_log:
        sources.append(FileTailSource([decision_log_path()], name="guard-log"))
    return sources


class Watcher:
    def __init__(
        self,
        config: WatchConfig,
        *,
        store: Store | None = None,
        telemetry: Telemetry | None = None,
        redactor: Redactor | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.store = store or Store.open(config.db)
        self.telemetry = telemetry or Telemetry(readers_from_config(config.telemetry))
        self.redactor = redactor or redactor_for()
        self.stop_event = stop_event or threading.Event()
        self.sources = sources_for(config)
        self.health: HealthServer | None = None
        self.guard_server: Any = None
        self.state: dict[str, Any] = {
            "status": "starting",
            "started_at": now(),
            "passes": 0,
            "events_ingested": 0,
            "quarantined": 0,
            "findings": 0,
            "alerts_delivered": 0,
            "failing_files": {},  # path -> why its last read failed
            "last_pass_at": None,
        }
        self._detect_since: datetime | None = None
        self._held_since: datetime | None = None  # sessionless lines still settling
        self._rerun_at: datetime | None = None
        self._alert_tick = 0.0
        # `notify` URLs page at once (group_wait 0); without them, the alerting config
        # (`agentaudit alerting`, issue 7) decides routes and timers, if there is one.
        self.alerting: AlertingConfig | None = (
            from_urls(config.notify) if config.notify else load_config()
        )
        self._stats: dict[Path, tuple[int, int, int]] = {}
        self._progress: dict[Path, int] = {}
        self._carry: dict[WatchSource, set[Path]] = {}
        self._noticed: set[Path] = set()  # changes taken from the queue during a pass
        self._has_sessions: dict[Path, bool] = {}  # does a file's data carry agent sessions
        self._postponed = 0  # passes in a row whose Sigma pack waited for newer lines
        self._detecting = 0.0  # seconds spent detecting and paging, in all
        self._plain_due = 0.0
        self._pulled: dict[WatchSource, float] = {}
        self._changes: queue.Queue[set[Path]] = queue.Queue()
        self.detectors = builtin_detectors()  # built once: a pass only runs them
        for detector in self.detectors:
            detector.prepare()
        # The Sigma pack restates much of what the built-in detectors find, at the cost of
        # the largest share of a pass: a page the built-in detectors can make does not wait.
        self._deferred = [d for d in self.detectors if isinstance(d, SigmaRules)]

    # -- lifecycle -------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until the stop event is set (SIGTERM/SIGINT set it when run in the main thread)."""
        self._install_signals()
        self._start_services()
        try:
            if self.alerting is not None:
                # findings a killed run recorded but never put into an alert (once, at start;
                # then each pass evaluates only what it recorded)
                evaluate(self.store, self.alerting)
            self._resume_detection()
            self.run_pass(None)
            if self.config.db_threads > 0:
                # the catch-up above is bulk work for DuckDB's threads; the loop's passes are
                # dozens of small queries, which a second thread only adds scheduling to
                self.store.con.execute(f"SET threads = {int(self.config.db_threads)}")
            self.state["status"] = "ok"
            dirs = self._watch_dirs()
            if dirs:
                threading.Thread(
                    target=self._notify_changes, args=(dirs,), name="watchfiles", daemon=True
                ).start()
            while not self.stop_event.is_set():
                self.run_pass(self._next_changes())
        finally:
            self.state["status"] = "stopping"
            self.run_pass(None, budget=FINAL_PASS_SECONDS)  # flush what was written before
            self._stop_services()

    def _resume_detection(self) -> None:
        """Detect again what was ingested just before a stop: a kill between a round's ingest
        and its detection (or a postponed Sigma pass) must not leave events undetected.
        Detection is idempotent (finding ids), so what was detected adds nothing."""
        latest_ingest = self.store.con.execute("SELECT max(ingested_at) FROM events").fetchall()
        if latest_ingest[0][0] is None:
            return
        since = latest_ingest[0][0] - timedelta(seconds=RESUME_SECONDS)
        # at most the last RESUME_EVENTS events (not a bulk ingest's hundreds of thousands)
        boundary = self.store.con.execute(
            "SELECT ingested_at FROM events ORDER BY ingested_at DESC LIMIT 1 OFFSET ?",
            [RESUME_EVENTS],
        ).fetchall()
        if boundary and boundary[0][0] >= since:
            since = boundary[0][0] + timedelta(microseconds=1)
        self._detect_since = since

    def _notify_changes(self, dirs: list[Path]) -> None:
        """File-system notifications (inotify, FSEvents) into a queue for the main loop."""
        for changes in watchfiles.watch(
            *dirs,
            watch_filter=None,
            debounce=self.config.debounce_ms,
            step=min(self.config.debounce_ms, 50),
            stop_event=self.stop_event,
            recursive=False,
            raise_interrupt=False,
        ):
            self._changes.put({Path(p) for _, p in changes})

    def _next_changes(self) -> set[Path] | None:
        """Changed paths (merged), an empty set to continue a backlog, None for a timed pass."""
        if self._carry or self._noticed:
            changed, self._noticed = self._noticed, set()
        else:
            # Short waits, so a stop (a signal handler only sets the event) is seen at once.
            deadline = time.monotonic() + self.config.poll_seconds
            while True:
                try:
                    changed = self._changes.get(timeout=0.1)
                    break
                except queue.Empty:
                    if self.stop_event.is_set() or time.monotonic() >= deadline:
                        return None
        while True:
            try:
                changed |= self._changes.get_nowait()
            except queue.Empty:
                return changed

    def stop(self) -> None:
        self.stop_event.set()

    def _install_signals(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop_event.set())

    def _start_services(self) -> None:
        if self.config.notify:  # apprise loads its plugins on first use: not on the first page
            import apprise

            apprise.Apprise().add(self.config.notify[0])
        for source in self.sources:
            source.start()
        if self.config.health_port is not None:
            self.health = HealthServer(
                self.config.health_host, int(self.config.health_port), self.health_status
            ).start()
        if self.config.guard_socket:
            from agentaudit.realtime.guard.server import GuardServer, default_socket_path
            from agentaudit.realtime.guard.service import Guard

            path = (
                default_socket_path()
                if self.config.guard_socket is True
                else Path(self.config.guard_socket)
            )
            local = threading.local()

            def connect():
                if not hasattr(local, "con"):
                    local.con = self.store.con.cursor()
                return local.con

            guard = Guard(connect=connect, redactor=self.redactor, decided_by="watch")
            self.guard_server = GuardServer(path, guard).start()

    def _stop_services(self) -> None:
        if self.guard_server is not None:
            self.guard_server.stop()
        for source in self.sources:
            source.stop()
        # decisions answered while stopping are in the log: read and detect them too
        self.run_pass(None, budget=FINAL_PASS_SECONDS)
        self.telemetry.shutdown()
        if self.health is not None:
            self.health.stop()
        self.store.close()
        self.state["status"] = "stopped"

    def _watch_dirs(self) -> list[Path]:
        dirs: list[Path] = []
        for source in self.sources:
            dirs += [d for d in source.watch_dirs() if d.is_dir()]
        return list(dict.fromkeys(dirs))

    def health_status(self) -> tuple[int, dict[str, Any]]:
        last = self.state["last_pass_at"]
        stale = last is not None and time.monotonic() - last > 30 + 5 * self.config.poll_seconds
        ok = self.state["status"] == "ok" and not stale
        body = {**self.state, "last_pass_age_s": None if last is None else time.monotonic() - last}
        body.pop("last_pass_at")
        return (200 if ok else 503), body

    # -- one pass --------------------------------------------------------------------------

    def run_pass(self, changed: set[Path] | None, budget: float | None = None) -> dict[str, Any]:
        """Ingest what changed (everything on a timed pass), detect, alert, deliver.

        Files are read in rounds of at most `ROUND_BYTES` each, quietest first, so one
        busy file cannot hold back a page from another: after any round that stored a
        notable event, detection and delivery run before the next round. A pass ends after
        `budget` seconds; the files still behind are carried into the next pass, which
        also reads whatever changed meanwhile.
        """
        final = budget is not None  # the last pass before exit detects whatever it read
        budget = PASS_SECONDS if budget is None else budget
        seen_at = time.monotonic()
        outcome: dict[str, Any] = {"ingested": 0, "findings": 0, "delivered": 0}
        work = {
            source: self._moved_files(source, changed) | self._carry.get(source, set())
            for source in self.sources
            if isinstance(source, FileTailSource)
        }
        self._carry = {}
        others = [s for s in self.sources if not isinstance(s, FileTailSource)]
        first_round = True
        detecting_before = self._detecting
        while True:
            ingested = 0
            for source in self._due_sources(others) if first_round else []:
                ingested += self._ingest_then_detect(
                    lambda src=source: self._safe_collect(src, changed), seen_at, outcome
                )
            if not first_round:  # a backlog's next round: first what changed meanwhile
                self._changed_meanwhile(work, set())
            queue_ = self._quietest_first(
                [(source, path) for source, files in work.items() for path in files]
            )
            jumps = MAX_JUMPS
            while queue_:
                source, path = queue_.pop(0)
                ingested += self._ingest_then_detect(
                    lambda src=source, p=path: self._read_files(src, {p}), seen_at, outcome
                )
                if queue_ and jumps > 0:
                    # A file that changed meanwhile (the incident's next line, while this
                    # round paged its previous one) is read before the busy file's next bytes.
                    fresh = self._changed_meanwhile(work, {p for _, p in queue_})
                    if fresh:
                        jumps -= 1
                        queue_ = self._quietest_first(fresh + queue_)
            first_round = False
            work = {source: self._backlog(files) for source, files in work.items()}
            more = any(work.values())
            outcome["ingested"] += ingested
            due = self._rerun_at is not None and now() >= self._rerun_at
            # Plain events (no session's notable event among them) are detected at a
            # steadier pace: their findings can wait a moment, a page cannot.
            plain_due = not more and time.monotonic() >= self._plain_due
            if self._pending() and (due or plain_due or final):
                found, delivered = self._detect_and_page(seen_at, ingested)
                outcome["findings"] += found
                outcome["delivered"] += delivered
            if not more:
                break
            # (a pass's budget is for reading: detection in it does not shorten it, or a
            # backlog would get one round per detection under a storm of incidents; the
            # last passes before exit keep a bound on their whole time)
            detected = 0.0 if final else self._detecting - detecting_before
            if time.monotonic() - seen_at - detected > budget:
                self._carry = {source: files for source, files in work.items() if files}
                # Plain events still get their detection under a backlog, at their pace.
                if self._pending() and time.monotonic() >= self._plain_due:
                    found, delivered = self._detect_and_page(seen_at, 0)
                    outcome["findings"] += found
                    outcome["delivered"] += delivered
                break
        if not outcome["findings"]:
            outcome["delivered"] += self._tick_alerts(seen_at)
        self.state["passes"] += 1
        self.state["last_pass_at"] = time.monotonic()
        self.telemetry.pass_duration.record(time.monotonic() - seen_at)
        self.telemetry.set_lag(
            {k: v for source in self.sources for k, v in source.lag(self.store).items()}
        )
        return outcome

    def _quiet_file_changed(self) -> bool:
        """A file other than a busy one (a backlog, or a burst of lines) changed since the
        pass began: likely the next line of the incident just paged."""
        while True:
            try:
                self._noticed |= self._changes.get_nowait()
            except queue.Empty:
                break
        busy = {p for files in self._carry.values() for p in files}
        unread = self._unread_bytes([p for p in self._noticed if p not in busy])
        return any(0 < n <= QUIET_BYTES for n in unread.values())

    def _quietest_first(self, items: list[tuple[FileTailSource, Path]]) -> list:
        """Files of agent sessions first, quietest first; then files without sessions (shell
        history, provider logs): their lines wait for their agent call before they page."""
        unread = self._unread_bytes([path for _, path in items])
        return sorted(
            items,
            key=lambda item: (not self._has_sessions.get(item[1], True), unread[item[1]]),
        )

    def _changed_meanwhile(
        self, work: dict[FileTailSource, set[Path]], queued: set[Path]
    ) -> list[tuple[FileTailSource, Path]]:
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
            for path in self._moved_files(source, fresh):
                work[source].add(path)  # its backlog is looked at after the round, too
                if path not in queued:
                    found.append((source, path))
        return found

    def _ingest_then_detect(self, read, seen_at: float, outcome: dict[str, Any]) -> int:
        """Read one file (or source); when it stored a notable event, detect and page now."""
        started = now()
        ingested = self._record(read())
        if ingested and self._detect_since is None:
            self._detect_since = started
        if ingested and self._stored_notable(started):
            found, delivered = self._detect_and_page(seen_at, ingested)
            outcome["findings"] += found
            outcome["delivered"] += delivered
        return ingested

    def _record(self, report: IngestReport) -> int:
        self.telemetry.record_ingest(report)
        self.state["events_ingested"] += report.ingested
        self.state["quarantined"] += report.quarantined
        self._progress.update(
            {Path(f.path): f.ingested + f.duplicate + f.quarantined for f in report.files}
        )
        self._note_failures(report)
        for f in report.files:  # learnt once per file, from what it stored
            if f.ingested and Path(f.path) not in self._has_sessions:
                rows = self.store.con.execute(
                    "SELECT bool_or(session_id IS NOT NULL) FROM events WHERE source_path = ?",
                    [f.path],
                ).fetchall()
                self._has_sessions[Path(f.path)] = bool(rows[0][0])
        return report.ingested

    def _note_failures(self, report: IngestReport) -> None:
        """A file whose last read failed (unreadable, damaged) is named on /healthz until it
        is read whole again: the loop goes on, but a damaged audit log must not look fine."""
        failing = self.state["failing_files"]
        for f in report.files:
            if f.failed:
                failing[f.path] = f"{f.status}: {f.detail}"
            elif f.status == "read":
                failing.pop(f.path, None)

    def _pending(self) -> bool:
        """Something was ingested, or held back to settle, since the last detection."""
        return self._detect_since is not None or self._held_since is not None

    def _stored_notable(self, since: datetime) -> bool:
        """An event of an agent session that can page was stored (sessionless lines wait to
        settle; other notable events, such as a secret read, are context detected at the
        plain pace: they page only with the destructive call that follows them)."""
        rows = self.store.con.execute(
            f"SELECT count(*) FROM events WHERE ingested_at >= ? AND session_id IS NOT NULL "
            f"AND {PAGE_TRIGGER}",
            [since],
        ).fetchall()
        return bool(rows[0][0])

    def _detect_and_page(self, seen_at: float, ingested: int) -> tuple[int, int]:
        started = time.monotonic()
        try:
            return self._detect_and_page_now(seen_at, ingested, started)
        finally:
            self._detecting += time.monotonic() - started

    def _detect_and_page_now(self, seen_at: float, ingested: int, started: float):
        paged = [0]

        def page_now(findings: list[dict[str, Any]]) -> None:
            # the built-in detectors found a high or critical incident: page it before the
            # Sigma pack runs (its findings join the same alert right after)
            if self.alerting is not None and findings:
                evaluate(self.store, self.alerting, scope=[f["finding_id"] for f in findings])
                paged[0] += self._deliver(seen_at)
                log.debug(
                    "paged %d findings %.3f s into detection",
                    len(findings),
                    time.monotonic() - started,
                )

        def newer_lines_wait() -> bool:
            if self.stop_event.is_set() or self._postponed >= MAX_POSTPONED:
                return False  # (the last passes before exit detect everything)
            return self._quiet_file_changed()

        batch_since = self._detect_since or self._held_since
        result = detect_recent(
            self.store,
            self._detect_since,
            held_since=self._held_since,
            window_seconds=self.config.window_seconds,
            settle_seconds=self.config.settle_seconds,
            context=self.config.context,
            detectors=self.detectors,
            deferred=self._deferred,
            on_urgent=page_now,
            postpone=newer_lines_wait,
        )
        self._detect_since = None
        self._plain_due = time.monotonic() + PLAIN_DETECT_SECONDS
        self._rerun_at = result.unsettled_until
        if result.postponed and batch_since is not None:
            # the batch is detected again (Sigma pack included) by the next pass
            self._postponed += 1
            self._detect_since = batch_since
            self._rerun_at = now()
        else:
            self._postponed = 0
        self._held_since = result.unsettled_since  # re-check those lines when they have settled
        for finding in result.new_findings:
            self.telemetry.findings.add(
                1, {"agentaudit.rule": finding["rule_id"], "severity": finding["severity"]}
            )
        self.state["findings"] += len(result.new_findings)
        delivered = paged[0]
        if result.new_findings and self.alerting is not None:
            # group_wait 0 pages now; longer waits tick
            evaluate(
                self.store, self.alerting, scope=[f["finding_id"] for f in result.new_findings]
            )
            delivered += self._deliver(seen_at)
            self._alert_tick = time.monotonic() + ALERT_TICK_SECONDS
        log.debug(
            "round: %d ingested, detect+page %.3f s (%s): %d in window, %d detectors, "
            "%d links, new findings %s, %d updated, settling until %s",
            ingested,
            time.monotonic() - started,
            " ".join(f"{k} {v * 1000:.0f}ms" for k, v in result.timings.items()),
            result.window_events,
            result.detectors_run,
            result.links_added,
            [f["rule_id"] for f in result.new_findings],
            len(result.updated),
            result.unsettled_until,
        )
        return len(result.new_findings), delivered

    def _moved_files(self, source: FileTailSource, changed: set[Path] | None) -> set[Path]:
        """The source's files whose size, mtime or inode moved since the last look."""
        # (Own files only: a stat taken for another source's file would hide its change.)
        files = source.files() if changed is None else [p for p in changed if source.owns(p)]
        return {p for p in files if self._moved(p)}

    def _read_files(self, source: FileTailSource, files: set[Path]) -> IngestReport:
        quietest_first = list(files)
        if len(files) > 1:
            unread = self._unread_bytes(quietest_first)
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

    def _due_sources(self, sources: list[WatchSource]) -> list[WatchSource]:
        """Receivers are drained every pass; a pull source once its interval has elapsed."""
        due = []
        clock = time.monotonic()
        for source in sources:
            interval = source.interval_seconds
            if interval is None or clock - self._pulled.get(source, -interval) >= interval:
                self._pulled[source] = clock
                due.append(source)
        return due

    def _safe_collect(self, source: WatchSource, changed: set[Path] | None) -> IngestReport:
        try:
            return source.collect(self.store, changed, self.redactor)
        except Exception:
            log.exception("source %s failed", source.name)
            return IngestReport()

    def _unread_bytes(self, paths: list[Path]) -> dict[Path, int]:
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

    def _backlog(self, files: set[Path]) -> set[Path]:
        """Files read in this round that still have unread bytes (and moved forward)."""
        moved = [p for p in files if self._progress.get(p)]
        return {p for p, unread in self._unread_bytes(moved).items() if unread > 0}

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

    def _deliver(self, seen_at: float) -> int:
        """Send what the outbox has due (a hanging receiver cannot hold the loop long)."""
        if self.alerting is None:
            return 0
        results = deliver_due(self.store, self.alerting, budget_seconds=DELIVERY_BUDGET_SECONDS)
        ok = sum(1 for r in results if r["ok"])
        for r in results:
            self.telemetry.alerts.add(1, {"outcome": "ok" if r["ok"] else "failed"})
        if ok:
            self.telemetry.alert_latency.record(time.monotonic() - seen_at)
        self.state["alerts_delivered"] += ok
        return ok

    def _tick_alerts(self, seen_at: float) -> int:
        """Alert timers (group_wait, group_interval, resolve) and outbox retries, each second."""
        if self.alerting is None or time.monotonic() < self._alert_tick:
            return 0
        self._alert_tick = time.monotonic() + ALERT_TICK_SECONDS
        evaluate(self.store, self.alerting, scope=[])  # timers only: findings joined already
        return self._deliver(seen_at)
