"""Synthetic findings (with real stored evidence events) for alerting tests."""

from __future__ import annotations

import json
from typing import Any

from agentaudit.alert.config import parse_config
from agentaudit.schema import stable_id
from agentaudit.store import Store
from agentaudit.testing import at, event

SESSION = "sess-7b1d"


def add_finding(
    store: Store,
    rule_id: str,
    severity: str = "critical",
    *,
    session: str = SESSION,
    seconds: float = 0,
    key: str = "k",
    command: str = "rm -rf /srv/data",
    **columns: Any,
) -> dict[str, Any]:
    """Store one evidence event and one open finding resting on it; return the finding."""
    columns.setdefault("host", "dev-laptop-01")
    columns.setdefault("actor", "alice")
    columns.setdefault("cwd", "/home/alice/proj")
    ev = event(
        seconds,
        session_id=session,
        command=command,
        operation=command.split()[0],
        target="/srv/data",
        target_env="production",
        **columns,
    )
    store.append_events([ev])
    finding = {
        "finding_id": stable_id(rule_id, session, key),
        "rule_id": rule_id,
        "title": f"{rule_id} fired",
        "severity": severity,
        "kind": "rule",
        "first_seen": at(seconds),
        "last_seen": at(seconds),
        "event_ids": [ev["event_id"]],
        "session_id": session,
        "group_key": f"session:{session}",
        "status": "open",
        "evidence": json.dumps({"command": ev["command"], "target": "/srv/data"}),
        "created_at": at(seconds),
    }
    store.append_findings([finding])
    return finding


def config(receiver_urls: list[str], **route: Any):
    """A config with one route to apprise URLs; timers in the route kwargs (e.g. "30s")."""
    glob = {"resolve_timeout": route.pop("resolve_timeout", "1h")}
    if "delivery" in route:
        glob["delivery"] = route.pop("delivery")
    inhibit = route.pop("inhibit_rules", None)
    data = {
        "global": glob,
        "receivers": [
            {
                "name": "team",
                "apprise_urls": receiver_urls,
                "send_resolved": route.pop("send_resolved", True),
            }
        ],
        "route": {"receiver": "team", **route},
    }
    if inhibit is not None:
        data["inhibit_rules"] = inhibit
    return parse_config(data)


def outbox_rows(store: Store) -> list[dict[str, Any]]:
    return store.rows("SELECT * FROM outbox ORDER BY created_at, outbox_id")


def finding_records(store: Store) -> list[dict[str, Any]]:
    return [json.loads(r["ocsf"]) for r in store.rows("SELECT ocsf FROM finding_log ORDER BY seq")]
