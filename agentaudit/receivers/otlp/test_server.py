"""`agentaudit serve`: the real OTLP/HTTP log exporters (protobuf and JSON, gzip on/off) as clients."""

from __future__ import annotations

import gzip
import http.client
import json

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import set_span_in_context

from agentaudit.receivers.otlp import OtlpReceiver

SESSION = "5f1b2c3d-0000-4000-8000-00000000abcd"


def exporter(kind: str, url: str, gzip_on: bool, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else None
    if kind == "protobuf":
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    else:
        from opentelemetry.exporter.otlp.common.http import Compression
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
    compression = Compression("gzip" if gzip_on else "none")  # the two enums share values
    return OTLPLogExporter(endpoint=url, compression=compression, headers=headers, timeout=10)


def emit_claude_code_events(log_exporter) -> str:
    """Three events shaped like Claude Code's (body claude_code.*, event.name unprefixed)."""
    provider = LoggerProvider(
        resource=Resource.create({"service.name": "claude-code", "service.version": "2.1.167"})
    )
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


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
@pytest.mark.parametrize("gzip_on", [False, True], ids=["plain", "gzip"])
def test_real_exporter_events_are_stored(store, redactor, encoding, gzip_on):
    with OtlpReceiver(store, port=0, redactor=redactor) as rx:
        trace_id = emit_claude_code_events(exporter(encoding, rx.url, gzip_on))
        assert (rx.stats.requests, rx.stats.records, rx.stats.stored) == (3, 3, 3)
    rows = store.rows(
        "SELECT kind, operation, tool_name, tool_call_id, command, status, exit_code, model, "
        "session_id, agent_version, actor, time, raw FROM events ORDER BY time, operation"
    )
    result = next(r for r in rows if r["status"] == "failure")
    assert (result["kind"], result["command"], result["exit_code"]) == (
        "process",
        "railway volume delete vol_prod_db --yes",
        1,
    )
    assert result["tool_call_id"] == "toolu_otel1" and result["session_id"] == SESSION
    assert result["time"].isoformat() == "2026-04-24T19:01:01.250000+00:00".replace(
        "19:01", "19:00"
    )
    assert (result["agent_version"], result["actor"]) == ("2.1.167", "dev@example.com")
    # OTLP/JSON hex trace ids are read as hex, not base64: the stored id is the span's
    assert json.loads(result["raw"])["record"]["traceId"] == trace_id
    (decision,) = [r for r in rows if r["status"] == "unknown" and r["tool_name"] == "Bash"]
    assert decision["tool_call_id"] == "toolu_otel1"
    (api,) = [r for r in rows if r["operation"] == "api_request"]
    assert api["model"] == "claude-opus-4-6"
    destructive = store.rows("SELECT destructive FROM events WHERE status = 'failure'")
    assert destructive == [{"destructive": True}]


def post(rx, body: bytes, headers: dict[str, str]):
    conn = http.client.HTTPConnection(rx.host, rx.port, timeout=10)
    conn.request("POST", "/v1/logs", body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, json.loads(payload) if payload.startswith(b"{") else payload


def test_bad_bodies_get_clear_4xx_and_the_server_keeps_serving(store, redactor):
    with OtlpReceiver(store, port=0, redactor=redactor, max_body=4096) as rx:
        status, reply = post(rx, b"\x0a\xff\xff", {"Content-Type": "application/x-protobuf"})
        assert status == 400 and "ExportLogsServiceRequest" in reply["message"]
        status, reply = post(rx, b'{"resourceLogs": [', {"Content-Type": "application/json"})
        assert status == 400 and reply["message"].startswith("body is not JSON")
        bad_id = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}
        status, reply = post(rx, json.dumps(bad_id).encode(), {"Content-Type": "application/json"})
        assert status == 400 and "traceId is not hex" in reply["message"]
        status, reply = post(rx, b"{}", {"Content-Type": "text/plain"})
        assert status == 415
        status, reply = post(rx, b"x" * 5000, {"Content-Type": "application/json"})
        assert status == 413 and "exceeds 4096" in reply["message"]
        bomb = gzip.compress(b"{" + b" " * 100_000 + b"}")  # small on the wire, big inflated
        status, reply = post(
            rx, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        )
        assert status == 413 and "decompressed" in reply["message"]
        status, reply = post(
            rx, b"not gzip", {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        )
        assert status == 400
        # still serving, and a valid empty request is accepted
        status, reply = post(rx, b"{}", {"Content-Type": "application/json"})
        assert status == 200
        assert rx.stats.rejected_requests == {400: 4, 415: 1, 413: 2}
    assert store.count("events") == 0


def test_token_required_off_loopback_and_checked_when_set(store, redactor):
    with pytest.raises(ValueError, match="bearer token"):
        OtlpReceiver(store, host="0.0.0.0", port=0)
    with OtlpReceiver(store, port=0, token="s3cret-token", redactor=redactor) as rx:
        status, reply = post(rx, b"{}", {"Content-Type": "application/json"})
        assert status == 401 and "bearer token" in reply["message"]
        emit_claude_code_events(exporter("protobuf", rx.url, False, token="s3cret-token"))
        assert rx.stats.stored == 3


def test_spool_mode_writes_lines_that_ingest_stores_the_same(store, redactor, tmp_path):
    from agentaudit.ingest import ingest_paths

    spool = tmp_path / "otlp"
    with OtlpReceiver(None, port=0, spool_dir=spool) as rx:
        emit_claude_code_events(exporter("json", rx.url, True))
        assert rx.stats.stored == 3
    (path,) = spool.glob("claude-code-otel-*.jsonl")
    assert len(path.read_bytes().splitlines()) == 3  # one line per request
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    report = ingest_paths(store, [spool], redactor=redactor)
    assert (report.files[0].source, report.ingested, report.quarantined) == (
        "claude-code.otel",
        3,
        0,
    )
    (failure,) = store.rows("SELECT command, exit_code FROM events WHERE status = 'failure'")
    assert failure == {"command": "railway volume delete vol_prod_db --yes", "exit_code": 1}
