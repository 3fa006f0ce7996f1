"""`agentaudit serve` over real HTTP on 127.0.0.1: the Python SDK's OTLP exporters for logs,
metrics and traces (protobuf and JSON, gzip on and off), and raw clients that are malformed,
oversized, slow or idle. Every request gets an HTTP answer with an OTLP body."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time

import pytest
from typer.testing import CliRunner

from agentaudit.receivers.otlp.server import OtlpReceiver
from tests.otlp_clients import (
    METRIC_POINTS,
    METRICS_STORED,
    SESSION,
    SPANS,
    SPANS_STORED,
    emit_claude_code_events,
    emit_metrics,
    emit_spans,
    exporter,
    post,
    raw_exchange,
)

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
@pytest.mark.parametrize("gzip_on", [False, True], ids=["plain", "gzip"])
def test_python_exporters_logs_metrics_and_traces_are_stored(store, redactor, encoding, gzip_on):
    with OtlpReceiver(store, port=0, redactor=redactor) as rx:
        trace_id = emit_claude_code_events(exporter(encoding, rx.url, gzip_on))
        emit_metrics(exporter(encoding, rx.endpoint("metrics"), gzip_on, signal="metrics"))
        emit_spans(lambda: exporter(encoding, rx.endpoint("traces"), gzip_on, signal="traces"))
    assert rx.stats.records == 3 + METRIC_POINTS + SPANS
    assert rx.stats.rejected_records == (METRIC_POINTS - METRICS_STORED) + (SPANS - SPANS_STORED)
    assert rx.stats.rejected_requests == {}
    by_source = store.rows("SELECT source, count(*) AS n FROM events GROUP BY 1 ORDER BY 1")
    assert by_source == [
        {"source": "agent.otel-metrics", "n": METRICS_STORED},
        {"source": "agent.otel-spans", "n": SPANS_STORED},
        {"source": "claude-code.otel", "n": 3},
    ]
    reasons = sorted(r["reason"] for r in store.rows("SELECT reason FROM quarantine"))
    assert reasons == [
        "metric claude_code.active_time.total carries no audit meaning (not stored)",
        "no collector reads spans of service.name=gemini-cli, name=GET /healthz, scope=gemini-cli",
    ]
    rows = store.rows(
        "SELECT kind, operation, tool_name, tool_call_id, command, status, exit_code, model, "
        "session_id, agent_version, actor, time, raw FROM events "
        "WHERE source = 'claude-code.otel' ORDER BY time, operation"
    )
    result = next(r for r in rows if r["status"] == "failure")
    assert (result["kind"], result["command"], result["exit_code"]) == (
        "process",
        "railway volume delete vol_prod_db --yes",
        1,
    )
    assert result["tool_call_id"] == "toolu_otel1" and result["session_id"] == SESSION
    assert result["time"].isoformat() == "2026-04-24T19:00:01.250000+00:00"
    assert (result["agent_version"], result["actor"]) == ("2.1.167", "dev@example.com")
    # OTLP/JSON hex trace ids are read as hex, not base64: the stored id is the span's
    assert json.loads(result["raw"])["record"]["traceId"] == trace_id
    (api,) = [r for r in rows if r["operation"] == "api_request"]
    assert api["model"] == "claude-opus-4-6"
    destructive = store.rows(
        "SELECT source, tool_name FROM events WHERE destructive ORDER BY source, tool_name"
    )
    assert destructive == [
        {"source": "agent.otel-spans", "tool_name": "Bash"},  # the Railway volume delete
        {"source": "agent.otel-spans", "tool_name": "run_shell_command"},  # gcloud sql delete
        {"source": "claude-code.otel", "tool_name": "Bash"},
    ]


def answer(raw: bytes) -> tuple[int, dict]:
    """(status, OTLP Status body) of a raw HTTP response."""
    assert raw.startswith(b"HTTP/1.1 "), raw[:80]
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def read_response(sock: socket.socket) -> bytes:
    """One response from a kept-alive connection: its head, then Content-Length bytes."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


MALFORMED = [
    # (what is sent, status, a word of the message); "Connection: close" so the reply ends it
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, 400, "malformed HTTP"),
    (b"NOT-HTTP\r\n\r\n", 400, "malformed HTTP"),
    (b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "malformed HTTP"),
    (b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "malformed"),
    (
        b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
        400,
        "malformed HTTP",
    ),
    (
        b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 40_000,
        400,
        "malformed",
    ),  # a head past 32 KiB
    (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "no such endpoint"),
    (b"GET /v1/logs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "not allowed"),
    (
        b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 999999999\r\n\r\n{",
        413,
        "exceeds",
    ),
    (
        b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: 3\r\n\r\n{x}",
        400,
        "not JSON",
    ),
    (
        b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Connection: close\r\nContent-Length: 2\r\n\r\n{}",
        415,
        "Content-Type",
    ),
    (
        b"POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Encoding: br\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
        415,
        "Content-Encoding",
    ),
    (
        b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Encoding: gzip\r\nConnection: close\r\nContent-Length: 8\r\n\r\nnot gzip",
        400,
        "gzip",
    ),
]


def test_every_malformed_request_gets_an_http_answer_with_an_otlp_body(store, redactor):
    with OtlpReceiver(store, port=0, redactor=redactor, max_body=64_000, idle_timeout=2) as rx:
        for data, status, word in MALFORMED:
            got, body = answer(raw_exchange(rx.host, rx.port, data))
            assert (got, word in body["message"]) == (status, True), (data[:60], body)
            assert isinstance(body["code"], int)
        bomb = gzip.compress(b"{" + b" " * 100_000 + b"}")  # small on the wire, big inflated
        status, _, reply = post(
            rx.host, rx.port, "/v1/logs", bomb, {**JSON, "Content-Encoding": "gzip"}
        )
        assert status == 413 and b"decompressed body exceeds 64000" in reply
        # still serving: a valid (empty) request in a chunked body is accepted
        chunked = (
            b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n"
        )
        status, body = answer(raw_exchange(rx.host, rx.port, chunked))
        assert (status, body) == (200, {})
    assert rx.stats.requests == 1
    assert store.count("events") == 0


def test_slow_and_idle_clients_are_answered_or_closed_and_hold_no_thread(store, redactor):
    threads_before = threading.active_count()
    with OtlpReceiver(store, port=0, redactor=redactor, request_timeout=1.5, idle_timeout=1) as rx:
        threads_serving = threading.active_count()
        idle = [socket.create_connection((rx.host, rx.port), timeout=60) for _ in range(200)]
        slow_head = [socket.create_connection((rx.host, rx.port), timeout=60) for _ in range(10)]
        slow_body = [socket.create_connection((rx.host, rx.port), timeout=60) for _ in range(10)]
        for sock in slow_head:
            sock.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: appl")
        for sock in slow_body:
            sock.sendall(
                b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"resourceLogs": ['
            )
        assert threading.active_count() <= threads_serving  # sockets wait on the event loop
        for sock in idle:
            assert sock.recv(1024) == b""  # closed by the server, nothing to answer
        for sock in slow_head + slow_body:
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
            status, body = answer(reply)
            assert status == 408 and "not received within 1.5 s" in body["message"]
        for sock in idle + slow_head + slow_body:
            sock.close()
        deadline = time.monotonic() + 30
        while rx._server.server_state.connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not rx._server.server_state.connections  # no socket held past its timeout
        status, _, _ = post(rx.host, rx.port, "/v1/logs", b"{}", JSON)
        assert status == 200
        assert rx.stats.rejected_requests == {408: 10}  # the body timeouts (heads: protocol)
    assert threading.active_count() <= threads_before


def test_token_required_off_loopback_and_checked_when_set(store, redactor):
    with pytest.raises(ValueError, match="bearer token"):
        OtlpReceiver(store, host="0.0.0.0", port=0)
    with OtlpReceiver(store, port=0, token="s3cret-token", redactor=redactor) as rx:
        for auth in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer s3cr\xe9t"}):
            status, _, reply = post(rx.host, rx.port, "/v1/logs", b"{}", {**JSON, **auth})
            assert status == 401 and b"bearer token" in reply
        emit_claude_code_events(exporter("protobuf", rx.url, False, token="s3cret-token"))
        assert rx.stats.stored == 3


def test_spool_mode_answers_now_and_ingest_stores_the_same(store, redactor, tmp_path):
    from agentaudit.ingest import ingest_paths

    spool = tmp_path / "otlp"
    with OtlpReceiver(None, port=0, spool_dir=spool) as rx:
        emit_claude_code_events(exporter("json", rx.url, True))
        emit_metrics(exporter("protobuf", rx.endpoint("metrics"), True, signal="metrics"))
    assert (rx.stats.stored, rx.stats.rejected_records) == (3 + METRICS_STORED, 1)
    (path,) = spool.glob("otlp-*.jsonl")
    assert len(path.read_bytes().splitlines()) == 4  # one line per request
    report = ingest_paths(store, [spool], redactor=redactor)
    assert (report.files[0].source, report.ingested, report.quarantined) == (
        "otlp.spool",
        3 + METRICS_STORED,
        1,
    )
    (failure,) = store.rows("SELECT command, exit_code FROM events WHERE status = 'failure'")
    assert failure == {"command": "railway volume delete vol_prod_db --yes", "exit_code": 1}


def test_serve_command_refuses_bad_settings_in_one_line(tmp_path):
    from agentaudit.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--spool"])
    assert result.exit_code == 2 and "without a bearer token" in result.output
    assert "Traceback" not in result.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port), "--spool"])
    assert result.exit_code == 2 and "in use" in result.output


def test_a_missing_extra_is_one_line_naming_it(monkeypatch, tmp_path):
    import sys

    import agentaudit.receivers.otlp as package
    from agentaudit.cli import app
    from agentaudit.realtime.watch.sources import build_source

    monkeypatch.delitem(sys.modules, "agentaudit.receivers.otlp.server", raising=False)
    monkeypatch.delattr(package, "server", raising=False)
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if `agentaudit[otlp]` were absent
    result = CliRunner().invoke(app, ["serve", "--spool"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "pip install 'agentaudit[otlp]' (uvicorn is missing)" in " ".join(result.output.split())
    with pytest.raises(ValueError, match=r"watch source otlp: .*agentaudit\[otlp\]"):
        build_source({"type": "otlp", "spool": str(tmp_path / "spool")})


def test_beyond_max_pending_requests_the_answer_is_503_retry_after(store, redactor):
    with OtlpReceiver(store, port=0, redactor=redactor, max_pending=1) as rx:
        with socket.create_connection((rx.host, rx.port), timeout=30) as slow:
            slow.sendall(
                b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2\r\n\r\n{"
            )
            deadline = time.monotonic() + 30
            while rx.pending < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            status, headers, reply = post(rx.host, rx.port, "/v1/logs", b"{}", JSON)
            assert (status, headers.get("retry-after")) == (503, "1")
            assert json.loads(reply)["code"] == 14  # UNAVAILABLE: exporters retry
            slow.sendall(b"}")
            assert answer(read_response(slow))[0] == 200
        status, _, _ = post(rx.host, rx.port, "/v1/logs", b"{}", JSON)
        assert status == 200
