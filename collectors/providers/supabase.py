"""Supabase Auth audit log: rows of `auth.audit_log_entries` (NDJSON, a JSON array, or the CSV
`psql \\copy`/the dashboard exports) and GoTrue's log lines with `auth_audit_event`.

The action is `payload.action` (`user_deleted`); the actor `payload.actor_username` (an email,
or `service_role` for a service key); the IP is the row's `ip_address`. GoTrue's log line adds
the user agent and request id. Other GoTrue log lines are no audit records and are skipped.
A Logs Explorer row (`agentaudit pull supabase`: `id`, `timestamp` in epoch microseconds,
`event_message` = the GoTrue line as JSON text) is read as the line it carries.
Database statements (DROP, TRUNCATE) are pgAudit's: `collectors/providers/pgaudit.py`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Output, SourceInput, loads_json
from agentaudit.collectors.providers._platform import (
    Fields,
    PlatformAuditLog,
    epoch_or_text_time,
    mapping,
    text,
)
from agentaudit.collectors.providers._shared import head_text
from agentaudit.schema import Quarantined, parse_time

_CSV_HEADER = b"instance_id,id,payload"


class SupabaseAuthAudit(PlatformAuditLog):
    name = "supabase.auth_audit"
    source = "supabase.auth_audit"
    version = "1"
    description = (
        "Supabase auth.audit_log_entries rows (NDJSON, JSON or CSV) and GoTrue audit lines"
    )
    vendor = "supabase"
    list_keys = ("result",)  # a saved Logs Explorer answer: {"result": [rows], "error": null}

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return head.lstrip(b"\xef\xbb\xbf").startswith(_CSV_HEADER) or (
            b'"auth_audit_event"' in head
            or b'"auth_event"' in head
            or (b'"instance_id"' in head and b'"payload"' in head and b'"log_type"' in head)
            or (b'"event_message"' in head and b'auth_audit_event\\"' in head)
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        src.stream.seek(0)
        if src.stream.read(len(_CSV_HEADER) + 3).lstrip(b"\xef\xbb\xbf").startswith(_CSV_HEADER):
            yield from self._csv(src)
            return
        yield from super().collect(src)

    def _csv(self, src: SourceInput) -> Iterator[Output]:
        from agentaudit.collectors.providers._shared import Record

        data = src.read_all().decode("utf-8", "replace").lstrip("\ufeff")
        rows = csv.DictReader(io.StringIO(data, newline=""))
        for index, row in enumerate(rows):
            item = Record(row, index, rows.line_num, None)
            try:
                row = {**row, "payload": loads_json(row.get("payload") or "")}
            except ValueError as exc:
                yield Quarantined(f"payload is not JSON: {exc}", str(row).encode(), rows.line_num)
                continue
            found = self.fields(row)
            if isinstance(found, Fields):
                yield self.event(row, found, item, src.path)
            elif isinstance(found, str):
                yield item.quarantined(found)

    def fields(self, record: dict[str, Any]) -> Fields | str | None:
        if isinstance(record.get("event_message"), str) and "timestamp" in record:
            return self._explorer_row(record)
        line_event = record.get("auth_audit_event", record.get("auth_event"))
        if isinstance(line_event, dict):
            return _entry(line_event, line_event, record)
        if "payload" in record and "instance_id" in record:
            payload = record["payload"]
            if isinstance(payload, str):
                try:
                    payload = loads_json(payload)
                except ValueError:
                    return "payload is not JSON"
            return _entry(mapping(payload), record, {})
        if "msg" in record and "level" in record:
            return None  # GoTrue's own request log
        return "not a Supabase auth audit entry (no payload or auth_audit_event)"

    def _explorer_row(self, row: dict[str, Any]) -> Fields | str | None:
        """A Logs Explorer row: its `event_message` is the GoTrue line."""
        try:
            line = loads_json(row["event_message"])
        except ValueError:
            return "event_message is not JSON"
        if not isinstance(line, dict) or "event_message" in line:
            return "event_message is not a GoTrue JSON line"
        if not line.get("time") and isinstance(row.get("timestamp"), int | float):
            with suppress(OverflowError, OSError, ValueError):  # epoch microseconds
                line["time"] = datetime.fromtimestamp(row["timestamp"] / 1e6, UTC).isoformat()
        return self.fields(line)


def _entry(payload: dict[str, Any], row: dict[str, Any], line: dict[str, Any]) -> Fields | str:
    action = text(payload.get("action"))
    if not action:
        return "Supabase auth audit entry without an action"
    traits = mapping(payload.get("traits"))
    when = row.get("created_at") or line.get("time")
    return Fields(
        key=text(row.get("audit_log_id"), row.get("id")),
        time=parse_time(when) or epoch_or_text_time(when),
        operation=action,
        actor=text(payload.get("actor_username"), payload.get("actor_id")),
        source_ip=text(row.get("ip_address"), line.get("remote_addr")),
        user_agent=text(row.get("user_agent")),
        target=text(traits.get("user_email"), traits.get("user_id"), traits.get("provider")),
        env_ids=[("supabase_instance", text(row.get("instance_id")))],
        kind="auth" if action in ("login", "logout", "token_refreshed") else "api",
        operation_id=text(row.get("request_id")),
    )
