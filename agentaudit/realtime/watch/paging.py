"""When `watch` detects, and how a finding becomes a page.

Detection itself is the one driver's (`agentaudit.detect.driver.run_detection`): watch hands
it a `Window` (the batch since the last run and its recent context) and a callback that
pages urgent findings before the Sigma pack runs. Here: what is pending, the pace of
detection for plain events, the health counters, the alert engine and the outbox.

Order, so that /healthz never lags a page: the findings a run recorded are counted before
they are evaluated and delivered; a delivery is counted once the receiver accepted it.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from agentaudit.alert.config import AlertingConfig
from agentaudit.alert.delivery.outbox import deliver_due
from agentaudit.alert.engine import evaluate
from agentaudit.detect.base import Detector
from agentaudit.detect.driver import DetectorFailure, DetectReport, run_detection
from agentaudit.detect.window import Window
from agentaudit.realtime.watch.config import WatchConfig
from agentaudit.realtime.watch.telemetry import Telemetry
from agentaudit.store import Store, now

log = logging.getLogger("agentaudit.watch")
ALERT_TICK_SECONDS = 1.0
DELIVERY_BUDGET_SECONDS = 5.0
PLAIN_DETECT_SECONDS = 2.0  # detection for plain events at most this often
RESUME_SECONDS = 30.0  # at start, detect again what was ingested this long before the stop
RESUME_EVENTS = 10_000  # and at most this many events
# What detects at once: a destructive call, a high or critical one, a provider's record.
PAGE_TRIGGER = "(destructive OR severity IN ('high', 'critical') OR kind = 'api')"


class Pager:
    """Detection and paging state of one watch loop (the loop's thread only)."""

    def __init__(
        self,
        store: Store,
        config: WatchConfig,
        detectors: list[Detector],
        alerting: AlertingConfig | None,
        telemetry: Telemetry,
        state: dict[str, Any],
    ) -> None:
        self.store = store
        self.config = config
        # detectors of a silence, not of events (source-silent): run on a clock, not per batch
        self.clock_detectors = [d for d in detectors if getattr(d, "on_clock", False)]
        self.detectors = [d for d in detectors if d not in self.clock_detectors]
        self._clock_due = 0.0
        self.alerting = alerting
        self.telemetry = telemetry
        self.state = state  # the health counters, read by /healthz
        self.state.setdefault("detector_failures", [])
        self.detect_since: datetime | None = None
        self.held_since: datetime | None = None  # sessionless lines still settling
        self.rerun_at: datetime | None = None
        self.detecting = 0.0  # seconds spent detecting and paging, in all
        self._plain_due = 0.0
        self._alert_tick = 0.0
        self._failing: dict[str, DetectorFailure] = {}

    # -- what is pending -------------------------------------------------------------------

    def resume(self) -> None:
        """Detect again what was ingested just before a stop: a kill between a round's ingest
        and its detection must not leave events undetected. Detection is idempotent (finding
        ids), so what was detected adds nothing."""
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
        self.detect_since = since

    def ingested(self, started: datetime) -> bool:
        """Note a read that stored events since `started`; True when one of them should page
        now (an event of an agent session that can page: sessionless lines wait to settle;
        other notable events, such as a secret read, are context detected at the plain
        pace: they page only with the destructive call that follows them)."""
        if self.detect_since is None:
            self.detect_since = started
        rows = self.store.con.execute(
            f"SELECT count(*) FROM events WHERE ingested_at >= ? AND session_id IS NOT NULL "
            f"AND {PAGE_TRIGGER}",
            [started],
        ).fetchall()
        return bool(rows[0][0])

    def pending(self) -> bool:
        """Something was ingested, or held back to settle, since the last detection."""
        return self.detect_since is not None or self.held_since is not None

    def due(self, final: bool, reading_done: bool) -> bool:
        """Detect now: lines settled, plain events waited their turn, or the last pass."""
        if not self.pending():
            return False
        settled = self.rerun_at is not None and now() >= self.rerun_at
        # Plain events (no session's notable event among them) are detected at a steadier
        # pace: their findings can wait a moment, a page cannot.
        plain = reading_done and time.monotonic() >= self._plain_due
        return settled or plain or final

    def plain_due(self) -> bool:
        return self.pending() and time.monotonic() >= self._plain_due

    # -- detect and page -------------------------------------------------------------------

    def detect_and_page(self, seen_at: float, ingested: int) -> tuple[int, int]:
        """One detection run over the batch and its window; returns (new findings, pages)."""
        started = time.monotonic()
        try:
            return self._detect_and_page(seen_at, ingested, started)
        finally:
            self.detecting += time.monotonic() - started

    def _detect_and_page(self, seen_at: float, ingested: int, started: float):
        delivered = 0
        counted: set[str] = set()

        def page_now(findings: list[dict[str, Any]]) -> None:
            # the built-in detectors found a high or critical incident: page it before the
            # Sigma pack runs (its findings join the same alert right after)
            nonlocal delivered
            self._count(findings, counted)
            delivered += self._evaluate_and_deliver(findings, seen_at)
            log.debug("paged %d findings %.3f s into detection", len(findings),
                      time.monotonic() - started)  # fmt: skip

        window = Window(
            self.detect_since,
            held_since=self.held_since,
            seconds=self.config.window_seconds,
            settle_seconds=self.config.settle_seconds,
            context=self.config.context,
        )
        report = run_detection(self.store, self.detectors, window=window, on_urgent=page_now)
        self.detect_since = None
        self._plain_due = time.monotonic() + PLAIN_DETECT_SECONDS
        self.rerun_at = report.unsettled_until
        self.held_since = report.unsettled_since  # re-check those lines when they have settled
        self._note_failures(report)
        rest = [f for f in report.new if f["finding_id"] not in counted]
        self._count(rest, counted)
        if rest:  # group_wait 0 pages now; longer waits tick
            delivered += self._evaluate_and_deliver(rest, seen_at)
            self._alert_tick = time.monotonic() + ALERT_TICK_SECONDS
        self._log_run(report, ingested, started)
        return len(report.new), delivered

    def check_sources(self, seen_at: float) -> int:
        """Every `source_check_seconds`: the clock detectors through the one driver, over an
        empty window (they read the stored table); their new findings page like any other."""
        if not self.clock_detectors or time.monotonic() < self._clock_due:
            return 0
        self._clock_due = time.monotonic() + self.config.source_check_seconds
        report = run_detection(
            self.store, self.clock_detectors, window=Window(now(), seconds=0, settle_seconds=0)
        )
        self._note_failures(report)
        counted: set[str] = set()
        self._count(report.new, counted)
        return self._evaluate_and_deliver(report.new, seen_at)

    def _count(self, findings: list[dict[str, Any]], counted: set[str]) -> None:
        for finding in findings:
            if finding["finding_id"] in counted:
                continue
            counted.add(finding["finding_id"])
            self.state["findings"] += 1
            self.telemetry.findings.add(
                1, {"agentaudit.rule": finding["rule_id"], "severity": finding["severity"]}
            )

    def _evaluate_and_deliver(self, findings: list[dict[str, Any]], seen_at: float) -> int:
        if self.alerting is None or not findings:
            return 0
        evaluate(self.store, self.alerting, scope=[f["finding_id"] for f in findings])
        return self.deliver(seen_at)

    def _note_failures(self, report: DetectReport) -> None:
        """Detectors that failed are logged once (and again when the reason changes) and
        listed in /healthz until they run cleanly again."""
        failed = {f.detector: f for f in report.failures}
        for detector_id, failure in failed.items():
            if self._failing.get(detector_id) != failure:
                log.warning("detector %s: %s: %s", detector_id, failure.kind, failure.reason)
        for detector_id in [d for d in self._failing if d in report.ran and d not in failed]:
            log.warning("detector %s runs again", detector_id)
            del self._failing[detector_id]
        self._failing.update(failed)
        self.state["detector_failures"] = [
            {"detector": f.detector, "kind": f.kind, "reason": f.reason}
            for f in self._failing.values()
        ]

    def _log_run(self, report: DetectReport, ingested: int, started: float) -> None:
        log.debug(
            "round: %d ingested, detect+page %.3f s (%s): %s in window, %d detectors, "
            "%d links, new findings %s, %d updated, settling until %s",
            ingested,
            time.monotonic() - started,
            " ".join(f"{k} {v * 1000:.0f}ms" for k, v in report.timings.items()),
            report.events_in_scope,
            report.detectors_run,
            report.links_added,
            [f["rule_id"] for f in report.new],
            len(report.updated),
            report.unsettled_until,
        )

    # -- alerts ----------------------------------------------------------------------------

    def evaluate_unalerted(self) -> None:
        """Findings a killed run recorded but never put into an alert (once, at start)."""
        if self.alerting is not None:
            evaluate(self.store, self.alerting)

    def deliver(self, seen_at: float) -> int:
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

    def tick_alerts(self, seen_at: float) -> int:
        """Alert timers (group_wait, group_interval, resolve) and outbox retries, each second."""
        if self.alerting is None or time.monotonic() < self._alert_tick:
            return 0
        self._alert_tick = time.monotonic() + ALERT_TICK_SECONDS
        evaluate(self.store, self.alerting, scope=[])  # timers only: findings joined already
        return self.deliver(seen_at)
