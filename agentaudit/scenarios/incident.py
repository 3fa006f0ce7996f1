"""The issue-16 keys of a replay's `expected.yaml`: incidents, links, severity (README.md).

`check_incident` runs the alert engine under the README's own `alerting.yml` (group_by
session_id and rule_family, a `continue: true` page route) and checks what a human would:
how many incidents page (high or critical alert groups), the highest severity, that the first
critical finding is stamped at the expected call and none before it, that provider records
are linked to the agent call that caused them, that read-only calls raise nothing critical,
and that the provider records that destroy data are marked destructive.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from agentaudit.alert.config import parse_config
from agentaudit.alert.engine import evaluate
from agentaudit.enrich.environments import MAPPING_ENV
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank

if TYPE_CHECKING:
    from agentaudit.scenarios.replay import ReplayResult

ENVIRONMENTS_ENV = MAPPING_ENV
PAGING = ("high", "critical")

# The README's alerting.yml, with local receivers (nothing is delivered: `evaluate` only).
README_ALERTING = {
    "receivers": [
        {"name": "soc", "apprise_urls": ["json://127.0.0.1:9/soc"]},
        {"name": "oncall", "pagerduty": {"routing_key": "replay-not-a-key"}},
    ],
    "route": {
        "receiver": "soc",
        "group_by": ["session_id", "rule_family"],
        "group_wait": "0s",
        "routes": [
            {
                "name": "page",
                "matchers": ["severity=critical", "environment=production"],
                "receiver": "oncall",
                "continue": True,
            },
            {"name": "soc-rest", "receiver": "soc"},
        ],
    },
    "inhibit_rules": [
        {
            "source_matchers": ["severity=critical"],
            "target_matchers": ["severity=~high|medium|low|info"],
            "equal": ["session_id", "rule_family"],
        }
    ],
}

_COLUMN_TESTS = {
    "source": "source = ?",
    "operation": "operation = ?",
    "verb": "split_part(operation, ' ', 1) = ?",
    "status": "status = ?",
    "actor": "actor = ?",
    "command_contains": "contains(command, ?)",
    "target_contains": "contains(target, ?)",
    "user_agent_contains": "contains(coalesce(user_agent, raw), ?)",
    "statement_contains": "contains(raw, ?)",
}


def select(store: Store, selector: dict[str, Any], calls: bool = False) -> list[dict[str, Any]]:
    """The events a selector names (in time, seq order), `nth` applied; with `calls`, the
    first event of each agent call (a call's pre and post hooks are one call)."""
    tests, params = [], []
    for key, value in selector.items():
        if key in _COLUMN_TESTS:
            tests.append(_COLUMN_TESTS[key])
            params.append(value)
    if "operation_id_of" in selector:  # the records sharing one provider operation id
        tests.append(
            "operation_id = (SELECT operation_id FROM events WHERE operation_id IS NOT NULL "
            "AND destructive AND NOT coalesce(status = 'failure', false) "
            "GROUP BY operation_id ORDER BY count(*) DESC, min(time) LIMIT 1)"
        )
    where = " AND ".join(tests) or "TRUE"
    rows = store.rows(
        f"SELECT * FROM event_sessions WHERE {where} ORDER BY time NULLS LAST, seq", params
    )
    if calls:
        rows = list({r["call_key"]: r for r in reversed(rows)}.values())[::-1]
    nth = selector.get("nth")
    return rows[nth - 1 : nth] if nth else rows


def check_incident(result: ReplayResult, store: Store) -> None:
    spec, problems = result.spec, result.problems
    if not any(k in spec for k in ("incidents", "max_severity", "linked", "benign")):
        return
    evaluate(store, parse_config(README_ALERTING))
    pages = store.rows(
        "SELECT DISTINCT group_labels FROM alerts WHERE severity IN ('high', 'critical')"
    )
    result.incidents = len(pages)
    if "incidents" in spec and len(pages) != spec["incidents"]:
        labels = [json.loads(p["group_labels"]) for p in pages]
        problems.append(f"{len(pages)} incidents page, expected {spec['incidents']}: {labels}")
    worst = max((f["severity"] for f in result.findings), key=severity_rank, default="info")
    wanted = spec.get("max_severity")
    # ("medium" for a benign replay: nothing high or critical)
    benign_ok = wanted == "medium" and severity_rank(worst) < severity_rank("high")
    if wanted and severity_rank(worst) != severity_rank(wanted) and not benign_ok:
        above = [f"{f['rule_id']} ({f['severity']}): {f['title']}" for f in result.findings]
        problems.append(f"max severity {worst}, expected {spec['max_severity']}: {above}")
    _check_first_critical(result, store)
    for want in spec.get("linked", []):
        _check_linked(want, store, problems)
    for selector in spec.get("not_critical", []):
        ids = {e["event_id"] for e in select(store, selector)}
        hit = [f["rule_id"] for f in _critical(result) if ids & set(f["event_ids"])]
        if hit:
            problems.append(f"read-only call {selector} raised critical: {hit}")
    for selector in spec.get("destructive_provider_events", []):
        rows = select(store, selector)
        if not rows or not all(r["destructive"] for r in rows):
            problems.append(f"not marked destructive: {selector} ({len(rows)} matched)")


def _critical(result: ReplayResult) -> list[dict[str, Any]]:
    return [f for f in result.findings if f["severity"] == "critical"]


def _check_first_critical(result: ReplayResult, store: Store) -> None:
    selector = result.spec.get("first_critical_at")
    if not selector:
        return
    rows = select(store, {"nth": 1, **selector}, calls=True)
    if not rows:
        result.problems.append(f"first_critical_at selects nothing: {selector}")
        return
    call = rows[0]
    criticals = _critical(result)
    at_call = [
        f
        for f in criticals
        if call["event_id"] in f["event_ids"] or f["first_seen"] == call["time"]
    ]
    if not at_call:
        result.problems.append(f"no critical finding at {selector}")
    early = [
        f"{f['rule_id']}: {f['title']}"
        for f in criticals
        if f["first_seen"] is not None and call["time"] and f["first_seen"] < call["time"]
    ]
    if early:
        result.problems.append(f"critical before {selector}: {early}")


def _check_linked(want: dict[str, Any], store: Store, problems: list[str]) -> None:
    records = select(store, {k: v for k, v in want.items() if k not in ("to", "count")})
    calls = select(store, {"nth": 1, **want["to"]}, calls=True)  # (its own nth wins)
    label = {k: v for k, v in want.items() if k != "to"}
    if "count" in want and len(records) != want["count"]:
        problems.append(f"{label}: {len(records)} provider records, expected {want['count']}")
    if not records or not calls:
        problems.append(f"{label}: nothing to link ({len(records)} records, {len(calls)} calls)")
        return
    call = calls[0]
    unlinked = [
        r["operation"]
        for r in records
        if not (r["linked_event_id"] == call["event_id"] or r["call_key"] == call["call_key"])
    ]
    if unlinked:
        problems.append(
            f"{label}: {len(unlinked)}/{len(records)} not linked to {want['to']} ({unlinked[:3]})"
        )
