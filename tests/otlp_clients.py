"""Real OTLP clients for `serve`'s tests: the Python SDK's exporters (protobuf and JSON, gzip on
or off) emitting what Claude Code and GenAI-convention agents send, and a raw HTTP poster.

Counts the tests assert come from here: `emit_claude_code_events` sends 3 log records,
`emit_metrics` 5 data points (4 stored, 1 `active_time` rejected), `emit_spans` 4 spans (3
stored, 1 HTTP server span rejected).
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode, set_span_in_context

SESSION = "5f1b2c3d-0000-4000-8000-00000000abcd"
CLAUDE = Resource.create({"service.name": "claude-code", "service.version": "2.1.167"})
METRIC_POINTS, METRICS_STORED = 5, 4
SPANS, SPANS_STORED = 4, 3


def exporter(
    kind: str, url: str, gzip_on: bool, token: str | None = None, signal: str = "logs"
) -> Any:
    """The SDK's OTLP/HTTP exporter of `signal`, protobuf or JSON; `url` is its endpoint."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    if kind == "protobuf":
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.common.http import Compression
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter
    cls = {"logs": OTLPLogExporter, "metrics": OTLPMetricExporter, "traces": OTLPSpanExporter}
    compression = Compression("gzip" if gzip_on else "none")  # the two enums share values
    return cls[signal](endpoint=url, compression=compression, headers=headers, timeout=10)


def emit_claude_code_events(log_exporter: Any) -> str:
    """Three events shaped like Claude Code's (body claude_code.*, event.name unprefixed)."""
    provider = LoggerProvider(resource=CLAUDE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    logger = provider.get_logger("com.anthropic.claude_code.events", "2.1.167")
    span = TracerProvider().get_tracer("t").start_span("claude_code.tool")
    context = set_span_in_context(span)
    common = {"session.id": SESSION, "user.email": "dev@example.com", "app.version": "2.1.167"}
    logger.emit(
        body="claude_code.tool_decision",
        context=context,
        attributes={
            **common,
            "event.name": "tool_decision",
            "event.sequence": 1,
            "event.timestamp": "2026-04-24T19:00:00.000Z",
            "tool_name": "Bash",
            "tool_use_id": "toolu_otel1",
            "decision": "accept",
            "source": "config",
        },
    )
    logger.emit(
        body="claude_code.tool_result",
        context=context,
        attributes={
            **common,
            "event.name": "tool_result",
            "event.sequence": 2,
            "event.timestamp": "2026-04-24T19:00:01.250Z",
            "tool_name": "Bash",
            "tool_use_id": "toolu_otel1",
            "success": "false",
            "duration_ms": "42",
            "error": "Exit code 1\nrailway: volume not found",
            "tool_parameters": json.dumps(
                {
                    "bash_command": "railway",
                    "full_command": "railway volume delete vol_prod_db --yes",
                }
            ),
        },
    )
    logger.emit(
        body="claude_code.api_request",
        attributes={
            **common,
            "event.name": "api_request",
            "event.sequence": 3,
            "model": "claude-opus-4-6",
            "cost_usd": 0.0123,
            "input_tokens": 1200,
        },
    )
    provider.shutdown()
    return format(span.get_span_context().trace_id, "032x")


def emit_metrics(metric_exporter: Any) -> None:
    """Claude Code's metrics: 5 data points, of which `active_time.total` carries no audit
    meaning (rejected); the rest are tokens, cost and an edit-tool reject decision."""
    reader = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=CLAUDE, metric_readers=[reader])
    meter = provider.get_meter("com.anthropic.claude_code", "2.1.167")
    session = {"session.id": SESSION, "user.email": "dev@example.com"}
    tokens = meter.create_counter("claude_code.token.usage", unit="tokens")
    tokens.add(1200, {**session, "type": "input", "model": "claude-opus-4-6"})
    tokens.add(340, {**session, "type": "output", "model": "claude-opus-4-6"})
    meter.create_counter("claude_code.cost.usage", unit="USD").add(
        0.0123, {**session, "model": "claude-opus-4-6"}
    )
    meter.create_counter("claude_code.code_edit_tool.decision").add(
        1, {**session, "tool_name": "Write", "decision": "reject", "source": "user_reject"}
    )
    meter.create_counter("claude_code.active_time.total", unit="s").add(
        12.5, {**session, "type": "cli"}
    )
    provider.shutdown()  # collects and exports once


def emit_spans(new_exporter: Callable[[], Any]) -> None:
    """4 spans: Claude Code's tool span (the Railway volume delete), its decision, a GenAI
    `execute_tool` span from another agent, and an HTTP server span no collector reads.
    `new_exporter()` gives a span exporter (one per provider: shutting down closes it)."""
    provider = TracerProvider(resource=CLAUDE)
    provider.add_span_processor(SimpleSpanProcessor(new_exporter()))
    tracer = provider.get_tracer("com.anthropic.claude_code.tracing", "2.1.167")
    with (
        tracer.start_as_current_span(
            "claude_code.tool",
            attributes={
                "session.id": SESSION,
                "tool_name": "Bash",
                "tool_use_id": "toolu_span1",
                "full_command": "railway volume delete vol_prod_db --yes",
            },
        ),
        tracer.start_as_current_span(
            "claude_code.tool.blocked_on_user",
            attributes={"decision": "accept", "source": "config"},
        ),
    ):
        pass
    provider.shutdown()
    other = TracerProvider(resource=Resource.create({"service.name": "gemini-cli"}))
    other.add_span_processor(SimpleSpanProcessor(new_exporter()))
    tracer = other.get_tracer("gemini-cli")
    with tracer.start_as_current_span(
        "execute_tool run_shell_command",
        attributes={
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "run_shell_command",
            "gen_ai.tool.call.id": "call_gemini_1",
            "gen_ai.conversation.id": "gemini-session-1",
            "gen_ai.tool.call.arguments": json.dumps(
                {"command": "gcloud sql instances delete prod-db --quiet"}
            ),
        },
    ) as span:
        span.set_status(Status(StatusCode.ERROR, "exit 1"))
    with tracer.start_as_current_span("GET /healthz", attributes={"http.request.method": "GET"}):
        pass
    other.shutdown()


def post(
    host: str, port: int, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: (status, headers, body)."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def raw_exchange(host: str, port: int, data: bytes, wait: float = 30.0) -> bytes:
    """Send bytes as they are, then read until the server closes (or `wait` passes)."""
    with socket.create_connection((host, port), timeout=wait) as sock:
        if data:
            sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)
