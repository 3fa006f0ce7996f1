"""The `watch` loop: wake on file changes (or every poll interval), ingest, detect, page.

One thread owns the store's connection and does every write of the loop: ingest, links,
findings, alerts, deliveries; other processes' commands (`alert ack`, `silence`, `ingest`,
`detect`: the owner API, `agentaudit/owner/`) write between passes, under `writing`. The
health endpoint reads counters; the guard helper reads the store through its own cursor
(DuckDB connections are per thread). On SIGTERM the loop stops
waiting, runs one last pass (reads what was written, detects, delivers), then closes.
After SIGKILL, a restart resumes from the ingest checkpoints; event and finding ids make
re-reading anything exactly-once.

What to read is `rounds.Reader`'s; when to detect and how to page, `paging.Pager`'s;
detection itself is the one driver's (`agentaudit.detect.driver`).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from agentaudit import paths
from agentaudit.alert.config import AlertingConfig, from_urls, load_config
from agentaudit.detect.driver import builtin_detectors
from agentaudit.enrich.secrets import Redactor, redactor_for
from agentaudit.ingest import IngestReport
from agentaudit.realtime.guard.record import decision_log_path
from agentaudit.realtime.watch.config import WatchConfig
from agentaudit.realtime.watch.health import HealthServer
from agentaudit.realtime.watch.paging import Pager
from agentaudit.realtime.watch.rounds import Reader
from agentaudit.realtime.watch.sources import FileTailSource, WatchSource, build_source
from agentaudit.realtime.watch.telemetry import Telemetry, readers_from_config
from agentaudit.store import Store, now

PASS_SECONDS = 0.25  # then look at what else changed
MAX_JUMPS = 4  # files that changed during a round and are read before its busier files
FINAL_PASS_SECONDS = 10.0


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
        # held for each pass; the store's owner API runs other processes' commands under it
        self.writing = threading.RLock()
        self.owner: Any = None
        self.state: dict[str, Any] = {
            "status": "starting",
            "started_at": now(),
            "passes": 0,
            "events_ingested": 0,
            "quarantined": 0,
            "findings": 0,
            "alerts_delivered": 0,
            "detector_failures": [],  # detectors that refused or raised, until they run again
            "failing_files": {},  # path -> why its last read failed (until it reads whole)
            "last_pass_at": None,
        }
        # `notify` URLs page at once (group_wait 0); without them, the alerting config
        # (`agentaudit alerting`, issue 7) decides routes and timers, if there is one.
        alerting: AlertingConfig | None = (
            from_urls(config.notify) if config.notify else load_config()
        )
        self.alerting = alerting
        detectors = builtin_detectors()  # built once: a pass only runs them
        for detector in detectors:
            detector.prepare()
        self.reader = Reader(self.store, self.sources, self.redactor)
        self.pager = Pager(self.store, config, detectors, alerting, self.telemetry, self.state)

    # -- lifecycle -------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until the stop event is set (SIGTERM/SIGINT set it when run in the main thread)."""
        self._install_signals()
        self._start_services()
        try:
            with self.writing:
                self.pager.evaluate_unalerted()  # (once, at start; then each pass its own)
                self.pager.resume()
            self.run_pass(None)
            if self.config.db_threads > 0:
                # the catch-up above is bulk work for DuckDB's threads; the loop's passes are
                # dozens of small queries, which a second thread only adds scheduling to
                self.store.con.execute(f"SET threads = {int(self.config.db_threads)}")
            self.state["status"] = "ok"
            self.reader.start_notifier(self.config.debounce_ms, self.stop_event)
            while not self.stop_event.is_set():
                self.run_pass(self.reader.next_changes(self.config.poll_seconds, self.stop_event))
        finally:
            self.state["status"] = "stopping"
            self.run_pass(None, budget=FINAL_PASS_SECONDS)  # flush what was written before
            self._stop_services()

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
                self.config.health_host,
                int(self.config.health_port),
                self.health_status,
                token=self.config.health_token,
            ).start()
        if self.config.guard_socket:
            self.guard_server = self._start_guard(self.config.guard_socket)
        if self.store.path is not None:
            from agentaudit.owner.server import OwnerServer

            self.owner = OwnerServer(
                self.store, command="agentaudit watch", writing=self.writing
            ).start()

    def _start_guard(self, socket: bool | str) -> Any:
        from agentaudit.realtime.guard.server import GuardServer, default_socket_path
        from agentaudit.realtime.guard.service import Guard

        path = default_socket_path() if socket is True else Path(str(socket))
        local = threading.local()

        def connect():
            if not hasattr(local, "con"):
                local.con = self.store.con.cursor()
            return local.con

        guard = Guard(connect=connect, redactor=self.redactor, decided_by="watch")
        return GuardServer(path, guard).start()

    def _stop_services(self) -> None:
        if self.owner is not None:  # from here on, commands open the store (and wait for it)
            self.owner.stop()
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

        Files are read in rounds of at most `rounds.ROUND_BYTES` each, quietest first, so one
        busy file cannot hold back a page from another: after any round that stored a
        notable event, detection and delivery run before the next round. A pass ends after
        `budget` seconds; the files still behind are carried into the next pass, which
        also reads whatever changed meanwhile.
        """
        with self.writing:
            return self._run_pass(changed, budget)

    def _run_pass(self, changed: set[Path] | None, budget: float | None) -> dict[str, Any]:
        final = budget is not None  # the last pass before exit detects whatever it read
        budget = PASS_SECONDS if budget is None else budget
        seen_at = time.monotonic()
        outcome: dict[str, Any] = {"ingested": 0, "findings": 0, "delivered": 0}
        reader, pager = self.reader, self.pager
        work = reader.work(changed)
        first_round = True
        detecting_before = pager.detecting
        while True:
            ingested = 0
            for source in reader.due_sources() if first_round else []:
                ingested += self._ingest_then_detect(
                    lambda src=source: reader.collect(src, changed), seen_at, outcome
                )
            if not first_round:  # a backlog's next round: first what changed meanwhile
                reader.changed_meanwhile(work, set())
            queue_ = reader.quietest_first(
                [(source, path) for source, files in work.items() for path in files]
            )
            jumps = MAX_JUMPS
            while queue_:
                source, path = queue_.pop(0)
                ingested += self._ingest_then_detect(
                    lambda src=source, p=path: reader.read_files(src, {p}), seen_at, outcome
                )
                if queue_ and jumps > 0:
                    # A file that changed meanwhile (the incident's next line, while this
                    # round paged its previous one) is read before the busy file's next bytes.
                    fresh = reader.changed_meanwhile(work, {p for _, p in queue_})
                    if fresh:
                        jumps -= 1
                        queue_ = reader.quietest_first(fresh + queue_)
            first_round = False
            work = {source: reader.backlog(files) for source, files in work.items()}
            more = any(work.values())
            outcome["ingested"] += ingested
            if pager.due(final, reading_done=not more):
                self._detect(outcome, seen_at, ingested)
            if not more:
                break
            # (a pass's budget is for reading: detection in it does not shorten it, or a
            # backlog would get one round per detection under a storm of incidents; the
            # last passes before exit keep a bound on their whole time)
            detected = 0.0 if final else pager.detecting - detecting_before
            if time.monotonic() - seen_at - detected > budget:
                reader.carry = {source: files for source, files in work.items() if files}
                # Plain events still get their detection under a backlog, at their pace.
                if pager.plain_due():
                    self._detect(outcome, seen_at, 0)
                break
        outcome["delivered"] += pager.check_sources(seen_at)
        if not outcome["findings"]:
            outcome["delivered"] += pager.tick_alerts(seen_at)
        self.state["passes"] += 1
        self.state["last_pass_at"] = time.monotonic()
        self.telemetry.pass_duration.record(time.monotonic() - seen_at)
        self.telemetry.set_lag(
            {k: v for source in self.sources for k, v in source.lag(self.store).items()}
        )
        return outcome

    def _ingest_then_detect(
        self, read: Callable[[], IngestReport], seen_at: float, outcome: dict[str, Any]
    ) -> int:
        """Read one file (or source); when it stored an event that pages, detect and page now."""
        started: datetime = now()
        report = read()
        self.telemetry.record_ingest(report)
        self.state["events_ingested"] += report.ingested
        self.state["quarantined"] += report.quarantined
        self.reader.note(report)
        self._note_failures(report)
        if report.ingested and self.pager.ingested(started):
            self._detect(outcome, seen_at, report.ingested)
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

    def _detect(self, outcome: dict[str, Any], seen_at: float, ingested: int) -> None:
        found, delivered = self.pager.detect_and_page(seen_at, ingested)
        outcome["findings"] += found
        outcome["delivered"] += delivered
