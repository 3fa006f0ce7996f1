"""`agentaudit serve`: an OTLP/HTTP logs receiver (POST /v1/logs) that stores Claude Code events.

Bodies are protobuf (`application/x-protobuf`) or OTLP/JSON (`application/json`), gzip or not,
decoded with opentelemetry-proto. OTLP/JSON writes trace and span ids as hex, which protobuf's
JSON mapping would read as base64, so they are converted before parsing. Every request is
turned into one OTLP/JSON line and handed to the `claude-code.otel` collector through the same
collect, enrich (redaction) and store path as files. Replies follow the OTLP/HTTP spec: 200
with an ExportLogsServiceResponse in the request's encoding, 400 for a malformed body (the
client must not retry), 401 without the bearer token, 413 for an oversized body (also after
decompression), 415 for another content type. It listens on 127.0.0.1 unless told otherwise,
and refuses to listen elsewhere without a bearer token.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import json
import os
import threading
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from agentaudit.collectors import get_collector
from agentaudit.collectors.base import SourceInput
from agentaudit.enrich.secrets import Redactor, redactor_for
from agentaudit.ingest import ingest_source
from agentaudit.store import Store

MAX_BODY_BYTES = 8 * 1024 * 1024  # after decompression too; exporters batch far below this
_ID_KEYS = {"traceId", "spanId", "parentSpanId"}
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class RequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def decompress(body: bytes, encoding: str | None, limit: int = MAX_BODY_BYTES) -> bytes:
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        return body
    if encoding not in ("gzip", "deflate"):
        raise RequestError(415, f"unsupported Content-Encoding {encoding!r}: use gzip or none")
    inflater = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise RequestError(400, f"body is not valid {encoding}: {exc}") from exc
    if len(data) > limit or inflater.unconsumed_tail:
        raise RequestError(413, f"decompressed body exceeds {limit} bytes")
    return data


def _hex_ids_to_base64(node: Any) -> Any:
    """OTLP/JSON ids are hex; protobuf's JSON parser expects base64 for bytes fields."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str) and value:
                try:
                    value = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError as exc:
                    raise RequestError(400, f"{key} is not hex: {value[:40]!r}") from exc
                out[key] = value
            else:
                out[key] = _hex_ids_to_base64(value)
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(v) for v in node]
    return node


def _base64_ids_to_hex(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                base64.b64decode(v).hex()
                if k in _ID_KEYS and isinstance(v, str)
                else _base64_ids_to_hex(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_base64_ids_to_hex(v) for v in node]
    return node


def parse_request(body: bytes, content_type: str) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise RequestError(400, f"body is not an OTLP ExportLogsServiceRequest: {exc}") from exc
    elif kind == JSON:
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise RequestError(400, f"body is not JSON: {exc}") from exc
        try:
            json_format.ParseDict(_hex_ids_to_base64(document), request, ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            raise RequestError(400, f"body is not OTLP/JSON logs: {exc}") from exc
    else:
        raise RequestError(
            415, f"unsupported Content-Type {content_type!r}: use {PROTOBUF} or {JSON}"
        )
    return request


def request_to_otlp_json(request: ExportLogsServiceRequest) -> bytes:
    """The request as one OTLP/JSON line (hex ids), the collector's input format."""
    document = json_format.MessageToDict(request)
    return json.dumps(_base64_ids_to_hex(document), separators=(",", ":")).encode() + b"\n"


@dataclass
class ReceiverStats:
    requests: int = 0
    records: int = 0
    stored: int = 0
    rejected_requests: dict[int, int] = field(default_factory=dict)


class OtlpReceiver:
    """`with OtlpReceiver(store) as rx:` serves on rx.url until the block ends (or `serve_forever`)."""

    def __init__(
        self,
        store: Store | None,
        host: str = "127.0.0.1",
        port: int = 4318,
        token: str | None = None,
        redactor: Redactor | None = None,
        max_body: int = MAX_BODY_BYTES,
        spool_dir: Path | None = None,
    ) -> None:
        if not _is_loopback(host) and not token:
            raise ValueError(
                f"refusing to listen on {host} without a bearer token (set --token / AGENTAUDIT_OTLP_TOKEN)"
            )
        if store is None and spool_dir is None:
            raise ValueError("give a store, or a spool directory")
        self.store = store
        # Spool mode: requests are appended as OTLP/JSON lines (one O_APPEND write each) for a
        # later `agentaudit ingest`, so the receiver does not hold the DuckDB file's write lock.
        self.spool_dir = spool_dir
        self.token = token
        self.redactor = redactor or redactor_for()
        self.max_body = max_body
        self.stats = ReceiverStats()
        self._lock = threading.Lock()  # one DuckDB connection: one writer at a time
        self._collector = get_collector("claude-code.otel")
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self.host, self.port = self._server.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1/logs"

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        """(status, content type, reply body) for one POST /v1/logs."""
        content_type = headers.get("content-type", "")
        reply_json = content_type.split(";", 1)[0].strip().lower() == JSON
        try:
            if self.token and not hmac.compare_digest(
                headers.get("authorization", ""), f"Bearer {self.token}"
            ):
                raise RequestError(401, "missing or wrong bearer token")
            data = decompress(body, headers.get("content-encoding"), self.max_body)
            request = parse_request(data, content_type)
        except RequestError as exc:
            self.count_rejection(exc.status)
            return (
                exc.status,
                "application/json",
                json.dumps({"code": exc.status, "message": exc.message}).encode(),
            )
        records = sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)
        line = request_to_otlp_json(request)
        quarantined = 0
        with self._lock:
            if self.spool_dir is not None:  # spooled redacted: placeholders keep fingerprints
                spool_append(
                    self.spool_dir, self.redactor.redact(line.decode("utf-8")).text.encode("utf-8")
                )
                stored = records
            else:
                assert self.store is not None
                src = SourceInput.from_bytes(self.url, line)
                report = ingest_source(self.store, self._collector, src, self.redactor)
                stored, quarantined = report.ingested, report.quarantined
            self.stats.requests += 1
            self.stats.records += records
            self.stats.stored += stored
        response = ExportLogsServiceResponse()
        if quarantined:
            response.partial_success.rejected_log_records = quarantined
            response.partial_success.error_message = "records quarantined (see `agentaudit query`)"
        if reply_json:
            return 200, JSON, json_format.MessageToJson(response).encode()
        return 200, PROTOBUF, response.SerializeToString()

    def count_rejection(self, status: int) -> None:
        with self._lock:
            self.stats.rejected_requests[status] = self.stats.rejected_requests.get(status, 0) + 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path.split("?", 1)[0] != "/v1/logs":
                    return self._reply(
                        404, "application/json", b'{"code":404,"message":"only POST /v1/logs"}'
                    )
                length = self.headers.get("Content-Length")
                if length is None or not length.isdigit():
                    return self._reply(
                        411, "application/json", b'{"code":411,"message":"Content-Length required"}'
                    )
                if int(length) > receiver.max_body:
                    self.close_connection = True
                    receiver.count_rejection(413)
                    message = f"body of {length} bytes exceeds {receiver.max_body}"
                    return self._reply(
                        413,
                        "application/json",
                        json.dumps({"code": 413, "message": message}).encode(),
                    )
                body = self.rfile.read(int(length))
                headers = {k.lower(): v for k, v in self.headers.items()}
                self._reply(*receiver.handle(headers, body))

            def _reply(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def __enter__(self) -> OtlpReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def default_spool_dir() -> Path:
    from agentaudit.paths import home

    return home() / "otlp"


def spool_append(directory: Path, line: bytes) -> Path:
    """Append one OTLP/JSON request line to today's spool file (private to the user)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"claude-code-otel-{datetime.now(UTC):%Y-%m-%d}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return path


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
