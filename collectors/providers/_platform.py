"""What the PaaS and SaaS audit-log collectors share (issue 19): one record -> one event.

Not a collector (the registry skips `_` modules). Each platform module subclasses
`PlatformAuditLog`, names the list keys its API pages use and maps one record to `Fields`
(actor, credential id, source IP, user agent, target, environment hints, outcome); reading
the containers (pages, arrays, NDJSON, gzip) and quarantining what is not a record is here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from agentaudit.collectors.base import Collector, Output, SourceInput
from agentaudit.collectors.providers._shared import Record, env_hints, json_records
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json


@dataclass(slots=True)
class Fields:
    """The columns one platform record fills; `key` is the platform's own record id."""

    key: str | None
    time: datetime | None
    operation: str | None
    actor: str | None = None
    credential_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    target: str | None = None
    env_ids: list[tuple[str, str | None]] = field(default_factory=list)
    env_names: list[str | None] = field(default_factory=list)
    status: str = "success"
    kind: str = "api"
    agent: str = "unknown"
    session_id: str | None = None
    operation_id: str | None = None
    tool_name: str | None = None


def epoch_or_text_time(value: Any) -> datetime | None:
    """Epoch milliseconds (Vercel, GitHub) or ISO-8601 text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return parse_time(value if isinstance(value, str) else None)


def text(*values: Any) -> str | None:
    """The first value that is non-empty text or a number (ids are often integers)."""
    for value in values:
        if isinstance(value, str) and value and value.lower() != "unknown":
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class PlatformAuditLog(Collector):
    """A provider audit log whose records each become one `api` event."""

    origin = "provider"
    list_keys: ClassVar[tuple[str, ...]] = ()

    def fields(self, record: dict[str, Any]) -> Fields | str | None:
        """The record's columns, why it is not a record of this format, or None for a line of
        the same log that is no audit record (a GoTrue request log line)."""
        raise NotImplementedError

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src, self.list_keys):
            if isinstance(item, Quarantined):
                yield item
                continue
            if not isinstance(item.value, dict):
                yield item.quarantined(f"not a JSON object: not a {self.description} record")
                continue
            found = self.fields(item.value)
            if found is None:
                continue
            if isinstance(found, str):
                yield item.quarantined(found)
                continue
            yield self.event(item.value, found, item, src.path)

    def event(self, record: dict[str, Any], found: Fields, item: Record, path: str) -> Output:
        hints = env_hints(found.env_ids, found.env_names)
        return new_event(
            self.source,
            record_key=found.key or raw_json(record),
            source_path=path,
            source_offset=item.offset,
            seq=item.index,
            parser_version=self.parser_version,
            time=found.time,
            time_precision="ms" if found.time else "none",
            agent=found.agent,
            session_id=found.session_id,
            actor=found.actor,
            kind=found.kind,
            tool_name=found.tool_name or self.vendor,
            operation=found.operation,
            target=found.target,
            env_hints=hints or None,
            status=found.status,
            raw=raw_json(record),
            credential_id=found.credential_id,
            source_ip=found.source_ip,
            user_agent=found.user_agent,
            operation_id=found.operation_id,
            repeat=False,
        )
