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
import signal
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import watchfiles

from agentaudit import paths
from agentaudit.alert import build_alerts, deliver_pending
from agentaudit.guard.record import decision_log_path
from agentaudit.ingest import IngestReport
from agentaudit.secrets import Redactor, redactor_for
from agentaudit.store import Store, now
from agentaudit.watch.config import WatchConfig
from agentaudit.watch.health import HealthServer
from agentaudit.watch.incremental import detect_recent
from agentaudit.watch.sources import FileTailSource, WatchSource, build_source
from agentaudit.watch.telemetry import Telemetry, readers_from_config

log = logging.getLogger("agentaudit.watch")
RETRY_DELIVERY_SECONDS = 30.0


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
            "last_pass_at": None,
        }
        self._detect_since: datetime | None = None
        self._rerun_at: datetime | None = None
        self._retry_at = 0.0
        self._stats: dict[Path, tuple[int, int, int]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until the stop event is set (SIGTERM/SIGINT set it when run in the main thread)."""
        self._install_signals()
        self._start_services()
        try:
            self.run_pass(None)
            self.state["status"] = "ok"
            dirs = self._watch_dirs()
            if dirs:
                for changes in watchfiles.watch(
                    *dirs,
                    watch_filter=None,
                    debounce=self.config.debounce_ms,
                    step=min(self.config.debounce_ms, 50),
                    stop_event=self.stop_event,
                    rust_timeout=int(self.config.poll_seconds * 1000),
                    yield_on_timeout=True,
                    recursive=False,
                    raise_interrupt=False,
                ):
                    if self.stop_event.is_set():
                        break
                    self.run_pass({Path(p) for _, p in changes} if changes else None)
            else:
                while not self.stop_event.wait(self.config.poll_seconds):
                    self.run_pass(None)
        finally:
            self.state["status"] = "stopping"
            self.run_pass(None)  # flush: whatever was written before the stop is read now
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
                self.config.health_host, int(self.config.health_port), self.health_status
            ).start()
        if self.config.guard_socket:
            from agentaudit.guard.server import GuardServer, default_socket_path
            from agentaudit.guard.service import Guard

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
        self.run_pass(None)  # decisions answered while stopping are in the log: read them
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

    def run_pass(self, changed: set[Path] | None) -> dict[str, Any]:
        """Ingest what changed (everything on a timed pass), detect, alert, deliver."""
        seen_at = time.monotonic()
        started = now()
        ingested = 0
        for source in self.sources:
            report = self._collect(source, changed)
            self.telemetry.record_ingest(report)
            ingested += report.ingested
            self.state["quarantined"] += report.quarantined
        self.state["events_ingested"] += ingested
        if ingested and self._detect_since is None:
            self._detect_since = started
        due = self._rerun_at is not None and now() >= self._rerun_at
        outcome: dict[str, Any] = {"ingested": ingested, "findings": 0, "delivered": 0}
        if self._detect_since is not None and (ingested or due):
            result = detect_recent(
                self.store,
                self._detect_since,
                window_seconds=self.config.window_seconds,
                settle_seconds=self.config.settle_seconds,
            )
            self._detect_since = None
            self._rerun_at = result.unsettled_until
            if result.unsettled_until is not None:
                self._detect_since = started  # re-check those lines when they have settled
            for finding in result.new_findings:
                self.telemetry.findings.add(
                    1, {"agentaudit.rule": finding["rule_id"], "severity": finding["severity"]}
                )
            outcome["findings"] = len(result.new_findings)
            log.debug(
                "pass: %d ingested, %d in window, %d links, new findings %s, settling until %s",
                ingested,
                result.window_events,
                result.links_added,
                [f["rule_id"] for f in result.new_findings],
                result.unsettled_until,
            )
            self.state["findings"] += len(result.new_findings)
            if result.new_findings:
                build_alerts(self.store)
                outcome["delivered"] = self._deliver(seen_at)
        elif time.monotonic() >= self._retry_at:
            outcome["delivered"] = self._deliver(seen_at)
        self.state["passes"] += 1
        self.state["last_pass_at"] = time.monotonic()
        self.telemetry.pass_duration.record(time.monotonic() - seen_at)
        self.telemetry.set_lag(
            {k: v for source in self.sources for k, v in source.lag(self.store).items()}
        )
        return outcome

    def _collect(self, source: WatchSource, changed: set[Path] | None) -> IngestReport:
        if isinstance(source, FileTailSource):
            # Only files whose size, mtime or inode moved since the last look.
            # (Own files only: a stat taken for another source's file would hide its change.)
            files = source.files() if changed is None else [p for p in changed if source.owns(p)]
            moved = {p for p in files if self._moved(p)}
            if not moved:
                return IngestReport()
            changed = moved
        try:
            return source.collect(self.store, changed, self.redactor)
        except Exception:  # one broken source must not stop the others; retried next pass
            log.exception("source %s failed", source.name)
            for path in changed or ():
                self._stats.pop(path, None)
            return IngestReport()

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
        if not self.config.notify:
            return 0
        pending = self.store.con.execute(
            "SELECT count(*) FROM alerts WHERE notified_at IS NULL"
        ).fetchall()[0][0]
        if not pending:
            return 0
        results = deliver_pending(self.store, self.config.notify)
        ok = sum(1 for r in results if r["ok"])
        for r in results:
            self.telemetry.alerts.add(1, {"outcome": "ok" if r["ok"] else "failed"})
        if ok:
            self.telemetry.alert_latency.record(time.monotonic() - seen_at)
        self.state["alerts_delivered"] += ok
        failed = len(results) - ok
        self._retry_at = time.monotonic() + (RETRY_DELIVERY_SECONDS if failed else 0)
        return ok
