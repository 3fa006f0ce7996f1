"""The watch loop in-process: telemetry through the SDK's in-memory reader, config, sources."""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from agentaudit.detect.driver import run_detection
from agentaudit.enrich.secrets import Redactor
from agentaudit.ingest import IngestReport, ingest_paths
from agentaudit.realtime.watch.config import config_from_dict
from agentaudit.realtime.watch.harness import GIVE_UP_SECONDS, wait_for
from agentaudit.realtime.watch.replay import pocketos_records, replay, write_record
from agentaudit.realtime.watch.service import Watcher
from agentaudit.realtime.watch.sources import (
    FileTailSource,
    WatchSource,
    build_source,
    register_source_type,
)
from agentaudit.realtime.watch.telemetry import Telemetry
from agentaudit.receiver import LocalReceiver
from agentaudit.scenarios import scenario_path
from agentaudit.store import Store
from agentaudit.testing import TEST_KEY
from tests.pocketos_expected import critical_paged, pages_of_one_incident


def metric_points(reader: InMemoryMetricReader) -> dict[str, list]:
    out: dict[str, list] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                out.setdefault(metric.name, []).extend(metric.data.data_points)
    return out


def pages_recorded(reader: InMemoryMetricReader) -> int:
    """How many alert deliveries the latency histogram has recorded so far."""
    latency = metric_points(reader).get("agentaudit.alert.latency", [])
    return sum(point.count for point in latency)


def one_shot_rules(tmp_path, logs) -> Counter:
    """Findings per rule of a one-shot ingest + detect of the files (watch must match it)."""
    with Store.open(tmp_path / "oneshot.duckdb") as store:
        ingest_paths(store, [logs], redactor=Redactor(TEST_KEY))
        run_detection(store)
        return Counter(r["rule_id"] for r in store.rows("SELECT rule_id FROM findings"))


def stored_rules(store: Store) -> Counter:
    """Findings per rule in a running watch's store (its own cursor: another thread)."""
    rows = store.con.cursor().sql("SELECT rule_id FROM findings").fetchall()
    return Counter(rule for (rule,) in rows)


def test_telemetry_counts_sources_findings_latency_and_lag(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    first = (scenario_path("pocketos") / "cursor-hooks.jsonl").read_text().splitlines()[0]
    (logs / "other-hooks.jsonl").write_text(first.replace("8f1d2c3b", "0000aaaa") + "\n{broken\n")
    reader = InMemoryMetricReader()
    with LocalReceiver() as receiver:
        config = config_from_dict(
            {
                "paths": [str(logs)],
                "notify": [receiver.url()],
                "guard": None,
                "poll_seconds": 0.1,
                "settle_seconds": 0.2,
            }
        )
        store = Store.open(tmp_path / "w.duckdb")
        watcher = Watcher(
            config, store=store, telemetry=Telemetry([reader]), redactor=Redactor(TEST_KEY)
        )
        thread = threading.Thread(target=watcher.run)
        thread.start()
        try:
            assert wait_for(lambda: watcher.state["status"] == "ok", timeout=GIVE_UP_SECONDS)
            replay(logs, pocketos_records(), speed=1000, max_gap=0.01)
            reference = one_shot_rules(tmp_path, logs)  # what `detect` finds in these files
            assert wait_for(lambda: len(receiver.received) >= 1, timeout=GIVE_UP_SECONDS)
            # a half-written line is lag: bytes on disk not read yet
            with (logs / "cursor-hooks.jsonl").open("ab") as fh:
                fh.write(b'{"received_at": "2026-04-24T19:30:00Z", "payl')
            assert wait_for(lambda: watcher.state["passes"] > 3, timeout=GIVE_UP_SECONDS)
            # the provider's record (and the findings it completes) may land a pass later
            total = sum(reference.values())
            assert wait_for(lambda: watcher.state["findings"] == total, timeout=GIVE_UP_SECONDS), (
                watcher.state,
                reference,
                stored_rules(store),
            )
            assert wait_for(lambda: critical_paged(receiver), timeout=GIVE_UP_SECONDS)
            # the pass that completes the findings pages after counting them: wait for its
            # page's latency to be recorded, not for a fixed time (the machine may be busy)
            assert wait_for(
                lambda: pages_recorded(reader) == len(receiver.received) > 0,
                timeout=GIVE_UP_SECONDS,
            ), (pages_recorded(reader), len(receiver.received))
            points = metric_points(reader)
        finally:
            watcher.stop()
            thread.join(GIVE_UP_SECONDS)
    assert not thread.is_alive() and watcher.state["status"] == "stopped"
    ingested = {
        p.attributes["agentaudit.source"]: p.value for p in points["agentaudit.events.ingested"]
    }
    with Store.open(tmp_path / "batch.duckdb") as batch:
        ingest_paths(batch, [logs], redactor=Redactor(TEST_KEY))
        rows = batch.rows("SELECT source, count(*) AS n FROM events GROUP BY ALL")
    expected = {r["source"]: r["n"] for r in rows}
    assert ingested == expected and expected["cursor.hooks"] == 20
    quarantined = {
        p.attributes["agentaudit.source"]: p.value
        for p in points.get("agentaudit.events.quarantined", [])
    }
    assert quarantined == {"cursor.hooks": 1} and watcher.state["quarantined"] == 1
    findings = {p.attributes["agentaudit.rule"]: p.value for p in points["agentaudit.findings"]}
    assert findings == reference  # one-shot detection's findings, each counted once
    assert reference["environment-scope"] == 2 and reference["data-and-backups-destroyed"] == 1
    latency = points["agentaudit.alert.latency"]
    pages = len(pages_of_one_incident(receiver))
    assert latency[0].count == pages and 0 < latency[0].sum < 15 * pages
    lag = {p.attributes["agentaudit.file"]: p.value for p in points["agentaudit.watch.file.lag"]}
    assert lag[str(logs / "cursor-hooks.jsonl")] == len(
        b'{"received_at": "2026-04-24T19:30:00Z", "payl'
    )
    assert lag[str(logs / "railway-auditlogs.json")] == 0
    delivered = {p.attributes["outcome"]: p.value for p in points["agentaudit.notifications"]}
    assert delivered == {"ok": pages}


def test_sigterm_equivalent_stop_flushes_what_was_written(tmp_path):
    """Lines written just before the stop are read, detected and paged by the final pass."""
    logs = tmp_path / "logs"
    logs.mkdir()
    with LocalReceiver() as receiver:
        config = config_from_dict(
            {"paths": [str(logs)], "notify": [receiver.url()], "guard": None,
             "poll_seconds": 30, "settle_seconds": 0}
        )  # fmt: skip
        watcher = Watcher(config, store=Store.open(tmp_path / "w.duckdb"), telemetry=Telemetry(),
                          redactor=Redactor(TEST_KEY))  # fmt: skip
        watcher.config.debounce_ms = 5000  # the loop will not wake for these writes by itself
        thread = threading.Thread(target=watcher.run)
        thread.start()
        assert wait_for(lambda: watcher.state["status"] == "ok", timeout=GIVE_UP_SECONDS)
        for record in pocketos_records():
            write_record(logs, record)
        watcher.stop()
        thread.join(GIVE_UP_SECONDS)
    assert len(receiver.received) == 1
    with Store.open(tmp_path / "w.duckdb", read_only=True) as store:
        rules = Counter(r["rule_id"] for r in store.rows("SELECT rule_id FROM findings"))
    assert rules == one_shot_rules(tmp_path, logs) and len(rules) >= 7


def test_a_restart_detects_what_was_ingested_but_not_detected_before_a_kill(tmp_path):
    """A kill can fall between a round's ingest and its detection (or while the Sigma pack's
    pass waits): the lines are past their checkpoints, so the restart must detect them from
    the store. It pages them once, with one-shot detection's findings."""
    logs = tmp_path / "logs"
    logs.mkdir()
    for record in pocketos_records():
        write_record(logs, record)
    with Store.open(tmp_path / "w.duckdb") as store:  # ingested, checkpointed, never detected
        ingest_paths(store, [logs], redactor=Redactor(TEST_KEY), record_run=False)
    reference = one_shot_rules(tmp_path, logs)
    with LocalReceiver() as receiver:
        config = config_from_dict(
            {"paths": [str(logs)], "notify": [receiver.url()], "guard": None,
             "poll_seconds": 0.1, "settle_seconds": 0}
        )  # fmt: skip
        watcher = Watcher(config, store=Store.open(tmp_path / "w.duckdb"), telemetry=Telemetry(),
                          redactor=Redactor(TEST_KEY))  # fmt: skip
        thread = threading.Thread(target=watcher.run)
        thread.start()
        try:
            assert wait_for(lambda: watcher.state["status"] == "ok", timeout=GIVE_UP_SECONDS)
            assert wait_for(lambda: len(receiver.received) >= 1, timeout=GIVE_UP_SECONDS)
            # the resumed window is detected whole (not merely a second older)
            total = sum(reference.values())
            assert wait_for(lambda: watcher.state["findings"] == total, timeout=GIVE_UP_SECONDS)
            assert wait_for(lambda: critical_paged(receiver), timeout=GIVE_UP_SECONDS)
        finally:
            watcher.stop()
            thread.join(GIVE_UP_SECONDS)
        assert watcher.state["events_ingested"] == 0  # nothing was read again
        assert len(pages_of_one_incident(receiver)) == len(receiver.received) >= 1
    with Store.open(tmp_path / "w.duckdb", read_only=True) as store:
        rules = Counter(r["rule_id"] for r in store.rows("SELECT rule_id FROM findings"))
    assert rules == reference and len(rules) >= 7


def test_config_validation_and_sources(tmp_path):
    with pytest.raises(ValueError, match="unknown watch settings: pathz"):
        config_from_dict({"pathz": []})
    with pytest.raises(ValueError, match="unknown watch source type 'kafka'"):
        build_source({"type": "kafka"})
    config = config_from_dict({"paths": ["~/h"], "notify": "json://x", "guard": {"enabled": False}})
    assert config.sources[0]["type"] == "files" and config.notify == ["json://x"]
    assert config.guard_socket is None
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.jsonl").write_text("{}\n")
    (tmp_path / "a" / "two.log").write_text("x\n")
    source = FileTailSource([str(tmp_path / "a" / "*.jsonl")])
    assert source.files() == [tmp_path / "a" / "one.jsonl"]
    assert source.watch_dirs() == [tmp_path / "a"]


class CountingPull(WatchSource):
    """A pull source (the interface provider pulls implement): counts its pulls."""

    name = "counting-pull"
    interval_seconds = 0.3

    def __init__(self) -> None:
        self.pulls: list[float] = []

    def collect(self, store, changed, redactor) -> IngestReport:
        self.pulls.append(time.monotonic())
        return IngestReport()


def test_hook_log_is_tailed_and_pull_sources_keep_their_interval(tmp_path):
    from agentaudit import paths

    pull = CountingPull()
    register_source_type("counting-pull")(lambda spec: pull)
    config = config_from_dict(
        {"sources": [{"type": "counting-pull"}], "guard": None, "poll_seconds": 0.05}
    )
    watcher = Watcher(config, store=Store.open(tmp_path / "w.duckdb"), telemetry=Telemetry(),
                      redactor=Redactor(TEST_KEY))  # fmt: skip
    thread = threading.Thread(target=watcher.run)
    thread.start()
    try:
        assert wait_for(lambda: watcher.state["status"] == "ok", timeout=GIVE_UP_SECONDS)
        # what `agentaudit hook cursor` appends (issue 3) is read like any tailed file
        first = (scenario_path("pocketos") / "cursor-hooks.jsonl").read_text().splitlines()[0]
        with (paths.hook_log_dir() / "cursor.jsonl").open("a") as fh:
            fh.write(first + "\n")
        assert wait_for(lambda: watcher.state["events_ingested"] == 1, timeout=GIVE_UP_SECONDS)
        assert wait_for(lambda: len(pull.pulls) >= 3, timeout=GIVE_UP_SECONDS), pull.pulls
    finally:
        watcher.stop()
        thread.join(GIVE_UP_SECONDS)
    gaps = [b - a for a, b in zip(pull.pulls, pull.pulls[1:], strict=False)]
    assert len(pull.pulls) >= 3 and min(gaps) >= 0.3


def test_otlp_logs_posted_to_watch_are_stored(tmp_path):
    """A real OTLP/HTTP log exporter posts Claude Code events to the receiver inside watch."""
    from agentaudit.realtime.watch.harness import free_port
    from tests.otlp_clients import emit_claude_code_events, exporter

    port = free_port()
    config = config_from_dict(
        {
            "sources": [{"type": "otlp", "port": port, "spool": str(tmp_path / "spool")}],
            "guard": None,
            "hook_log": False,
            "guard_log": False,
        }
    )
    watcher = Watcher(config, store=Store.open(tmp_path / "w.duckdb"), telemetry=Telemetry(),
                      redactor=Redactor(TEST_KEY))  # fmt: skip
    thread = threading.Thread(target=watcher.run)
    thread.start()
    try:
        assert wait_for(lambda: watcher.state["status"] == "ok", timeout=GIVE_UP_SECONDS)
        emit_claude_code_events(exporter("json", f"http://127.0.0.1:{port}/v1/logs", False))
        assert wait_for(lambda: watcher.state["events_ingested"] >= 3, timeout=GIVE_UP_SECONDS)
    finally:
        watcher.stop()
        thread.join(GIVE_UP_SECONDS)
    with Store.open(tmp_path / "w.duckdb", read_only=True) as store:
        rows = store.rows("SELECT DISTINCT source, session_id FROM events")
    assert rows == [
        {"source": "claude-code.otel", "session_id": "5f1b2c3d-0000-4000-8000-00000000abcd"}
    ]


def otlp_metrics(received: list[tuple[dict, bytes]]) -> dict[str, list]:
    """Data points per metric name from the OTLP/HTTP protobuf requests a receiver got."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    points: dict[str, list] = {}
    for request, body in received:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        if headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        decoded = ExportMetricsServiceRequest.FromString(body)
        for resource in decoded.resource_metrics:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            assert service["service.name"] == "agentaudit"
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    kind = metric.WhichOneof("data")
                    points.setdefault(metric.name, []).extend(getattr(metric, kind).data_points)
    return points


def test_otlp_metric_export_reaches_a_receiver(tmp_path):
    """The real OTLP/HTTP exporter (`telemetry.otlp_endpoint`) posts protobuf to a receiver on
    127.0.0.1; decoded with opentelemetry-proto, the metrics say what watch did."""
    logs = tmp_path / "logs"
    logs.mkdir()
    with LocalReceiver() as collector, LocalReceiver() as pager:
        config = config_from_dict(
            {
                "paths": [str(logs)],
                "notify": [pager.url()],
                "guard": None,
                "poll_seconds": 0.1,
                "settle_seconds": 0.2,
                "telemetry": {
                    "otlp_endpoint": collector.url("http", "/v1/metrics"),
                    "interval_seconds": 60,  # the export that counts is the one at shutdown
                },
            }
        )
        store = Store.open(tmp_path / "w.duckdb")
        watcher = Watcher(config, store=store, redactor=Redactor(TEST_KEY))
        thread = threading.Thread(target=watcher.run)
        thread.start()
        try:
            assert wait_for(lambda: watcher.state["status"] == "ok", timeout=GIVE_UP_SECONDS)
            replay(logs, pocketos_records(), speed=1000, max_gap=0.01)
            reference = one_shot_rules(tmp_path, logs)
            assert wait_for(lambda: len(pager.received) >= 1, timeout=GIVE_UP_SECONDS)
            total = sum(reference.values())
            assert wait_for(lambda: watcher.state["findings"] == total, timeout=GIVE_UP_SECONDS), (
                watcher.state,
                reference,
                stored_rules(store),
            )
            assert wait_for(lambda: critical_paged(pager), timeout=GIVE_UP_SECONDS), pager.received
        finally:
            watcher.stop()
            thread.join(GIVE_UP_SECONDS)
        assert not thread.is_alive()
        requests = [
            (r, raw)
            for r, raw in zip(collector.received, collector.raw, strict=True)
            if r["path"] == "/v1/metrics"
        ]
    headers = {k.lower(): v for k, v in requests[0][0]["headers"].items()} if requests else {}
    assert headers.get("content-type") == "application/x-protobuf", headers
    points = otlp_metrics(requests)
    with Store.open(tmp_path / "batch.duckdb") as batch:
        ingest_paths(batch, [logs], redactor=Redactor(TEST_KEY))
        rows = batch.rows("SELECT source, count(*) AS n FROM events GROUP BY ALL")
    ingested = {}
    for p in points["agentaudit.events.ingested"]:
        attrs = {a.key: a.value.string_value for a in p.attributes}
        ingested[attrs["agentaudit.source"]] = p.as_int
    assert ingested == {r["source"]: r["n"] for r in rows}
    findings = {}
    for p in points["agentaudit.findings"]:
        attrs = {a.key: a.value.string_value for a in p.attributes}
        findings[attrs["agentaudit.rule"]] = findings.get(attrs["agentaudit.rule"], 0) + p.as_int
    assert findings == reference
    notifications = {
        p.attributes[0].value.string_value: p.as_int for p in points["agentaudit.notifications"]
    }
    pages = len(pages_of_one_incident(pager))
    assert notifications == {"ok": pages}
    latency = points["agentaudit.alert.latency"]
    assert len(latency) == 1 and latency[0].count == pages and 0 < latency[0].sum < 15 * pages
    assert "agentaudit.watch.pass.duration" in points and "agentaudit.watch.file.lag" in points


def test_a_damaged_file_is_named_on_healthz_until_it_reads_whole(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    trail = gzip.compress(
        b'{"Records": ['
        + b",".join(
            b'{"eventVersion": "1.08", "eventID": "e%d", "eventTime": "2026-04-24T19:00:00Z", '
            b'"eventSource": "ec2.amazonaws.com", "eventName": "DeleteVolume"}' % i
            for i in range(2000)
        )
        + b"]}"
    )
    (logs / "trail.json.gz").write_bytes(trail[: len(trail) // 2])  # cut: damaged
    (logs / ".zsh_history").write_bytes(b": 1714000000:0;ls\n")
    config = config_from_dict({"paths": [str(logs)], "guard": None, "settle_seconds": 0})
    watcher = Watcher(config, store=Store.open(tmp_path / "w.duckdb"), telemetry=Telemetry(),
                      redactor=Redactor(TEST_KEY))  # fmt: skip
    try:
        watcher.state["status"] = "ok"
        for _ in range(3):
            watcher.run_pass(None)
        _code, body = watcher.health_status()
        failing = dict(body["failing_files"])
        (logs / "trail.json.gz").write_bytes(trail)  # the whole file arrives
        watcher.run_pass(None)
        _code, after = watcher.health_status()
    finally:
        watcher.store.close()
    assert body["events_ingested"] > 1  # the damaged file's records before the cut, and zsh
    assert set(failing) == {str(logs / "trail.json.gz")}
    assert "truncated gzip" in failing[str(logs / "trail.json.gz")]
    assert after["failing_files"] == {} and after["events_ingested"] > body["events_ingested"]
