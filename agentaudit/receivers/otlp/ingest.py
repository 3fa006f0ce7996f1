"""serve's ingestion path as a library: request bytes in, stored events and rejections out.

The HTTP layer (`server.py`) and tests call the same functions. Each record of a request
goes to the collector that declares it (`agentaudit.collectors.otlp.dispatch`); what no
collector takes, or what its collector quarantines, is rejected: counted for the client's
`partial_success`, and kept as a quarantine row whose position is the request id and the
record's number in it. A request is answered only after its events and quarantine rows are
committed (or, spooling, after its line is appended and flushed to disk).

One process owns a DuckDB file: several `serve` instances need a store each (or spool
directories, or a lake), never one shared file.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from agentaudit.collectors.base import Collector
from agentaudit.collectors.otlp import SIGNALS, RecordOutcome, dispatch
from agentaudit.enrich.secrets import Redactor, redactor_for
from agentaudit.ingest.files import enrich_events
from agentaudit.receivers.otlp.codec import (
    JSON,
    MAX_BODY_BYTES,
    OtlpRequest,
    decode,
    success_reply,
)
from agentaudit.schema import stable_id
from agentaudit.store import Store, now

RECEIVER_VERSION = "agentaudit.serve/2"  # parser_version of rows no collector produced
_ENCODER = msgspec.json.Encoder()


@dataclass
class OtlpResult:
    """What became of one request's records."""

    signal: str
    request_id: str
    records: int = 0  # log records, data points or spans in the request
    stored: int = 0  # events newly stored (or, spooling, records accepted)
    duplicate: int = 0  # events already stored (a retried request): accepted, not rejected
    rejected: int = 0  # records nothing was stored for
    quarantined: int = 0  # quarantine rows written (or spooled) for this request
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def message(self) -> str:
        """The `partial_success.error_message`: how many, and why, most common first."""
        if not self.rejected:
            return ""
        unit = SIGNALS[self.signal].unit
        common = self.reasons.most_common(3)
        why = "; ".join(f"{n} x {reason}" for reason, n in common)
        more = f"; and {len(self.reasons) - 3} other reasons" if len(self.reasons) > 3 else ""
        return (
            f"{self.rejected} of {self.records} {unit} not stored ({why}{more}); each is kept "
            f"as a quarantine row of request {self.request_id}"
        )

    def reply(self, as_json: bool) -> tuple[str, bytes]:
        return success_reply(self.signal, self.rejected, self.message, as_json)


def ingest_otlp(
    store: Store,
    signal: str,
    body: bytes,
    *,
    content_type: str = JSON,
    content_encoding: str | None = None,
    redactor: Redactor | None = None,
    collectors: Mapping[str, Collector] | None = None,
    limit: int = MAX_BODY_BYTES,
) -> OtlpResult:
    """One OTLP/HTTP request body stored; raises `RequestError` for a body that is refused."""
    request = decode(signal, body, content_type, content_encoding, limit)
    return store_request(store, request, redactor or redactor_for(), collectors)


def store_request(
    store: Store,
    request: OtlpRequest,
    redactor: Redactor,
    collectors: Mapping[str, Collector] | None = None,
) -> OtlpResult:
    path = request_path(request)
    outcomes = dispatch(request.signal, request.document, path, collectors)
    result = _tally(request, outcomes)
    events = [event for outcome in outcomes for event in outcome.events]
    rows = quarantine_rows(outcomes, path, redactor)
    if events:
        enrich_events(events, redactor)
        result.stored = store.append_events(events)
        result.duplicate = len(events) - result.stored
    if rows:
        store.append_quarantine(rows)
    result.quarantined = len(rows)
    return result


def spool_request(
    directory: Path,
    request: OtlpRequest,
    collectors: Mapping[str, Collector] | None = None,
    redactor: Redactor | None = None,
) -> OtlpResult:
    """Append the request to the spool for a later `ingest` (the `otlp.spool` collector);
    the reply is decided now by the same dispatch, so it says what that ingest will store."""
    outcomes = dispatch(request.signal, request.document, request_path(request), collectors)
    result = _tally(request, outcomes)
    result.stored = result.records - result.rejected
    result.quarantined = sum(len(o.quarantined) or int(o.rejected) for o in outcomes)
    entry = {
        "agentaudit_otlp": 1,
        "signal": request.signal,
        "request_id": request.request_id,
        "received_at": datetime.now(UTC).isoformat(),
        "request": request.document,
    }
    # spooled redacted (no secret on disk in clear): placeholders keep their fingerprints
    line = (redactor or redactor_for()).redact(_ENCODER.encode(entry).decode("utf-8")).text
    spool_append(directory, line.encode("utf-8") + b"\n")
    return result


def request_path(request: OtlpRequest) -> str:
    """The `source_path` of a request's events and quarantine rows."""
    return f"otlp:{request.signal}/{request.request_id}"


def _tally(request: OtlpRequest, outcomes: list[RecordOutcome]) -> OtlpResult:
    result = OtlpResult(request.signal, request.request_id, records=len(outcomes))
    for outcome in outcomes:
        if outcome.rejected:
            result.rejected += 1
            result.reasons[outcome.reason or "not stored"] += 1
    return result


def quarantine_rows(
    outcomes: list[RecordOutcome], path: str, redactor: Redactor
) -> list[dict[str, Any]]:
    """A row per record a collector quarantined and per rejected record: position and reason."""
    rows = []
    for outcome in outcomes:
        collector = outcome.collector
        source = collector.source if collector else "otlp"
        version = collector.parser_version if collector else RECEIVER_VERSION
        found = [(q.reason, q.raw) for q in outcome.quarantined]
        if outcome.rejected and not found:
            found = [(outcome.reason or "not stored", outcome.raw())]
        for reason, raw in found:
            text = raw.decode("utf-8", "backslashreplace")
            rows.append(
                {
                    "quarantine_id": stable_id(source, path, outcome.index, reason, raw),
                    "source": source,
                    "source_path": path,
                    "line": outcome.index + 1,  # the record's number in the request
                    "byte_offset": None,
                    "reason": redactor.redact(reason).text,  # a message may quote the input
                    "raw": redactor.redact(text).text,
                    "parser_version": version,
                    "ingested_at": now(),
                }
            )
    return rows


def default_spool_dir() -> Path:
    from agentaudit.paths import home

    return home() / "otlp"


def spool_append(directory: Path, line: bytes) -> Path:
    """Append one line to today's spool file (private to the user), flushed to disk."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"otlp-{datetime.now(UTC):%Y-%m-%d}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)  # acknowledged means on disk
    finally:
        os.close(fd)
    return path
