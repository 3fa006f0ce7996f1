"""The page on-call reads: what happened, where, the evidence before it, and what to do."""

from __future__ import annotations

import json
from typing import Any

from agentaudit.store import Store

TIMELINE_LINES = 8


def render_title(findings: list[dict[str, Any]]) -> str:
    """Name the destructive call when there is one: that is what on-call acts on."""
    top = findings[0]
    evidence = merged_evidence(findings)
    operation = evidence.get("operation") or evidence.get("used_by")
    if operation and evidence.get("target"):
        env = evidence.get("target_env")
        where = f" ({env})" if env and env != "unknown" else ""
        return f"[{top['severity'].upper()}] {operation} on {evidence['target']}{where}"
    return f"[{top['severity'].upper()}] {top['title']}"


def merged_evidence(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """Every finding's evidence in one dict; earlier (more severe) findings win a key."""
    merged: dict[str, Any] = {}
    for finding in findings:
        for key, value in json.loads(finding["evidence"]).items():
            if value not in (None, [], ""):
                merged.setdefault(key, value)
    return merged


def render_body(store: Store, findings: list[dict[str, Any]]) -> str:
    top = findings[0]
    evidence = [json.loads(f["evidence"]) for f in findings]
    merged = merged_evidence(findings)
    session = top["session_id"]
    who = store.rows(
        """SELECT any_value(agent) AS agent, any_value(model) AS model, any_value(actor) AS actor,
                  any_value(host) AS host, any_value(cwd) AS cwd
           FROM event_sessions WHERE session_key = ? AND session_id IS NOT NULL""",
        [session],
    )
    who_row = who[0] if who else {}
    lines = [
        f"Severity: {top['severity']}",
        f"Agent: {who_row.get('agent') or 'unknown'} (model {who_row.get('model') or 'unknown'})",
        f"Session: {session or 'none'}   User: {who_row.get('actor') or 'unknown'}   "
        f"Host: {who_row.get('host') or 'unknown'}   Project: {who_row.get('cwd') or 'unknown'}",
        "",
        "Findings:",
        *[f"  - [{f['severity']}] {f['title']} ({f['rule_id']})" for f in findings],
    ]
    if merged.get("command"):
        lines += [
            "",
            "Destructive call (redacted):",
            "  " + merged["command"].replace("\n", "\n  "),
        ]
    target = merged.get("target")
    if target:
        lines.append(f"Target: {target}   Environment: {merged.get('target_env') or 'unknown'}")
    if merged.get("provider_confirmed_at"):
        lines.append(f"Provider confirmed it at {merged['provider_confirmed_at']}")
    if merged.get("read_from") or merged.get("revealed_by"):
        origin = ", ".join(merged.get("read_from") or merged.get("revealed_by") or [])
        lines.append(f"Credential {merged.get('credential_fp')} came from: {origin}")
    lines += ["", "Timeline:", *_timeline_lines(store, findings)]
    lines += ["", "Suggested actions:"]
    if merged.get("credential_fp"):
        lines.append(f"  - Revoke the credential with fingerprint {merged['credential_fp']}")
    if session:
        lines.append(f"  - Stop agent session {session}")
    if any("backup_destroy" in (e.get("categories") or []) for e in evidence) or target:
        lines.append("  - Ask the provider about restore options for the target now")
    lines += ["", f"Full timeline: agentaudit timeline --session {session}" if session else ""]
    return "\n".join(lines).rstrip() + "\n"


def _timeline_lines(store: Store, findings: list[dict[str, Any]]) -> list[str]:
    ids = sorted({i for f in findings for i in f["event_ids"]})
    rows = store.rows(
        """SELECT step_time AS time, source, coalesce(operation, kind) AS what,
                  coalesce(target, '') AS target
           FROM event_sessions WHERE event_id IN (SELECT unnest(?::VARCHAR[]))
           ORDER BY step_time, time, seq""",
        [ids],
    )
    if not rows:
        return []
    start = rows[0]["time"]
    out = []
    for row in rows[:TIMELINE_LINES]:
        offset = int((row["time"] - start).total_seconds() * 1000)
        out.append(
            f"  T+{offset:>6} ms  {row['source']:<14} {row['what']} {row['target']}".rstrip()
        )
    if len(rows) > TIMELINE_LINES:
        out.append(f"  ... {len(rows) - TIMELINE_LINES} more")
    return out
