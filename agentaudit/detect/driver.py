"""The one detection driver: link, run every detector isolated, record through one policy.

`detect`, `watch`, the demo, the scenario replays, `rules run` and the notebooks all call
`run_detection`. One run:
1. links what the events in scope imply (`detect/link.py`);
2. (a `Window`) holds back sessionless lines still settling (`detect/window.py`);
3. skips the detectors whose anchor event is not in scope (`Detector.anchor`);
4. runs each detector on its own: one that raises, or refuses to run (a model trained by
   another scikit-learn), is reported in the result with its id and reason, and the others'
   findings are stored as usual;
5. records findings through the finding policy (`detect/record.py`: identity, merge,
   supersede).
With `on_urgent` (what `watch` passes), the detectors marked `runs_after_page` (the Sigma
pack) run after the others' new high or critical findings are recorded and handed to it, so
a page does not wait for them; their findings are recorded right after.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentaudit.detect import anomaly, behaviours, sql
from agentaudit.detect.base import Detector, DetectorRefused, scrubbed
from agentaudit.detect.record import Recorded, record_findings, supersede_relinked
from agentaudit.detect.sigma.detector import SigmaRules
from agentaudit.detect.window import Scope, Window, scope_for
from agentaudit.schema import FindingRow
from agentaudit.store import Store, now
from agentaudit.taxonomy import severity_rank

log = logging.getLogger("agentaudit.detect")

DETECTOR_PACKAGES = (sql, behaviours, anomaly)
SIGMA_OPT_OUT_ENV = "AGENTAUDIT_SIGMA"  # "0" leaves the Sigma pack out (e.g. to compare runs)
URGENT = ("high", "critical")

OnUrgent = Callable[[list[FindingRow]], None]


def builtin_detectors() -> list[Detector]:
    """One instance of every detector class in `agentaudit.detect.sql`, `.behaviours` and
    `.anomaly`, plus the Sigma rule pack (`SigmaRules`) unless AGENTAUDIT_SIGMA=0."""
    found: list[Detector] = []
    if os.environ.get(SIGMA_OPT_OUT_ENV) != "0":
        found.append(SigmaRules())
    for package in DETECTOR_PACKAGES:
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith(("test_", "_")):
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(cls, Detector)
                    and cls.__module__ == module.__name__
                    and not inspect.isabstract(cls)
                ):
                    found.append(cls())
    return sorted(found, key=lambda d: d.info.id)


@dataclass(frozen=True)
class DetectorFailure:
    detector: str
    kind: str  # refused (will not run as it is), error (raised), rules (some of its rules broke)
    reason: str

    def __str__(self) -> str:
        return f"{self.detector}: {self.reason}"


@dataclass
class DetectReport:
    links_added: int = 0
    findings: list[FindingRow] = field(default_factory=list)  # what this run found
    new: list[FindingRow] = field(default_factory=list)  # of those, not stored before
    updated: list[str] = field(default_factory=list)  # stored findings given more evidence
    superseded: list[str] = field(default_factory=list)  # resolved: a late link re-homed them
    failures: list[DetectorFailure] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)  # ids of the detectors run (anchors present)
    events_in_scope: int | None = None  # a window's size (None: the whole store)
    unsettled_until: datetime | None = None  # run again then: lines are still settling
    unsettled_since: datetime | None = None  # the next window's `held_since`
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase

    @property
    def detectors_run(self) -> int:
        return len(self.ran)

    @property
    def findings_new(self) -> int:
        return len(self.new)

    @property
    def refused(self) -> list[str]:
        return [str(f) for f in self.failures if f.kind == "refused"]

    def add(self, recorded: Recorded) -> None:
        self.new += recorded.new
        self.updated += recorded.updated

    def as_dict(self) -> dict[str, Any]:
        return {
            "links_added": self.links_added,
            "findings_new": self.findings_new,
            "findings_updated": len(self.updated),
            "findings_superseded": len(self.superseded),
            "findings": [  # worst first, then in a stable order (detectors run concurrently)
                {k: f[k] for k in ("finding_id", "rule_id", "severity", "title", "session_id")}
                for f in sorted(
                    self.findings,
                    key=lambda f: (-severity_rank(f["severity"]), f["rule_id"], f["finding_id"]),
                )
            ],
            "detector_failures": [
                {"detector": f.detector, "kind": f.kind, "reason": f.reason} for f in self.failures
            ],
            "refused": self.refused,
        }


class _Laps:
    """Seconds per phase of a run, summed when a phase comes back."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into
        self.clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        at = time.perf_counter()
        self.into[name] = self.into.get(name, 0.0) + at - self.clock
        self.clock = at


def run_detection(
    store: Store,
    detectors: list[Detector] | None = None,
    *,
    window: Window | None = None,
    on_urgent: OnUrgent | None = None,
) -> DetectReport:
    """Link, detect and record over the whole store, or over `window` (see module doc)."""
    detectors = builtin_detectors() if detectors is None else detectors
    report = DetectReport()
    lap = _Laps(report.timings)
    started = now()
    scope = scope_for(store, window)
    try:
        scope.open()
        lap("window")
        report.links_added = scope.link()
        scope.hold_unsettled()
        lap("link")
        scope.narrow_sessions()
        first = [d for d in detectors if not (on_urgent and d.runs_after_page)]
        runnable = scope.anchored(first)
        lap("prepare")
        found = _run_each(store, runnable, report)
        lap("detectors")
        later = [d for d in detectors if d not in first]
        if later and any(f["severity"] in URGENT for f in found):
            _record_and_page(store, scope, found, report, on_urgent)
            found = []
            lap("page")
        if later:
            later = scope.anchored(later)  # (after the page: the Sigma pack's anchor is costly)
            runnable += later
            found += _run_each(store, later, report)
            lap("detectors")
        report.findings += _unique(found)
        report.add(record_findings(store, found, scope.in_scope))
    finally:
        scope.close()
    if report.links_added:
        report.superseded = supersede_relinked(store, started)
    lap("store")
    report.ran = [d.info.id for d in runnable]
    report.events_in_scope = scope.size
    report.unsettled_until, report.unsettled_since = scope.settling.until, scope.settling.since
    return report


def _record_and_page(
    store: Store,
    scope: Scope,
    found: list[FindingRow],
    report: DetectReport,
    on_urgent: OnUrgent | None,
) -> None:
    """Record what was found so far; hand the new urgent findings over (with the store's
    own tables in view: a page reads the store, not the window)."""
    recorded = record_findings(store, found, scope.in_scope)
    report.findings += _unique(found)
    report.add(recorded)
    if on_urgent is not None and any(f["severity"] in URGENT for f in recorded.new):
        scope.unshadow()
        try:
            on_urgent(recorded.new)
        finally:
            scope.reshadow()


def _run_each(store: Store, detectors: list[Detector], report: DetectReport) -> list[FindingRow]:
    """Every detector on its own: a failure is reported, the others' findings stand."""
    found: list[FindingRow] = []
    for detector in detectors:
        detector_id = detector.info.id
        try:
            found += [_say_if_untimed(f) for f in scrubbed(detector.run(store))]  # 2nd gate
        except DetectorRefused as exc:  # a stale model is reported, never silently used
            report.failures.append(DetectorFailure(detector_id, "refused", str(exc)))
        except Exception as exc:  # one broken detector must not silence the others
            log.debug("detector %s failed", detector_id, exc_info=True)
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            report.failures.append(DetectorFailure(detector_id, "error", reason))
        report.failures += [DetectorFailure(detector_id, "rules", p) for p in detector.problems()]
    return found


UNTIMED = "no time in the source: the events are ordered by their position (seq)"


def _say_if_untimed(finding: FindingRow) -> FindingRow:
    """A finding on untimed events (bash history without HISTTIMEFORMAT, a Cursor
    transcript) has a NULL time range, and its evidence says why."""
    if finding["first_seen"] is not None:
        if finding["last_seen"] is None:  # timed from an untimed step on: its start is known
            timed = finding.copy()
            timed["last_seen"] = finding["first_seen"]
            return timed
        return finding
    evidence = json.loads(finding["evidence"])
    if "untimed" in evidence:
        return finding
    evidence["untimed"] = UNTIMED
    untimed = finding.copy()
    untimed["last_seen"] = None
    untimed["evidence"] = json.dumps(evidence, default=str, sort_keys=True)
    return untimed


def _unique(findings: list[FindingRow]) -> list[FindingRow]:
    """One finding per id (the last a detector stated), in the order first found."""
    by_id: dict[str, FindingRow] = {}
    for finding in findings:
        by_id[finding["finding_id"]] = finding
    return list(by_id.values())
