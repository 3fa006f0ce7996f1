"""serve's ingestion path as a library (`ingest_otlp`, `spool_request`): request bytes in,
stored events, quarantine rows and the `partial_success` reply out. No HTTP here."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
import zstandard
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from agentaudit.ingest import ingest_paths
from agentaudit.receivers.otlp.codec import PROTOBUF, RequestError, decode
from agentaudit.receivers.otlp.ingest import ingest_otlp, spool_request
from agentaudit.store import Store
from tests.planted_secrets import SHAPES_BY_NAME, scan_store

SESSION = "0c1d2e3f-0000-4000-8000-0000000000aa"
GITHUB_TOKEN = SHAPES_BY_NAME["github_pat_classic"].value
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # an access key id is an id, not a secret


def value(v: object) -> dict:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    return {"stringValue": str(v)}


def attributes(**values: object) -> list[dict]:
    return [{"key": k.replace("__", "."), "value": value(v)} for k, v in values.items()]


def claude_record(sequence: int, name: str, **extra: object) -> dict:
    return {
        "timeUnixNano": str(1777712400_000_000_000 + sequence * 1_000_000_000),
        "body": {"stringValue": f"claude_code.{name}"},
        "attributes": attributes(
            session__id=SESSION, event__name=name, event__sequence=sequence, **extra
        ),
    }


def collector_delivery() -> dict:
    """What a stock OTel Collector forwarded in issue 21: three Claude Code events and one
    CloudTrail `DeleteDBInstance` read by its filelog receiver (no collector reads that)."""
    cloudtrail_line = json.dumps(
        {
            "eventVersion": "1.08",
            "eventSource": "rds.amazonaws.com",
            "eventName": "DeleteDBInstance",
            "awsRegion": "us-east-1",
            "userIdentity": {"accessKeyId": AWS_KEY_ID},
            "requestParameters": {"dBInstanceIdentifier": "prod-db", "skipFinalSnapshot": True},
        }
    )
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": attributes(service__name="claude-code")},
                "scopeLogs": [
                    {
                        "scope": {"name": "com.anthropic.claude_code.events"},
                        "logRecords": [
                            claude_record(1, "user_prompt", prompt=f"use token {GITHUB_TOKEN}"),
                            claude_record(
                                2,
                                "tool_result",
                                tool_name="Bash",
                                tool_use_id="toolu_c1",
                                success="true",
                                tool_parameters=json.dumps(
                                    {
                                        "full_command": "aws rds delete-db-instance --db-instance-identifier prod-db"
                                    }
                                ),
                            ),
                            claude_record(3, "api_request", model="claude-opus-4-6"),
                        ],
                    }
                ],
            },
            {
                "resource": {"attributes": []},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "body": {"stringValue": cloudtrail_line},
                                "attributes": attributes(
                                    log__file__name="cloudtrail.jsonl",
                                    note=f"uploaded with GITHUB_TOKEN={GITHUB_TOKEN}",
                                ),
                            }
                        ]
                    }
                ],
            },
        ]
    }


def protobuf_body(document: dict) -> bytes:
    return json_format.ParseDict(document, ExportLogsServiceRequest()).SerializeToString()


def test_an_unsupported_record_among_supported_ones_is_rejected_and_quarantined(tmp_path, redactor):
    body = protobuf_body(collector_delivery())
    with Store.open(tmp_path / "central.duckdb") as store:
        result = ingest_otlp(store, "logs", body, content_type=PROTOBUF, redactor=redactor)
        quarantined = store.rows(
            "SELECT source, source_path, line, byte_offset, reason, raw FROM quarantine"
        )
        stored = store.rows("SELECT source, destructive FROM events ORDER BY seq")
    assert (result.records, result.stored, result.rejected, result.quarantined) == (4, 3, 1, 1)
    content_type, reply = result.reply(as_json=False)
    response = ExportLogsServiceResponse.FromString(reply)
    assert content_type == PROTOBUF
    assert response.partial_success.rejected_log_records == 1
    assert "no collector reads log records of service.name=(none)" in (
        response.partial_success.error_message
    )
    (row,) = quarantined
    assert row["source_path"] == f"otlp:logs/{result.request_id}" and row["line"] == 4
    assert row["source"] == "otlp" and row["byte_offset"] is None
    assert "DeleteDBInstance" in row["raw"] and row["reason"].startswith("no collector reads")
    assert [r["source"] for r in stored] == ["claude-code.otel"] * 3
    assert stored[1]["destructive"] is True
    # the rejected record and the stored prompt carried a token: it is kept nowhere in clear
    assert GITHUB_TOKEN in json.dumps(collector_delivery()["resourceLogs"][1])
    assert scan_store(tmp_path / "central.duckdb", [SHAPES_BY_NAME["github_pat_classic"]]) == []


def test_a_retried_request_adds_nothing(store, redactor):
    body = protobuf_body(collector_delivery())
    first = ingest_otlp(store, "logs", body, content_type=PROTOBUF, redactor=redactor)
    again = ingest_otlp(store, "logs", body, content_type=PROTOBUF, redactor=redactor)
    assert again.request_id == first.request_id
    assert (again.stored, again.duplicate, again.rejected) == (0, 3, 1)
    assert store.count("events") == 3 and store.count("quarantine") == 1


@pytest.mark.parametrize("encoding", ["identity", "gzip", "deflate", "zstd"])
def test_every_encoding_gives_the_same_events(store, redactor, encoding):
    plain = protobuf_body(collector_delivery())
    body = {
        "identity": lambda b: b,
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "zstd": zstandard.ZstdCompressor().compress,
    }[encoding](plain)
    result = ingest_otlp(
        store, "logs", body, content_type=PROTOBUF, content_encoding=encoding, redactor=redactor
    )
    assert (result.stored, result.rejected) == (3, 1)
    json_body = json.dumps(collector_delivery()).encode()
    as_json = ingest_otlp(store, "logs", json_body, redactor=redactor)
    assert (as_json.stored, as_json.duplicate) == (0, 3)  # the same event ids as protobuf


def test_refused_bodies_raise_with_their_status():
    plain = protobuf_body(collector_delivery())
    cases = [
        (b"\x0a\xff\xff", PROTOBUF, None, 400, "not an OTLP ExportLogsServiceRequest"),
        (b'{"resourceLogs": [', "application/json", None, 400, "body is not JSON"),
        (b"[1, 2]", "application/json", None, 400, "not an object"),
        (b'{"resourceLogs": "x"}', "application/json", None, 400, "not an OTLP/JSON"),
        (b"{}", "text/plain", None, 415, "unsupported Content-Type"),
        (plain, PROTOBUF, "br", 415, "unsupported Content-Encoding"),
        (b"not zstd", PROTOBUF, "zstd", 400, "not valid zstd"),
        (gzip.compress(plain)[:-9], PROTOBUF, "gzip", 400, "truncated"),
        (zstandard.ZstdCompressor().compress(b"\0" * 100_000), PROTOBUF, "zstd", 413, "exceeds"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", None, 400, "not JSON"),
    ]
    for body, content_type, encoding, status, message in cases:
        with pytest.raises(RequestError) as caught:
            decode("logs", body, content_type, encoding, limit=50_000)
        assert (caught.value.status, message in caught.value.message) == (status, True), message


def test_spooled_requests_store_what_direct_ingest_stores(tmp_path, store, redactor):
    body = json.dumps(collector_delivery()).encode()
    request = decode("logs", body, "application/json")
    spooled = spool_request(tmp_path / "spool", request)
    assert (spooled.records, spooled.stored, spooled.rejected) == (4, 3, 1)
    (spool_file,) = (tmp_path / "spool").glob("otlp-*.jsonl")
    assert oct(spool_file.stat().st_mode & 0o777) == "0o600"
    report = ingest_paths(store, [tmp_path / "spool"], redactor=redactor)
    assert (report.files[0].source, report.ingested, report.quarantined) == ("otlp.spool", 3, 1)
    (row,) = store.rows("SELECT reason FROM quarantine")
    assert row["reason"].endswith(f"(request {request.request_id}, record 4)")
    with Store.open(tmp_path / "direct.duckdb") as direct:
        ingest_otlp(direct, "logs", body, redactor=redactor)
        direct_ids = {r["event_id"] for r in direct.rows("SELECT event_id FROM events")}
    assert {r["event_id"] for r in store.rows("SELECT event_id FROM events")} == direct_ids
