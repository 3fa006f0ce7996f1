"""GitHub Copilot API usage stream (enterprise audit log streaming, public preview): one record
per Copilot API request or response, `body` a JSON string (at most 1 MB, `truncated` when cut).

Each record is a `message` event of the user (`user_id`), `agent` copilot, the body as its text
(redacted at enrichment like any message); request and response share `github_request_id`,
kept as the tool-call id so they join. Agent actions on repositories are audit events read by
`github.audit` (`actor_is_agent`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Output
from agentaudit.collectors.providers._platform import (
    Fields,
    PlatformAuditLog,
    epoch_or_text_time,
    text,
)
from agentaudit.collectors.providers._shared import Record, head_text


class GitHubCopilotUsage(PlatformAuditLog):
    name = "github.copilot_usage"
    source = "github.copilot_usage"
    version = "1"
    description = "GitHub Copilot API usage stream (request and response records)"
    vendor = "github"

    def sniff(self, path: Path, head: bytes) -> bool:
        head = head_text(head)
        return b'"github_request_id"' in head and b'"endpoint"' in head and b'"body"' in head

    def fields(self, record: dict[str, Any]) -> Fields | str:
        kind = record.get("type")
        if kind not in ("request", "response") or "endpoint" not in record:
            return "not a Copilot usage record (type request or response, with an endpoint)"
        return Fields(
            key=text(record.get("event_id")),
            time=epoch_or_text_time(record.get("@timestamp")),
            operation=f"{kind} {text(record.get('endpoint'))}",
            actor=text(record.get("user_id")),
            env_ids=[("github_enterprise", text(record.get("enterprise_id")))],
            kind="message",
            agent="copilot",
            tool_name="github copilot",
        )

    def event(self, record: dict[str, Any], found: Fields, item: Record, path: str) -> Output:
        event = super().event(record, found, item, path)
        if isinstance(event, dict):
            event["text"] = text(record.get("body"))
            event["tool_call_id"] = text(record.get("github_request_id"))
        return event
