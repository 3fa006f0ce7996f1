"""Dispatch of OTLP records to the collectors that declare them (`collectors/otlp.py`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from agentaudit.collectors import all_collectors
from agentaudit.collectors.agents._shared import json_records
from agentaudit.collectors.base import Collector, OtlpInterest, Output, SourceInput
from agentaudit.collectors.otlp import SIGNALS, claimant, declared, dispatch, split_records
from agentaudit.schema import Quarantined, new_event

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "agents"


def attrs(**values: object) -> list[dict]:
    return [
        {"key": k.replace("__", "."), "value": {"stringValue": str(v)}} for k, v in values.items()
    ]


def logs_request(*records: dict, service: str = "codex_exec", scope: str = "codex_otel") -> dict:
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": attrs(service__name=service)},
                "scopeLogs": [{"scope": {"name": scope}, "logRecords": list(records)}],
            }
        ]
    }


class EchoCollector(Collector):
    """A collector written after `serve`: it plugs in by declaring what it reads."""

    name = "test.codex-otel"
    source = "test.codex-otel"
    otlp = OtlpInterest(signals=("logs",), names=("codex.",))

    def sniff(self, path: Path, head: bytes) -> bool:
        return False

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, request, text = item
            record = request["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
            name = {a["key"]: a["value"] for a in record["attributes"]}["event.name"]
            if name["stringValue"] == "codex.sse_event":
                yield Quarantined("stream events are not kept", line.data, line.number)
                continue
            if name["stringValue"] == "codex.boom":
                raise ValueError("a collector bug")
            if name["stringValue"] == "codex.silent":
                continue
            if name["stringValue"] == "codex.odd_types":
                yield new_event(self.source, text, session_id=7, exit_code=2**40)
                continue
            yield new_event(self.source, text, seq=line.number, source_path=src.path)


def without_codex() -> dict[str, Collector]:
    """The registry without the real Codex OTel collector, which declares `codex.` too."""
    return {name: c for name, c in all_collectors().items() if name != "codex.otel"}


def test_a_new_collector_plugs_in_by_declaration_and_each_outcome_is_accounted_for():
    registry = {**without_codex(), EchoCollector.name: EchoCollector()}
    request = logs_request(
        {"attributes": attrs(event__name="codex.tool_decision")},
        {"attributes": attrs(event__name="codex.sse_event")},
        {"attributes": attrs(event__name="codex.boom")},
        {"attributes": attrs(event__name="codex.silent")},
        {"body": {"stringValue": "GET /index.html 200"}},
    )
    outcomes = dispatch("logs", request, "otlp:logs/r1", registry)
    assert [o.index for o in outcomes] == [0, 1, 2, 3, 4]
    stored, streamed, boom, silent, unknown = outcomes
    assert stored.collector.name == "test.codex-otel" and not stored.rejected
    assert stored.events[0]["seq"] == 1 and stored.events[0]["source_path"] == "otlp:logs/r1"
    assert streamed.rejected and streamed.reason == "stream events are not kept"
    assert streamed.quarantined[0].line == 2  # the record's number in the request
    assert boom.rejected and "ValueError: a collector bug" in boom.reason
    assert silent.rejected and "found nothing to store" in silent.reason
    assert unknown.collector is None
    assert unknown.reason == (
        "no collector reads log records of service.name=codex_exec, "
        "body='GET /index.html 200', scope=codex_otel"
    )
    # without the new collector, every codex record is rejected, none silently dropped
    without = dispatch("logs", request, "otlp:logs/r1", without_codex())
    assert all(o.rejected and o.collector is None for o in without)


def test_the_most_specific_declaration_wins():
    a = type("A", (EchoCollector,), {"name": "a", "otlp": OtlpInterest(services=("claude-code",))})
    b = type("B", (EchoCollector,), {"name": "b", "otlp": OtlpInterest(names=("gen_ai.",))})
    c = type("C", (EchoCollector,), {"name": "c", "otlp": OtlpInterest(names=("gen_ai.client.",))})
    d = type("D", (EchoCollector,), {"name": "d", "otlp": OtlpInterest(scopes=("com.anthropic",))})
    candidates = declared("logs", {k().name: k() for k in (a, b, c, d)})

    def winner(name: str, service: str = "claude-code", scope: str = "") -> str | None:
        request = logs_request(
            {"attributes": attrs(event__name=name)}, service=service, scope=scope
        )
        (record,) = split_records(SIGNALS["logs"], request)
        chosen = claimant(record, candidates)
        return chosen.name if chosen else None

    assert winner("tool_result") == "a"  # the service alone
    assert winner("tool_result", scope="com.anthropic.claude_code.events") == "d"  # scope > service
    assert winner("gen_ai.choice") == "b"  # a name beats scope and service
    assert winner("gen_ai.client.inference.operation.details") == "c"  # the longest name prefix
    assert winner("other", service="nginx") is None
    # metrics and traces are other signals: a logs declaration does not take them
    assert declared("metrics", {"a": a()}) == []


def test_metric_data_points_and_spans_are_the_units():
    metrics = json.loads((DATA / "claude-code" / "otel" / "otlp-metrics.json").read_text())
    records = list(split_records(SIGNALS["metrics"], metrics))
    assert len(records) == 6  # 4 metrics, 6 data points
    names = [r.names[0] for r in records]
    assert names.count("claude_code.token.usage") == 3
    for record in records:  # each unit is a request of its own, with one data point
        (resource,) = record.document["resourceMetrics"]
        (scope,) = resource["scopeMetrics"]
        (metric,) = scope["metrics"]
        assert len(metric["sum"]["dataPoints"]) == 1
        assert scope["scope"]["name"] == "com.anthropic.claude_code"
    traces = json.loads((DATA / "claude-code" / "otel" / "otlp-traces.json").read_text())
    assert len(list(split_records(SIGNALS["traces"], traces))) == 5


def test_an_event_the_store_cannot_hold_is_one_rejected_record():
    registry = {**without_codex(), EchoCollector.name: EchoCollector()}
    request = logs_request(
        {"attributes": attrs(event__name="codex.tool_decision")},
        {"attributes": attrs(event__name="codex.odd_types")},
    )
    fine, odd = dispatch("logs", request, "otlp:logs/r2", registry)
    assert not fine.rejected
    assert odd.rejected and odd.reason == (
        "test.codex-otel made an event the store cannot hold: exit_code 1099511627776 is out of range"
    )
    assert odd.quarantined[0].line == 2
    # Claude Code's collector given a session id sent as an integer: stored, as text
    claude = logs_request(
        {
            "body": {"stringValue": "claude_code.api_request"},
            "attributes": [
                {"key": "event.name", "value": {"stringValue": "api_request"}},
                {"key": "session.id", "value": {"intValue": "42"}},
                {"key": "event.sequence", "value": {"intValue": "1"}},
            ],
        },
        service="claude-code",
    )
    (outcome,) = dispatch("logs", claude, "otlp:logs/r3")
    assert outcome.events[0]["session_id"] == "42"
