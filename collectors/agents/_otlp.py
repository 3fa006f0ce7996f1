"""OpenTelemetry log records of coding agents: reading them, and which collector owns each.

Inputs (all read by `records`):
- OTLP/JSON `ExportLogsServiceRequest` objects, one a line: what `agentaudit serve` spools and
  hands over for every POST /v1/logs, and what an OpenTelemetry Collector file exporter writes;
- the same requests saved whole (pretty-printed), one or several concatenated;
- the OpenTelemetry JS SDK's own log records as `JSON.stringify(record, null, 2)` appends them
  (Gemini CLI's `telemetry.outfile`): `attributes` plain, `hrTime` `[s, ns]`, `_body`/`body`.
Every record becomes a `LogRecord` (plain attribute values, one time), so the per-agent
collectors only map event names to columns. Which collector reads a record is what
`agentaudit serve` decides too (each collector's `OtlpInterest`, `collectors/otlp.py`): in a
file, a record of another agent is quarantined naming the collector to read it with (never
dropped).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from agentaudit.collectors.base import Collector, Output, SourceInput, loads_json
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json


class LogRecord(NamedTuple):
    resource: dict[str, Any]  # resource attributes
    scope: str  # instrumentation scope name
    attrs: dict[str, Any]
    body: Any
    time: datetime | None  # event.timestamp, else the record's time, else observed time
    precise: bool  # time came from event.timestamp (ms) rather than the record (ns)
    raw: dict[str, Any]  # the record as read


class Position(NamedTuple):
    number: int  # line (or first line of the document)
    offset: int
    data: bytes  # what a quarantine row shows


def value_of(value: Any) -> Any:
    """An OTLP AnyValue (`{"stringValue": ...}`, `{"intValue": "42"}`, ...) as a Python value."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]
    if "doubleValue" in value:
        return value["doubleValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        values = _dict(value["arrayValue"]).get("values")
        return [value_of(v) for v in values] if isinstance(values, list) else []
    if "kvlistValue" in value:
        return attributes(_dict(value["kvlistValue"]).get("values"))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}  # a sender's wrong type: no values


def attributes(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "key" in item:
            out[str(item["key"])] = value_of(item.get("value"))
    return out


def nanos(value: Any) -> datetime | None:
    try:
        count = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(count / 1e9, tz=UTC) if count > 0 else None


def truthy(value: Any) -> bool | None:
    """`true`, `"true"`, `"True"`, 1 ... as a bool; None when it says neither."""
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    return True if text in ("true", "1") else False if text in ("false", "0") else None


def json_object(value: Any) -> dict[str, Any]:
    """A JSON object given as an object or as JSON text (OTel attributes are strings)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = loads_json(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _timed(attrs: dict[str, Any], *fallbacks: datetime | None) -> tuple[datetime | None, bool]:
    stamped = parse_time(attrs.get("event.timestamp")) if attrs.get("event.timestamp") else None
    if stamped:
        return stamped, True
    return next((t for t in fallbacks if t), None), False


def _items(parent: dict[str, Any], key: str) -> tuple[list[Any], str | None]:
    """parent[key] as a list; absent is empty, another type a reason (one bad record)."""
    value = parent.get(key)
    if value is None and key not in parent:
        return [], None
    return (value, None) if isinstance(value, list) else ([], f"{key} is not a list")


def log_records(request: dict[str, Any]) -> Iterator[LogRecord | str]:
    """The records of one OTLP/JSON logs request; a part that is not an object is named by a
    reason instead (quarantined by `records`: a sender's wrong type is one bad record)."""
    resources, wrong = _items(request, "resourceLogs")
    if wrong:
        yield wrong
    for resource_logs in resources:
        if not isinstance(resource_logs, dict):
            yield "resourceLogs holds a value that is not an object"
            continue
        resource = attributes(_dict(resource_logs.get("resource")).get("attributes"))
        scopes, wrong = _items(resource_logs, "scopeLogs")
        if wrong:
            yield wrong
        for scope_logs in scopes:
            if not isinstance(scope_logs, dict):
                yield "scopeLogs holds a value that is not an object"
                continue
            scope = str(_dict(scope_logs.get("scope")).get("name") or "")
            entries, wrong = _items(scope_logs, "logRecords")
            if wrong:
                yield wrong
            for record in entries:
                if not isinstance(record, dict):
                    yield "logRecords holds a value that is not an object"
                    continue
                attrs = attributes(record.get("attributes"))
                body = value_of(record.get("body"))
                time, precise = _timed(
                    attrs,
                    nanos(record.get("timeUnixNano")),
                    nanos(record.get("observedTimeUnixNano")),
                )
                yield LogRecord(resource, scope, attrs, body, time, precise, record)


def sdk_record(obj: dict[str, Any]) -> LogRecord | None:
    """One record of the OpenTelemetry JS SDK as its file exporter writes it; None for a span
    or a metric (same file)."""
    if "hrTime" not in obj or not isinstance(obj.get("attributes"), dict):
        return None
    resource = obj.get("resource") if isinstance(obj.get("resource"), dict) else {}
    resource_attrs = resource.get("_attributes") or resource.get("attributes") or {}
    scope = obj.get("instrumentationScope") or obj.get("instrumentationLibrary") or {}
    hr = obj.get("hrTime")
    when = None
    if isinstance(hr, list) and len(hr) == 2 and all(isinstance(x, int | float) for x in hr):
        when = datetime.fromtimestamp(hr[0] + hr[1] / 1e9, tz=UTC)
    attrs = dict(obj["attributes"])
    time, precise = _timed(attrs, when)
    body = obj.get("body", obj.get("_body"))
    return LogRecord(
        dict(resource_attrs), str(scope.get("name") or ""), attrs, body, time, precise, obj
    )


def records(src: SourceInput) -> Iterator[tuple[Position, LogRecord] | Quarantined]:
    """Every log record of the input, whichever of the three framings it uses."""
    for position, doc in _documents(src):
        if isinstance(doc, Quarantined):
            yield doc
        elif isinstance(doc.get("resourceLogs"), list):
            for record in log_records(doc):
                if isinstance(record, str):
                    yield Quarantined(
                        record, position.data[:4096], position.number, position.offset
                    )
                else:
                    yield position, record
        else:
            record = sdk_record(doc)
            if record is None:
                kind = (
                    "a span or a metric" if "hrTime" in doc or "descriptor" in doc else "not a log"
                )
                yield Quarantined(
                    f"{kind}: not an OTLP log record",
                    position.data[:4096],
                    position.number,
                    position.offset,
                )
            else:
                yield position, record


def _documents(src: SourceInput) -> Iterator[tuple[Position, Any]]:
    """(position, JSON object) per request or record: one a line, or concatenated documents."""
    src.stream.seek(src.start_offset)
    first = src.stream.readline()
    src.stream.seek(src.start_offset)
    one_a_line = False
    try:
        one_a_line = isinstance(loads_json(first), dict)
    except ValueError:
        one_a_line = False
    if one_a_line:
        for line in src.lines():
            if not line.data.strip():
                continue
            try:
                doc = loads_json(line.data)
            except ValueError as exc:
                yield (
                    Position(line.number, line.offset, line.data),
                    Quarantined(f"invalid JSON: {exc}", line.data, line.number, line.offset),
                )
                continue
            yield (
                Position(line.number, line.offset, line.data),
                _object(doc, line.data, line.number, line.offset),
            )
        return
    yield from _concatenated(src)


def _concatenated(src: SourceInput) -> Iterator[tuple[Position, Any]]:
    data = src.read_all()
    text = data.decode("utf-8", "surrogateescape")
    decoder = json.JSONDecoder()
    pos, line = 0, src.start_line + 1
    while True:
        start = len(text) - len(text[pos:].lstrip())
        if start >= len(text):
            break
        line += text.count("\n", pos, start)
        offset = src.start_offset + len(text[:start].encode("utf-8", "surrogateescape"))
        try:
            doc, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError) as exc:  # invalid, or nested beyond the decoder
            rest = text[start:].encode("utf-8", "surrogateescape")
            if src.hold_partial_line:  # still being written: read it next time
                src.end_offset, src.end_line = offset, line - 1
                return
            yield (
                Position(line, offset, rest[:4096]),
                Quarantined(
                    f"invalid JSON: {getattr(exc, 'msg', 'nested too deeply')}",
                    rest[:4096],
                    line,
                    offset,
                ),
            )
            return
        chunk = text[start:end].encode("utf-8", "surrogateescape")
        yield Position(line, offset, chunk), _object(doc, chunk, line, offset)
        line += text.count("\n", start, end)
        pos = end


def _object(doc: Any, data: bytes, number: int, offset: int) -> Any:
    return (
        doc
        if isinstance(doc, dict)
        else Quarantined("not a JSON object", data[:4096], number, offset)
    )


# -- who reads which record ----------------------------------------------------------------


def event_name(record: LogRecord) -> str:
    name = record.attrs.get("event.name") or record.raw.get("eventName")
    if not name and isinstance(record.body, str) and "." in record.body and " " not in record.body:
        name = record.body
    return str(name or "")


def owner_of(record: LogRecord) -> str | None:
    """The collector `agentaudit serve` would hand this record to: the one whose `OtlpInterest`
    matches it most specifically (`collectors/otlp.py`), so a file and the receiver agree."""
    from agentaudit.collectors.otlp import OtlpRecord, claimant

    body = record.body if isinstance(record.body, str) and " " not in record.body else ""
    names = (
        str(record.raw.get("eventName") or ""),
        str(record.attrs.get("event.name") or ""),
        body,
    )
    described = OtlpRecord(
        0,
        str(record.resource.get("service.name") or ""),
        record.scope,
        names,
        frozenset(record.attrs),
        "",
        {},
    )
    found = claimant(described, _log_collectors())
    return found.name if found else None


@cache
def _log_collectors() -> list[Any]:
    from agentaudit.collectors.otlp import declared

    return declared("logs")


# The first event name in a file's head: an OTLP attribute, an SDK attribute, `eventName`.
_FIRST_EVENT = re.compile(
    rb'"(?:event\.name"\s*,\s*"value"\s*:\s*\{\s*"stringValue|event\.name|eventName)"\s*:\s*"'
    rb"(claude_code|codex|gemini_cli|gen_ai)\."
)
_FRAMED = re.compile(rb'\s*\{\s*"(resourceLogs|hrTime)"')
_FAMILY = {b"claude_code": "claude-code.otel", b"codex": "codex.otel",
           b"gemini_cli": "gemini.otel", b"gen_ai": "genai.otel"}  # fmt: skip


def sniffed_owner(head: bytes) -> str | None:
    """The collector for an OTel log file, from the first event name in its head."""
    if not _FRAMED.match(head):  # a request, or a JS SDK record; not serve's spool lines
        return None
    found = _FIRST_EVENT.search(head)
    if found:
        return _FAMILY[found.group(1)]
    if b'"claude_code.' in head or b"com.anthropic.claude_code" in head:
        return "claude-code.otel"
    return None


class OtelLogCollector(Collector):
    """One agent's OTel log events. Subclasses map one record to columns (`columns`)."""

    origin = "agent"
    agent: ClassVar[str]

    def sniff(self, path: Path, head: bytes) -> bool:
        return sniffed_owner(head) == self.name

    def columns(self, record: LogRecord, name: str) -> dict[str, Any] | list[dict[str, Any]] | None:
        """Columns of one of this collector's records: one row, several (a record may hold
        several calls), or none. A row's `_key`, when set, is its record key."""
        raise NotImplementedError

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in records(src):
            if isinstance(item, Quarantined):
                yield item
                continue
            position, record = item
            owner = owner_of(record)
            name = event_name(record)
            if owner != self.name:
                reason = (
                    f"an OTLP record of {owner} ({name}): read it with --source {owner}"
                    if owner
                    else f"no collector reads this OTLP record ({name or 'no event name'})"
                )
                yield Quarantined(
                    reason, raw_json(record.raw).encode()[:4096], position.number, position.offset
                )
                continue
            found = self.columns(record, name)
            rows = [found] if isinstance(found, dict) else found or []
            base = {
                "source_path": src.path,
                "source_offset": position.offset,
                "seq": position.number,
                "parser_version": self.parser_version,
                "time": record.time,
                "time_precision": ("ms" if record.precise else "us") if record.time else "none",
                "host": record.resource.get("host.name"),
                "agent": self.agent,
                "raw": raw_json(
                    {"resource": record.resource, "scope": record.scope, "record": record.raw}
                ),
            }
            for columns in rows:
                row = {**base, **columns}
                key = row.pop("_key", None) or raw_json(record.raw)
                yield new_event(self.source, key, **row)
