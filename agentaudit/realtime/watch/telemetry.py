"""Self-telemetry through the OpenTelemetry SDK: what `watch` did, per source and per file.

Providers are injected, never set globally (a global provider can be set once per process
and would leak between tests). Tests pass an `InMemoryMetricReader`; `watch` builds its
readers from the config: console on request, OTLP/HTTP when an endpoint is configured (the
`opentelemetry-exporter-otlp-proto-http` package, extra `otlp`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from agentaudit.realtime.watch.config import TelemetryConfig

try:
    from importlib.metadata import version

    _VERSION = version("agentaudit")
except Exception:  # running from a checkout without metadata
    _VERSION = "0"


def readers_from_config(config: TelemetryConfig) -> list[MetricReader]:
    millis = config.interval_seconds * 1000
    readers: list[MetricReader] = []
    if config.console:
        readers.append(
            PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=millis)
        )
    if config.otlp_endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        except ImportError as exc:
            raise RuntimeError(
                "telemetry.otlp_endpoint needs `pip install 'agentaudit[otlp]'`"
            ) from exc
        readers.append(
            PeriodicExportingMetricReader(
                OTLPMetricExporter(endpoint=config.otlp_endpoint), export_interval_millis=millis
            )
        )
    return readers


class Telemetry:
    """The instruments `watch` records; one MeterProvider, injected readers."""

    def __init__(self, readers: Iterable[MetricReader] = ()) -> None:
        self.provider = MeterProvider(
            resource=Resource.create({"service.name": "agentaudit", "service.version": _VERSION}),
            metric_readers=list(readers),
        )
        meter = self.provider.get_meter("agentaudit.watch")
        self.ingested = meter.create_counter(
            "agentaudit.events.ingested", unit="{event}", description="events stored, per source"
        )
        self.quarantined = meter.create_counter(
            "agentaudit.events.quarantined",
            unit="{record}",
            description="records quarantined, per source",
        )
        self.findings = meter.create_counter(
            "agentaudit.findings", unit="{finding}", description="new findings, per rule"
        )
        self.alerts = meter.create_counter(
            "agentaudit.notifications", unit="{notification}", description="alert deliveries"
        )
        self.alert_latency = meter.create_histogram(
            "agentaudit.alert.latency",
            unit="s",
            description="from the change being seen on disk to the alert delivered",
        )
        self.pass_duration = meter.create_histogram(
            "agentaudit.watch.pass.duration", unit="s", description="one ingest+detect pass"
        )
        self._lag: dict[str, int] = {}
        self._lock = threading.Lock()
        meter.create_observable_gauge(
            "agentaudit.watch.file.lag",
            callbacks=[self._observe_lag],
            unit="By",
            description="bytes written to a tailed file and not yet read",
        )

    def set_lag(self, lag: dict[str, int]) -> None:
        with self._lock:
            self._lag = dict(lag)

    def _observe_lag(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            items = list(self._lag.items())
        return [Observation(value, {"agentaudit.file": path}) for path, value in items]

    def record_ingest(self, report: Any) -> None:
        for file in report.files:
            attrs = {"agentaudit.source": file.source or "unknown"}
            if file.ingested:
                self.ingested.add(file.ingested, attrs)
            if file.quarantined:
                self.quarantined.add(file.quarantined, attrs)

    def shutdown(self) -> None:
        self.provider.shutdown()
