"""OTLP/HTTP bodies in and out: decompression, decoding, and the replies the spec defines.

Requests are protobuf (`application/x-protobuf`) or OTLP/JSON (`application/json`), plain,
gzip, deflate or zstd, for the three signals. Both encodings are decoded with
opentelemetry-proto into the one shape collectors read: OTLP/JSON as a dict, trace and span
ids in hex (protobuf's JSON mapping would give base64), enums as integers. Replies are an
Export*ServiceResponse (with `partial_success` when records were rejected) or, for a failed
request, a `google.rpc.Status`, both in the request's encoding (JSON when it is unknown).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

MAX_BODY_BYTES = 8 * 1024 * 1024  # after decompression too; exporters batch far below this
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_ID_KEYS = {"traceId", "spanId", "parentSpanId"}
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

# signal -> (request message, response message, partial_success counter field)
MESSAGES: dict[str, tuple[type[Message], type[Message], str]] = {
    "logs": (
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
        "rejected_log_records",
    ),
    "metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
        "rejected_data_points",
    ),
    "traces": (
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
        "rejected_spans",
    ),
}
# HTTP status -> google.rpc.Code, the `code` of the Status body
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 12, 405: 12, 408: 4, 413: 8, 415: 3, 500: 13, 503: 14}


class RequestError(Exception):
    """A request refused as a whole: its HTTP status and the message the client gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class OtlpRequest:
    signal: str
    document: dict[str, Any]  # OTLP/JSON, ids in hex, enums as integers
    request_id: str  # a hash of the decoded body: a retried request has the same id
    json: bool  # reply in JSON (else protobuf)


def reply_json(content_type: str | None) -> bool:
    """Whether to answer in JSON: unless the request was protobuf (JSON when unknown)."""
    return (content_type or "").split(";", 1)[0].strip().lower() != PROTOBUF


def decompress(body: bytes, encoding: str | None, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body inflated, refused past `limit` bytes (a small body can inflate to gigabytes)."""
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        return body
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _inflate(body, encoding, limit)
    if encoding == "zstd":
        return _unzstd(body, limit)
    raise RequestError(415, f"unsupported Content-Encoding {encoding!r}: use gzip, zstd or none")


def _inflate(body: bytes, encoding: str, limit: int) -> bytes:
    # deflate is zlib-wrapped in HTTP, though some clients send it raw
    attempts = (31,) if encoding != "deflate" else (15, -15)
    for number, wbits in enumerate(attempts, 1):
        inflater = zlib.decompressobj(wbits=wbits)
        try:
            data = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            if number < len(attempts):
                continue
            raise RequestError(400, f"body is not valid {encoding}: {exc}") from exc
        if len(data) > limit or inflater.unconsumed_tail:
            raise RequestError(413, f"decompressed body exceeds {limit} bytes")
        if not inflater.eof:
            raise RequestError(400, f"body is not valid {encoding}: truncated stream")
        return data
    raise AssertionError("unreachable")


def _unzstd(body: bytes, limit: int) -> bytes:
    import zstandard  # the `otlp` extra; only zstd bodies need it

    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body), read_across_frames=True)
    try:
        data = reader.read(limit + 1)
    except zstandard.ZstdError as exc:
        raise RequestError(400, f"body is not valid zstd: {exc}") from exc
    if len(data) > limit:
        raise RequestError(413, f"decompressed body exceeds {limit} bytes")
    return data


def decode(
    signal: str,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None = None,
    limit: int = MAX_BODY_BYTES,
) -> OtlpRequest:
    """One request body as OTLP/JSON, or RequestError with the status to answer."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind not in (PROTOBUF, JSON):
        raise RequestError(
            415, f"unsupported Content-Type {content_type!r}: use {PROTOBUF} or {JSON}"
        )
    data = decompress(body, content_encoding, limit)
    request_type = MESSAGES[signal][0]
    message = request_type()
    name = request_type.DESCRIPTOR.name
    try:
        if kind == PROTOBUF:
            message.ParseFromString(data)
        else:
            document = json.loads(data)
            if not isinstance(document, dict):
                raise RequestError(400, f"body is not an OTLP/JSON {name}: not an object")
            if _SURROGATE_ESCAPE.search(data):
                document = _well_formed(document)
            json_format.ParseDict(_hex_ids_to_base64(document), message, ignore_unknown_fields=True)
    except DecodeError as exc:
        raise RequestError(400, f"body is not an OTLP {name}: {exc}") from exc
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        raise RequestError(400, f"body is not JSON: {exc}") from exc
    except json_format.ParseError as exc:
        raise RequestError(400, f"body is not an OTLP/JSON {name}: {exc}") from exc
    document = json_format.MessageToDict(message, use_integers_for_enums=True)
    request_id = hashlib.sha256(signal.encode() + b"\x1f" + data).hexdigest()[:24]
    return OtlpRequest(signal, _base64_ids_to_hex(document), request_id, kind == JSON)


def _well_formed(node: Any) -> Any:
    """Lone UTF-16 surrogates (`\\ud83d`: an emoji cut in half, as a JS exporter writes a
    string truncated mid-pair) become U+FFFD: one damaged character, not a refused batch."""
    if isinstance(node, str):
        return node.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(node, dict):
        return {_well_formed(k): _well_formed(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_well_formed(v) for v in node]
    return node


def _hex_ids_to_base64(node: Any) -> Any:
    """OTLP/JSON ids are hex; protobuf's JSON parser expects base64 for bytes fields."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str) and value:
                try:
                    out[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError as exc:
                    raise RequestError(400, f"{key} is not hex: {value[:40]!r}") from exc
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


def success_reply(signal: str, rejected: int, message: str, as_json: bool) -> tuple[str, bytes]:
    """(content type, body) of a 200: `partial_success` set only when something was rejected."""
    _, response_type, counter = MESSAGES[signal]
    response = response_type()
    if rejected:
        setattr(response.partial_success, counter, rejected)  # type: ignore[attr-defined]
        response.partial_success.error_message = message  # type: ignore[attr-defined]
    if as_json:
        return JSON, json_format.MessageToJson(response, indent=None).encode()
    return PROTOBUF, response.SerializeToString()


def error_reply(status: int, message: str, as_json: bool) -> tuple[str, bytes]:
    """(content type, body) of a refused request: a google.rpc.Status, as OTLP/HTTP says."""
    code = _GRPC_CODES.get(status, 2)  # 2: UNKNOWN
    if as_json:
        return JSON, json.dumps({"code": code, "message": message}).encode()
    return PROTOBUF, status_pb2.Status(code=code, message=message).SerializeToString()
