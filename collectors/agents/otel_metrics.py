"""Coding agents' OpenTelemetry metrics (Claude Code `claude_code.*`, Codex `codex.*`).

Input: one-record OTLP/JSON metrics requests, as `agentaudit serve` hands them over (one
data point per line). Metrics with audit meaning become events: sessions started, tokens
and cost per model, the edit-tool accept/reject decisions, commits and pull requests made,
Codex tool calls, its automated approval reviews and hook runs. The rest (latencies, startup
phases, transport counters, active time) is quarantined with that reason, so a client sees
it rejected in `partial_success` rather than silently dropped.

Exporters re-send cumulative counters every interval: a cumulative point's id is its series
(name, resource, attributes, start time) and value, so an unchanged counter adds nothing
and each change is one event. Delta points and gauges are keyed by their time as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._shared import json_records
from agentaudit.collectors.base import Collector, OtlpInterest, Output, SourceInput
from agentaudit.collectors.otlp import (
    METRIC_KINDS,
    SIGNALS,
    attribute_map,
    one_record,
    split_records,
    unix_nanos,
)
from agentaudit.schema import Quarantined, new_event, raw_json

AGENTS = {"claude_code.": "claude-code", "codex.": "codex"}
CUMULATIVE = 2  # AGGREGATION_TEMPORALITY_CUMULATIVE
# metric name -> operation of the stored event
STORED = {
    "claude_code.session.count": "session_start",
    "claude_code.token.usage": "token_usage",
    "claude_code.cost.usage": "cost_usage",
    "claude_code.code_edit_tool.decision": "tool_decision",
    "claude_code.lines_of_code.count": "lines_of_code",
    "claude_code.commit.count": "commit",
    "claude_code.pull_request.count": "pull_request",
    "codex.thread.started": "session_start",
    "codex.tool.call": "tool_call",
    "codex.turn.token_usage": "token_usage",
    "codex.turn.cost_microusd": "cost_usage",
    "codex.guardian.review": "approval_review",
    "codex.hooks.run": "hook_run",
}
_SERIES_NOISE = {"session.id", "user.id", "user.email", "user.account_uuid", "organization.id"}


class AgentOtelMetrics(Collector):
    name = "agent.otel-metrics"
    source = "agent.otel-metrics"
    version = "1"
    description = "Claude Code and Codex OpenTelemetry metrics (sessions, tokens, cost, tool decisions; via `agentaudit serve`)"
    otlp = OtlpInterest(signals=("metrics",), names=tuple(AGENTS))
    origin = "agent"  # Claude Code's and Codex's: each event names its agent

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.lstrip().startswith(b'{"resourceMetrics"') and (
            b'"claude_code.' in head or b'"codex.' in head
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            line, request, _text = item
            if not isinstance(request, dict) or "resourceMetrics" not in request:
                yield Quarantined(
                    "not an OTLP metrics request", line.data, line.number, line.offset
                )
                continue
            # every metric of the request, one data point each (a file holds many)
            for part in split_records(SIGNALS["metrics"], request):
                found = None if part.malformed else one_record(SIGNALS["metrics"], part.document)
                if found is None:
                    reason = part.malformed or "not an OTLP metric"
                    yield Quarantined(reason, line.data, line.number, line.offset)
                    continue
                resource, _scope, metric = found
                for kind in METRIC_KINDS:
                    data = metric.get(kind)
                    if isinstance(data, dict):
                        for point in data.get("dataPoints") or []:
                            yield self._point(resource, metric, kind, data, point, src.path, line)

    def _point(
        self,
        resource: dict[str, Any],
        metric: dict[str, Any],
        kind: str,
        data: dict[str, Any],
        point: dict[str, Any],
        path: str,
        line: Any,
    ) -> Output:
        name = str(metric.get("name") or "")
        operation = STORED.get(name)
        if operation is None:
            reason = f"metric {name or '(unnamed)'} carries no audit meaning (not stored)"
            return Quarantined(reason, line.data, line.number, line.offset)
        attrs = attribute_map(point.get("attributes"))
        value = point.get("asDouble", point.get("asInt", point.get("sum", point.get("count"))))
        agent = next(a for prefix, a in AGENTS.items() if name.startswith(prefix))
        details = " ".join(
            f"{k}={v}" for k, v in sorted(attrs.items()) if k not in _SERIES_NOISE and v is not None
        )
        columns: dict[str, Any] = {
            "source_path": path,
            "source_offset": line.offset,
            "seq": line.number,
            "parser_version": self.parser_version,
            "time": unix_nanos(point.get("timeUnixNano")),
            "time_precision": "us",
            "host": resource.get("host.name"),
            "agent": agent,
            "agent_version": attrs.get("app.version")
            or attrs.get("app_version")
            or resource.get("service.version"),
            "model": attrs.get("model"),
            "session_id": attrs.get("session.id") or attrs.get("conversation.id"),
            "actor": attrs.get("user.email")
            or attrs.get("user.account_uuid")
            or attrs.get("user.id"),
            "kind": "other",
            "operation": operation,
            "tool_name": attrs.get("tool_name") or attrs.get("tool"),
            "status": _status(operation, attrs),
            "text": f"{name} {details} = {value}".replace("  ", " "),
            "raw": raw_json({"resource": resource, "metric": name, "kind": kind, "point": point}),
        }
        series = raw_json([name, sorted(resource.items()), sorted(attrs.items())])
        if data.get("aggregationTemporality") == CUMULATIVE:
            key = f"{series}|{point.get('startTimeUnixNano')}|{value}"
        else:
            key = f"{series}|{point.get('timeUnixNano')}|{value}"
        return new_event(self.source, key, **columns)


def _status(operation: str, attrs: dict[str, Any]) -> str:
    decision = str(attrs.get("decision") or attrs.get("outcome") or "").lower()
    if operation in ("tool_decision", "approval_review") and decision:
        # an accepted call is allowed, not yet run: its outcome is the tool result's
        return "denied" if decision in ("reject", "denied", "deny", "abort") else "unknown"
    success = str(attrs.get("success") or "").lower()
    if success in ("true", "false"):
        return "success" if success == "true" else "failure"
    return "unknown"
