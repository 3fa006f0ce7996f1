"""The main job, end to end: ingest -> detect -> alert -> deliver -> export."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentaudit.alert.clock import Clock
from agentaudit.alert.config import AlertingConfig, from_urls, load_config
from agentaudit.alert.delivery.outbox import deliver_due
from agentaudit.alert.engine import EvalReport, evaluate
from agentaudit.detect.driver import DetectReport, run_detection
from agentaudit.enrich.secrets import Redactor
from agentaudit.export.ocsf import export_ocsf
from agentaudit.ingest import FileReport, IngestReport, ingest_paths
from agentaudit.store import Store

DELIVERY_BUDGET = 15.0  # seconds of delivery per detection run; the rest waits in the outbox


@dataclass
class PipelineResult:
    ingest: IngestReport
    detect: DetectReport
    alerts: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    exported: int = 0
    export_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class AlertRun:
    detect: DetectReport
    evaluation: EvalReport
    deliveries: list[dict[str, Any]]


def detect_alert_deliver(
    store: Store,
    notify_urls: list[str],
    *,
    config: AlertingConfig | None = None,
    clock: Clock | None = None,
    deliver: bool = True,
) -> AlertRun:
    """Detect, then evaluate alert groups (into the outbox), then try what is due.

    Findings and outbox rows are committed before any network call, so a slow or dead
    receiver never holds detection back; what fails stays in the outbox for the next run.
    The alerting config is loaded first: a broken one is a ConfigError before anything runs.
    `evaluation.unsent` holds firing alerts that reached a receiver without targets.
    """
    if config is None:
        config = from_urls(notify_urls) if notify_urls else (load_config() or from_urls([]))
    detect = run_detection(store)
    evaluation = evaluate(store, config, clock)
    deliveries = (
        deliver_due(store, config, clock, budget_seconds=DELIVERY_BUDGET) if deliver else []
    )
    return AlertRun(detect, evaluation, deliveries)


def detect_and_alert(
    store: Store,
    notify_urls: list[str],
    *,
    config: AlertingConfig | None = None,
    clock: Clock | None = None,
    deliver: bool = True,
) -> tuple[DetectReport, list[dict[str, Any]], list[dict[str, Any]]]:
    """`detect_alert_deliver` as (detection report, incidents changed, delivery attempts)."""
    run = detect_alert_deliver(store, notify_urls, config=config, clock=clock, deliver=deliver)
    return run.detect, run.evaluation.changed, run.deliveries


def run_pipeline(
    store: Store,
    paths: Iterable[str | Path],
    *,
    notify_urls: list[str],
    export_path: Path | None = None,
    redactor: Redactor | None = None,
    on_file: Callable[[FileReport], None] | None = None,
) -> PipelineResult:
    ingest = ingest_paths(store, paths, redactor=redactor, on_file=on_file)
    detect, alerts, deliveries = detect_and_alert(store, notify_urls)
    result = PipelineResult(ingest, detect, alerts, deliveries, export_path=export_path)
    if export_path:
        with export_path.open("w", encoding="utf-8") as out:
            result.exported = export_ocsf(store, out)
    return result
