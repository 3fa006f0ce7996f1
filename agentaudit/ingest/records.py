"""From a collector's outputs to storable batches: every output is an event or a quarantine row.

A collector's exception costs one record (`guarded_collect`); an event that enrichment or the
Arrow schema refuses (a lone UTF-16 surrogate from a cut emoji, a number where text belongs) is
coerced to the schema's types and, if it still fails, quarantined alone, never its batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pyarrow as pa

from agentaudit.collectors.base import Collector, SourceInput, guarded_collect
from agentaudit.enrich.environments import ENV_CLUE_MARKERS
from agentaudit.enrich.event import REDACTED_COLUMNS, REDACTED_LISTS, enrich
from agentaudit.enrich.secrets import NoSecrets, Redactor, scan_texts
from agentaudit.schema import EVENT_SCHEMA, Quarantined, raw_json, stable_id, to_arrow
from agentaudit.store import now

BATCH_SIZE = 5000


def prepare_batches(
    collector: Collector, src: SourceInput, redactor: Redactor
) -> Iterator[tuple[pa.Table | None, list[dict[str, Any]]]]:
    """Collect and enrich, no store: (events as Arrow, redacted quarantine rows) per batch."""
    for events, quarantined in batches(guarded_collect(collector, src)):
        table, refused = storable(events, redactor)
        rows = [quarantine_row(q, collector, src.path, redactor) for q in quarantined + refused]
        yield table, rows


def storable(
    events: list[dict[str, Any]], redactor: Redactor
) -> tuple[pa.Table | None, list[Quarantined]]:
    """Enrich a batch and build its table; events that cannot be stored are quarantined."""
    if not events:
        return None, []
    try:
        enrich_events(events, redactor)
        return to_arrow(events), []
    except Exception:  # some event is malformed: find it, keep the others
        pass
    kept: list[dict[str, Any]] = []
    refused: list[Quarantined] = []
    for event in events:
        try:
            fixed = coerced(event)
            enrich_events([fixed], redactor)
            to_arrow([fixed])
        except Exception as exc:
            raw = _raw_of(event)
            reason = f"event not storable ({type(exc).__name__}): {str(exc)[:200]}"
            refused.append(Quarantined(reason, raw, None, _int_or_none(event.get("source_offset"))))
            continue
        kept.append(fixed)
    return (to_arrow(kept) if kept else None), refused


def enrich_events(events: list[dict[str, Any]], redactor: Redactor) -> None:
    """Enrich a batch in place; one vectorised pass first rules out events no secret
    detector can match (they skip the full scan)."""
    if not events:
        return
    texts = [_redactable_text(e) for e in events]
    maybe, clues = scan_texts(texts, ENV_CLUE_MARKERS)  # one RE2 pass a text asks both
    for event, scan, clue in zip(events, maybe, clues, strict=True):
        event["ingested_at"] = now()
        enrich(event, redactor if scan else _NO_SECRETS, clues=clue)


_NO_SECRETS = NoSecrets(b"")


def _redactable_text(event: dict[str, Any]) -> str:
    """Every value enrichment redacts, joined: the prefilter's input for one event. The
    separator is no line break: the prefilter reads line breaks as file content."""
    values = [str(event[c]) for c in REDACTED_COLUMNS if event.get(c)]
    return "\x1e".join(values + [str(v) for c in REDACTED_LISTS for v in event.get(c) or []])


def coerced(event: dict[str, Any]) -> dict[str, Any]:
    """The event with every column in its schema type: text as valid UTF-8 (a lone surrogate
    becomes U+FFFD), a number or an object where text belongs as its JSON text, a value that
    cannot be a number, flag or time as null."""
    out: dict[str, Any] = {}
    for field in EVENT_SCHEMA:
        value = event.get(field.name)
        out[field.name] = None if value is None else _as_type(value, field.type)
    return out


def _as_type(value: Any, kind: pa.DataType) -> Any:
    if pa.types.is_string(kind):
        return _valid_text(value if isinstance(value, str) else raw_json(value))
    if pa.types.is_list(kind):
        items = value if isinstance(value, list) else [value]
        return [_as_type(item, kind.value_type) for item in items if item is not None]
    if pa.types.is_boolean(kind):
        return value if isinstance(value, bool) else None
    if pa.types.is_integer(kind):
        return _int_or_none(value, bits=kind.bit_width)
    if pa.types.is_timestamp(kind):
        return value if isinstance(value, datetime) else None
    return None


def _valid_text(text: str) -> str:
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _int_or_none(value: Any, bits: int = 64) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -(1 << (bits - 1)) <= value < (1 << (bits - 1)) else None


def _raw_of(event: dict[str, Any]) -> bytes:
    raw = event.get("raw")
    text = raw if isinstance(raw, str) else repr(event)[:100_000]
    return text.encode("utf-8", "surrogatepass")


def batches(
    outputs: Iterator[dict[str, Any] | Quarantined],
) -> Iterator[tuple[list[dict[str, Any]], list[Quarantined]]]:
    events: list[dict[str, Any]] = []
    quarantined: list[Quarantined] = []
    for output in outputs:
        if isinstance(output, Quarantined):
            quarantined.append(output)
        else:
            events.append(output)
        if len(events) + len(quarantined) >= BATCH_SIZE:
            yield events, quarantined
            events, quarantined = [], []
    if events or quarantined:
        yield events, quarantined


def quarantine_row(
    q: Quarantined, collector: Collector, path: str, redactor: Redactor
) -> dict[str, Any]:
    # backslashreplace keeps every byte visible (and reversible) in valid UTF-8 text.
    raw = q.raw if isinstance(q.raw, bytes) else str(q.raw).encode("utf-8", "surrogatepass")
    text = raw.decode("utf-8", "backslashreplace")
    reason = _valid_text(q.reason)
    return {
        "quarantine_id": stable_id(collector.source, path, q.byte_offset, q.line, raw),
        "source": collector.source,
        "source_path": path,
        "line": q.line,
        "byte_offset": q.byte_offset,
        "reason": reason,
        "raw": redactor.redact(text).text,
        "parser_version": collector.parser_version,
        "ingested_at": now(),
        "damaged_file": bool(q.extra.get("damaged_file")),
    }
