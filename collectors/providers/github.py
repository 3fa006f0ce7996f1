"""GitHub organisation / enterprise audit log: REST JSON arrays and streamed NDJSON.

Times are epoch milliseconds (`@timestamp`, `created_at`); Panther exports use text times.
Copilot agent events carry `actor_is_agent: true` and `agent_session_id`: they get `agent`
"copilot" (or the actor's name) and the session id. The token the call used goes to
`credential_id` (`token_id`, else `hashed_token`); neither is the token itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Collector, Output, SourceInput
from agentaudit.collectors.providers._shared import (
    Record,
    env_hints,
    first_text,
    head_text,
    json_records,
)
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_FAILED = ("failed_login", ".failure", "_failed")


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)  # epoch milliseconds
        except (OverflowError, OSError, ValueError):  # beyond what a datetime holds
            return None
    return parse_time(value if isinstance(value, str) else None)


class GitHubAuditLog(Collector):
    name = "github.audit"
    source = "github.audit"
    version = "1"
    description = "GitHub audit log (REST JSON array or streamed NDJSON)"
    origin = "provider"
    vendor = "github"

    def sniff(self, path: Path, head: bytes) -> bool:
        text = head_text(head)
        return b'"action"' in text and (
            b'"_document_id"' in text
            or (
                b'"actor"' in text
                and (b'"org"' in text or b'"repo"' in text or b'"operation_type"' in text)
            )
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        for item in json_records(src, ()):
            if isinstance(item, Quarantined):
                yield item
            elif not isinstance(item.value, dict) or "action" not in item.value:
                yield item.quarantined("no action: not a GitHub audit event")
            else:
                yield self._event(item.value, item, src.path)

    def _event(self, record: dict[str, Any], item: Record, path: str) -> Output:
        action = str(record["action"])
        actor = first_text(record.get("actor"))
        is_agent = record.get("actor_is_agent") is True
        agent = "unknown"
        if is_agent:
            agent = (
                "copilot"
                if (actor or "").lower().startswith("copilot")
                else (actor or "unknown").lower()
            )
        when = _time(
            record.get("@timestamp", record.get("created_at", record.get("at_sign_timestamp")))
        )
        repo = first_text(record.get("repo"), record.get("repository"))
        target = repo or first_text(
            record.get("team"), record.get("user"), record.get("org"), record.get("business")
        )
        org = first_text(record.get("org"), record.get("business"))
        hints = env_hints(
            ids=[("github_org", org)],
            names=[first_text(record.get("environment_name"), record.get("environment"))],
        )
        key = first_text(record.get("_document_id"))
        return new_event(
            self.source,
            record_key=key or raw_json(record),
            source_path=path,
            source_offset=item.offset,
            seq=item.index,
            parser_version=self.parser_version,
            time=when,
            time_precision="ms" if when else "none",
            agent=agent,
            session_id=first_text(record.get("agent_session_id")),
            actor=actor,
            kind="auth"
            if action.startswith(("user.login", "user.failed_login", "oauth"))
            else "api",
            tool_name="github",
            operation=action,
            target=target,
            env_hints=hints or None,
            status="failure" if any(marker in action for marker in _FAILED) else "success",
            raw=raw_json(record),
            credential_id=first_text(record.get("token_id"), record.get("hashed_token")),
            source_ip=first_text(record.get("actor_ip")),
            user_agent=first_text(record.get("user_agent")),
            repeat=False,
        )
