"""Railway workspace audit log: responses of the `auditLogs` GraphQL query.

Accepts one response document, a JSON array of them, or one response a line (as
`agentaudit pull railway` stores its pages). Railway types no actor, IP or token field; who
acted is read from the free-form `context` JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Collector, Output, SourceInput, loads_json
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json

_TARGET_KEYS = ("volumeId", "serviceId", "deploymentId", "environmentId", "projectId", "id")


class RailwayAuditLog(Collector):
    name = "railway.audit"
    source = "railway.audit"
    version = "1"
    description = "Railway auditLogs GraphQL responses (JSON document or one page a line)"
    origin = "provider"
    vendor = "railway"
    incremental = False

    def sniff(self, path: Path, head: bytes) -> bool:
        return b'"auditLogs"' in head

    def collect(self, src: SourceInput) -> Iterator[Output]:
        data = src.read_all()
        try:
            pages = [loads_json(data)]
        except ValueError:
            pages = None
        if pages is None:  # one response a line
            yield from self._lines(data, src.path)
            return
        if isinstance(pages[0], list):
            pages = pages[0]
        for index, page in enumerate(pages):
            yield from self._page(page, line=None, offset=None, index=index, path=src.path)

    def _lines(self, data: bytes, path: str) -> Iterator[Output]:
        offset = 0
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if raw.strip():
                try:
                    page = loads_json(raw)
                except ValueError as exc:
                    yield Quarantined(f"invalid JSON: {exc}", raw, number, offset)
                else:
                    yield from self._page(page, line=number, offset=offset, index=number, path=path)
            offset += len(raw) + 1

    def _page(
        self, page: Any, line: int | None, offset: int | None, index: int, path: str
    ) -> Iterator[Output]:
        raw_page = raw_json(page).encode()
        if not isinstance(page, dict):
            yield Quarantined("response is not a JSON object", raw_page, line, offset)
            return
        if page.get("errors"):
            yield Quarantined(f"GraphQL errors: {page['errors']}", raw_page, line, offset)
        data = page.get("data")
        logs = data.get("auditLogs") if isinstance(data, dict) else None
        if not isinstance(logs, dict):
            if not page.get("errors"):
                yield Quarantined("no data.auditLogs in response", raw_page, line, offset)
            return
        edges = logs.get("edges")
        if not isinstance(edges, list):
            yield Quarantined("data.auditLogs.edges is not a list", raw_page, line, offset)
            return
        for position, edge in enumerate(edges):
            node = edge.get("node") if isinstance(edge, dict) else None
            if not isinstance(node, dict) or not node.get("id"):
                yield Quarantined(
                    f"page {index} edge {position}: no node id",
                    raw_json(edge).encode(),
                    line,
                    offset,
                )
                continue
            yield self._event(node, path, offset, position)

    def _event(self, node: dict[str, Any], path: str, offset: int | None, position: int) -> Output:
        payload = node.get("payload") if isinstance(node.get("payload"), dict) else {}
        context = node.get("context") if isinstance(node.get("context"), dict) else {}
        actor = context.get("actor") if isinstance(context.get("actor"), dict) else {}
        environment = node.get("environment") if isinstance(node.get("environment"), dict) else {}
        target = next((payload[k] for k in _TARGET_KEYS if payload.get(k)), None)
        name = environment.get("name")
        env_name = (name.lower() or None) if isinstance(name, str) else None
        # The user's mapping of these ids (environments.yaml) wins over the environment's name.
        hints = [
            f"{kind}={value}"
            for kind, value in (
                ("railway_environment", node.get("environmentId")),
                ("railway_project", node.get("projectId")),
                ("environment", env_name),
            )
            if value
        ]
        when = parse_time(node.get("createdAt"))
        return new_event(
            self.source,
            record_key=str(node["id"]),
            source_path=path,
            source_offset=offset,
            seq=position,
            parser_version=self.parser_version,
            time=when,
            time_precision="ms" if when else "none",
            agent="unknown",
            actor=actor.get("email") or actor.get("name") or actor.get("id") or actor.get("type"),
            kind="api",
            tool_name="railway",
            operation=node.get("eventType"),
            target=target or node.get("environmentId") or node.get("projectId"),
            env_hints=hints or None,
            status="success",
            raw=raw_json(node),
        )
