"""OTLP requests split into records, each read by the collector that declares it.

`agentaudit serve` (storing or spooling) and the spool collector share this: one request in
(OTLP/JSON as a dict: ids in hex, enums as integers), one `RecordOutcome` per record out (a
log record, a metric data point, a span). Nothing here touches the store. A record no
collector declares (`Collector.otlp`), or one its collector yields no event for, is rejected
with a reason: the caller reports it in `partial_success` and quarantines it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
import pyarrow as pa

from agentaudit.collectors import all_collectors
from agentaudit.collectors.base import Collector, OtlpInterest, SourceInput
from agentaudit.schema import EVENT_SCHEMA, Quarantined


@dataclass(frozen=True)
class Signal:
    name: str  # logs, metrics, traces
    resources: str  # resourceLogs
    scopes: str  # scopeLogs
    records: str  # logRecords
    unit: str  # what partial_success counts: log records, data points, spans


SIGNALS = {
    "logs": Signal("logs", "resourceLogs", "scopeLogs", "logRecords", "log records"),
    "metrics": Signal("metrics", "resourceMetrics", "scopeMetrics", "metrics", "data points"),
    "traces": Signal("traces", "resourceSpans", "scopeSpans", "spans", "spans"),
}
METRIC_KINDS = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")
_ENCODER = msgspec.json.Encoder()


def _python_type(arrow_type: pa.DataType) -> type:
    """The Python type a canonical column's values must have for its Arrow type."""
    for test, kind in (
        (pa.types.is_string, str),
        (pa.types.is_integer, int),
        (pa.types.is_boolean, bool),
        (pa.types.is_timestamp, datetime),
    ):
        if test(arrow_type):
            return kind
    return list


_COLUMN_KINDS = {field.name: _python_type(field.type) for field in EVENT_SCHEMA}
_INT_LIMITS = {
    field.name: 2 ** (field.type.bit_width - 1)
    for field in EVENT_SCHEMA
    if pa.types.is_integer(field.type)
}
_EVENT_NAME = re.compile(r"[\w.:/-]{1,128}")  # `claude_code.tool_result`, not a sentence


@dataclass
class OtlpRecord:
    """One record of a request, with what dispatch matches on and its one-record request."""

    index: int  # 0-based order in the request (metrics: data points in order)
    service: str
    scope: str
    names: tuple[str, ...]
    attribute_keys: frozenset[str]
    body: str  # the start of a free-text log body (a file line), else ""
    document: dict[str, Any]  # a request holding only this record (resource and scope kept)
    malformed: str | None = None  # why this part of the request is no record (a wrong type)

    def describe(self) -> str:
        name = next((n for n in self.names if n), "")
        parts = [f"service.name={self.service or '(none)'}"]
        if name:
            parts.append(f"name={name[:80]}")
        elif self.body:
            parts.append(f"body={self.body!r}")
        if self.scope:
            parts.append(f"scope={self.scope[:80]}")
        return ", ".join(parts)


@dataclass
class RecordOutcome:
    index: int
    collector: Collector | None
    document: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    reason: str | None = None  # why nothing was stored (set when `events` is empty)

    @property
    def rejected(self) -> bool:
        return not self.events

    def raw(self) -> bytes:
        try:
            return _ENCODER.encode(self.document)
        except UnicodeEncodeError:  # a lone surrogate (a hand-edited spool): kept escaped
            return json.dumps(self.document, ensure_ascii=True).encode()


def attribute_map(items: Any) -> dict[str, Any]:
    """OTLP/JSON `attributes` (`[{"key": k, "value": {"stringValue": v}}]`) as a dict of values."""
    out: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            value = item.get("value")
            out[item["key"]] = _any_value(value) if isinstance(value, dict) else None
    return out


def unix_nanos(value: Any) -> datetime | None:
    """An OTLP `timeUnixNano` (a decimal string or number) as a UTC time; None when unset."""
    try:
        nanos = int(value)
    except (TypeError, ValueError):
        return None
    if nanos <= 0:
        return None
    try:
        return datetime.fromtimestamp(nanos / 1e9, tz=UTC)
    except (OverflowError, OSError, ValueError):  # beyond year 9999: not a time
        return None


def one_record(signal: Signal, document: Any) -> tuple[dict, dict, dict] | None:
    """(resource attributes, scope, record) of a one-record request; None if it is not one."""
    if not isinstance(document, dict):
        return None
    for resource_block in _dicts(document.get(signal.resources)):
        resource = attribute_map(_dict(resource_block.get("resource")).get("attributes"))
        for scope_block in _dicts(resource_block.get(signal.scopes)):
            for record in _dicts(scope_block.get(signal.records)):
                return resource, _dict(scope_block.get("scope")), record
    return None


def _any_value(value: dict[str, Any]) -> Any:
    for key in ("stringValue", "boolValue", "intValue", "doubleValue", "bytesValue"):
        if key in value:
            return value[key]
    if "arrayValue" in value:
        values = _dicts(_dict(value["arrayValue"]).get("values"))
        return [_any_value(v) for v in values]
    if "kvlistValue" in value:
        return attribute_map(_dict(value["kvlistValue"]).get("values"))
    return None


def split_records(signal: Signal, document: dict[str, Any]) -> Iterator[OtlpRecord]:
    """Every record of a request, in order, each as its own one-record request; a part of the
    wrong type (a scope that is not an object, a metric with no data) is yielded as one
    malformed record, so it is rejected and counted instead of vanishing."""
    index = 0

    def malformed(reason: str, part: Any) -> OtlpRecord:
        nonlocal index
        index += 1
        return OtlpRecord(index - 1, "", "", (), frozenset(), "", {"part": part}, reason)

    for resource_block in _parts(document, signal.resources):
        if isinstance(resource_block, str):
            yield malformed(resource_block, document.get(signal.resources))
            continue
        resource = _dict(resource_block.get("resource"))
        service = attribute_map(resource.get("attributes")).get("service.name")
        for scope_block in _parts(resource_block, signal.scopes):
            if isinstance(scope_block, str):
                yield malformed(scope_block, resource_block.get(signal.scopes))
                continue
            scope_name = str(_dict(scope_block.get("scope")).get("name") or "")
            for record in _parts(scope_block, signal.records):
                if isinstance(record, str):
                    yield malformed(record, scope_block.get(signal.records))
                    continue
                units = list(_units(signal, record))
                if not units and not any(isinstance(record.get(k), dict) for k in METRIC_KINDS):
                    yield malformed("a metric of no known kind", record)
                for names, attributes, body, one in units:
                    yield OtlpRecord(
                        index,
                        str(service or ""),
                        scope_name,
                        names,
                        frozenset(attributes),
                        body,
                        {
                            signal.resources: [
                                {
                                    **_without(resource_block, signal.scopes),
                                    signal.scopes: [
                                        {
                                            **_without(scope_block, signal.records),
                                            signal.records: [one],
                                        }
                                    ],
                                }
                            ]
                        },
                    )
                    index += 1


def _parts(parent: dict[str, Any], key: str) -> Iterator[dict[str, Any] | str]:
    """The objects of a repeated OTLP field; a reason for each part of the wrong type. Null
    is the empty default, as the protobuf JSON mapping says."""
    value = parent.get(key)
    if value is None:
        return
    if not isinstance(value, list):
        yield f"{key} is not a list"
        return
    for item in value:
        yield item if isinstance(item, dict) else f"{key} holds a value that is not an object"


def _units(
    signal: Signal, record: dict[str, Any]
) -> Iterator[tuple[tuple[str, ...], dict[str, Any], str, dict[str, Any]]]:
    """(names, attributes, body excerpt, record) per unit partial_success counts (a metric
    is its data points); the excerpt of a free-text log body only describes a rejection."""
    if signal.name == "metrics":
        name = str(record.get("name") or "")
        for kind in METRIC_KINDS:
            data = record.get(kind)
            if isinstance(data, dict):
                for point in _dicts(data.get("dataPoints")):
                    one = {**record, kind: {**data, "dataPoints": [point]}}
                    yield (name,), attribute_map(point.get("attributes")), "", one
        return
    attributes = attribute_map(record.get("attributes"))
    if signal.name == "logs":
        body = record.get("body")
        body_text = str(body.get("stringValue") or "") if isinstance(body, dict) else ""
        # a body is an event name (`claude_code.tool_result`) or free text (a file line)
        body_name = body_text if _EVENT_NAME.fullmatch(body_text) else ""
        names = (str(record.get("eventName") or ""), str(attributes.get("event.name") or ""))
        names += (body_name,)
        yield names, attributes, body_text[:60] if not body_name else "", record
        return
    yield (str(record.get("name") or ""),), attributes, "", record


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _without(block: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != key}


def declared(
    signal: str, collectors: Mapping[str, Collector] | None = None
) -> list[tuple[Collector, OtlpInterest]]:
    """The collectors that declare records of this signal, in registry (name) order."""
    found = all_collectors() if collectors is None else collectors
    return [(c, c.otlp) for c in found.values() if c.otlp is not None and signal in c.otlp.signals]


def claimant(
    record: OtlpRecord, candidates: list[tuple[Collector, OtlpInterest]]
) -> Collector | None:
    """The collector whose declaration matches the record most specifically, or None."""
    best: tuple[int, bool, int, bool] | None = None
    chosen = None
    for collector, interest in candidates:
        name = max(
            (len(p) for p in interest.names for n in record.names if n and n.startswith(p)),
            default=0,
        )
        attribute = any(key in record.attribute_keys for key in interest.attributes)
        scope = max((len(p) for p in interest.scopes if record.scope.startswith(p)), default=0)
        service = any(record.service.startswith(p) for p in interest.services)
        score = (name, attribute, scope, service)
        if any(score) and (best is None or score > best):
            best, chosen = score, collector
    return chosen


def storable(event: dict[str, Any]) -> str | None:
    """None when every column of `event` has its schema's type; a number or flag in a text
    column (an attribute sent as `intValue`) becomes text. Else the first bad column: one
    odd record must not fail the Arrow conversion of its whole request."""
    for name, kind in _COLUMN_KINDS.items():
        value = event.get(name)
        if value is None:
            continue
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{name} is {type(value).__name__}, not int"
            if not -_INT_LIMITS[name] <= value < _INT_LIMITS[name]:
                return f"{name} {value} is out of range"
        elif kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return f"{name} is not a list of text"
        elif kind is str and isinstance(value, int | float):  # bools are ints too
            event[name] = str(value)
        elif not isinstance(value, kind):
            return f"{name} is {type(value).__name__}, not {kind.__name__}"
    return None


def dispatch(
    signal_name: str,
    document: dict[str, Any],
    source_path: str,
    collectors: Mapping[str, Collector] | None = None,
) -> list[RecordOutcome]:
    """Each record of one request read by its collector: events, quarantine, or a rejection.

    `source_path` names the request (`otlp:logs/<request id>`); a record's line number in
    the collector's input is its position in the request (1-based).
    """
    signal = SIGNALS[signal_name]
    candidates = declared(signal_name, collectors)
    outcomes = []
    for record in split_records(signal, document):
        collector = claimant(record, candidates)
        outcome = RecordOutcome(record.index, collector, record.document)
        outcomes.append(outcome)
        if record.malformed:
            outcome.collector, outcome.reason = None, record.malformed
            continue
        if collector is None:
            outcome.reason = f"no collector reads {signal.unit} of {record.describe()}"
            continue
        src = SourceInput.from_bytes(source_path, outcome.raw(), start_line=record.index)
        try:
            outputs = list(collector.collect(src))
        except Exception as exc:  # one bad record is one bad record: the request goes on
            outcome.reason = f"{collector.name} failed on this record: {type(exc).__name__}: {exc}"
            continue
        for output in outputs:
            if isinstance(output, Quarantined):
                outcome.quarantined.append(output)
            elif problem := storable(output):
                reason = f"{collector.name} made an event the store cannot hold: {problem}"
                outcome.quarantined.append(Quarantined(reason, outcome.raw(), record.index + 1))
            else:
                outcome.events.append(output)
        if not outcome.events:
            outcome.reason = (
                outcome.quarantined[0].reason
                if outcome.quarantined
                else f"{collector.name} found nothing to store in this record ({record.describe()})"
            )
    return outcomes
