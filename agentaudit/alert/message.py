"""The page on-call reads: what happened, where, the evidence before it, and what to do."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from agentaudit import taxonomy
from agentaudit.alert.evidence import rows_by_event_ids
from agentaudit.alert.who import Burst, burst_lines, incident_burst
from agentaudit.enrich.secrets import scrub
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank

TIMELINE_LINES = 8
_LOCAL_SCOPES = {"project", "temp", "home", "system"}  # files on the machine the agent ran on


def by_severity(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most severe first, then oldest: the order a page lists findings in."""
    return sorted(findings, key=lambda f: (-severity_rank(f["severity"]), *when(f["first_seen"])))


def when(first_seen: Any) -> tuple[bool, Any]:
    """Sort key for a finding's time: a finding over untimed events only (Codex exec, Claude
    Desktop, bash history without times) has none and sorts after the timed ones."""
    return (first_seen is None, first_seen or 0)


def render_title(findings: list[dict[str, Any]]) -> str:
    """Name the destructive call when there is one: that is what on-call acts on."""
    top = findings[0]
    evidence = merged_evidence(findings)
    operation = evidence.get("operation") or evidence.get("used_by")
    if operation and evidence.get("target"):
        env = evidence.get("target_env")
        where = f" ({env})" if env and env != "unknown" else ""
        return scrub(f"[{top['severity'].upper()}] {operation} on {evidence['target']}{where}")
    return scrub(f"[{top['severity'].upper()}] {top['title']}")


def merged_evidence(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """Every finding's evidence in one dict; earlier (more severe) findings win a key, except
    that a call the provider refused never names the incident over one that went through."""
    merged: dict[str, Any] = {}
    evidences = [json.loads(f["evidence"]) for f in findings]
    for evidence in sorted(evidences, key=lambda e: bool(e.get("refused"))):
        for key, value in evidence.items():
            if value not in (None, [], ""):
                merged.setdefault(key, value)
    return merged


def render_body(
    store: Store,
    findings: list[dict[str, Any]],
    *,
    muted: list[dict[str, Any]] | None = None,
    alert_id: str | None = None,
    resolved: list[dict[str, Any]] | None = None,
) -> str:
    """The page. Built only from stored (already redacted) columns, and scrubbed again."""
    top = findings[0]
    evidence = [json.loads(f["evidence"]) for f in findings]
    merged = merged_evidence(findings)
    session = top["session_id"]
    burst = incident_burst(store, findings, session)
    agent = taxonomy.agent(burst.top("agent"))
    lines = [
        f"Severity: {top['severity']}",
        f"Agent: {agent.name if agent.id != 'unknown' else 'unknown'} "
        f"(model {burst.top('model') or 'unknown'})",
        f"Session: {session or 'none'}   "
        f"User: {burst.named('actor') or burst.top('os_user') or 'unknown'}   "
        f"Host: {burst.top('host') or 'unknown'}   Project: {burst.top('cwd') or 'unknown'}",
        *_who_lines(burst),
        "",
        "Findings:",
        *_finding_lines(findings),
    ]
    if muted:
        lines.append("Also matched (muted by inhibition or silence):")
        lines += _finding_lines(muted)
    if resolved:
        lines.append("Resolved since the last notification:")
        lines += _finding_lines(resolved)
    lines += burst_lines(burst)
    if merged.get("command"):
        lines += [
            "",
            "Destructive call (redacted):",
            "  " + merged["command"].replace("\n", "\n  "),
        ]
    target = merged.get("target")
    environment = merged.get("target_env")
    if environment in (None, "unknown") and burst.environments:
        environment = burst.environments.most_common(1)[0][0]
    if target:
        lines.append(f"Target: {target}   Environment: {environment or 'unknown'}")
    elif environment:
        lines.append(f"Environment: {environment}")
    if merged.get("provider_confirmed_at"):
        lines.append(f"Provider confirmed it at {merged['provider_confirmed_at']}")
    if merged.get("read_from") or merged.get("revealed_by"):
        origin = ", ".join(merged.get("read_from") or merged.get("revealed_by") or [])
        lines.append(f"Credential {merged.get('credential_fp')} came from: {origin}")
    if merged.get("untimed"):
        lines.append(f"Time: unknown ({merged['untimed']})")
    lines += ["", "Timeline:", *_timeline_lines(store, findings)]
    lines += ["", "Suggested actions:"]
    if merged.get("credential_fp"):
        lines.append(f"  - Revoke the credential with fingerprint {merged['credential_fp']}")
    for key, _ in (burst.who.get("credential_id") or Counter()).most_common(2):
        lines.append(f"  - Deactivate or rotate key {key} (used by {burst.top('actor') or '?'})")
    if session and session.startswith("principal:"):
        lines.append(
            f"  - Confirm with {burst.top('actor') or 'the principal'} that this was planned"
        )
    elif session:
        lines.append(f"  - Stop agent session {session}")
    destroyed = _destroyed(store, findings)
    if (
        destroyed
        or target
        or any("backup_destroy" in (e.get("categories") or []) for e in evidence)
    ):
        what = target or next((r["target"] for r in destroyed if r["target"]), "the target")
        held = next((r for r in destroyed if r["provider"]), None)  # by a provider
        scopes = {r["scope"] for r in destroyed}
        local = scopes & _LOCAL_SCOPES
        if held:
            name = taxonomy.provider_name(held["provider"])
            # with local damage too, `what` may name a local path: name the provider's own
            where = held["target"] or ("the deleted resources" if local else what)
            lines.append(f"  - Check {name}'s restore options for {where} now")
        elif not local or "remote" in scopes:  # a remote resource, or not known where
            lines.append(f"  - Ask the provider about restore options for {what} now")
        if local:  # files on this machine: what the agent can undo, else git and backups
            lines.append(f"  - Undo on this machine: {agent.undo}")
    lines += ["", f"Full timeline: agentaudit timeline --session {session}" if session else ""]
    if alert_id:
        lines += [
            f"Acknowledge: agentaudit alert ack {alert_id}",
            f"Mute: agentaudit silence add --match rule_id={top['rule_id']} --for 2h "
            '--comment "..."',
        ]
    # an access key id is an identifier on-call needs to deactivate the key, kept in clear
    # by the store (`credential_id`): held out of the gate that takes its shape for a secret
    keys = list(burst.who.get("credential_id") or ())
    return scrub("\n".join(lines).rstrip() + "\n", keep=keys)


FINDING_LINES = 8


def _finding_lines(findings: list[dict[str, Any]]) -> list[str]:
    """One line per rule (most severe first) with how many findings it made: a burst of 141
    deletes is one line with its count, not 141."""
    by_rule: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in findings:
        by_rule.setdefault((f["severity"], f["rule_id"]), []).append(f)
    out = []
    for (severity, rule), same in list(by_rule.items())[:FINDING_LINES]:
        out.append(f"  - [{severity}] {_titles(same)} ({rule})")
    if len(by_rule) > FINDING_LINES:
        out.append(f"  ... {len(by_rule) - FINDING_LINES} more rules")
    return out


def _titles(same: list[dict[str, Any]]) -> str:
    """'Title' for one finding; 'Head x12: a x9, b x3' for a rule's findings that differ."""
    titles = Counter(f["title"] for f in same)
    if len(titles) == 1:
        return same[0]["title"] + (f" x{len(same)}" if len(same) > 1 else "")
    heads = {t.split(": ", 1)[0] for t in titles}
    if len(heads) == 1 and all(": " in t for t in titles):
        tails = Counter()
        for title, n in titles.items():
            tails[title.split(": ", 1)[1]] += n
        listed = ", ".join(f"{t} x{n}" if n > 1 else t for t, n in tails.most_common(4))
        more = f" and {len(tails) - 4} more" if len(tails) > 4 else ""
        return f"{heads.pop()} x{len(same)}: {listed}{more}"
    return f"{titles.most_common(1)[0][0]} (and {len(same) - 1} more)"


def _who_lines(burst: Burst) -> list[str]:
    """The provider's view of the caller: key id, fingerprint, source IP, user agent."""
    parts = [
        (label, burst.named(column))
        for label, column in (
            ("Key id", "credential_id"),
            ("Credential fingerprint", "credential_fp"),
            ("Source IP", "source_ip"),
            ("User agent", "user_agent"),
        )
    ]
    return [f"{label}: {_clip(value)}" for label, value in parts if value]


def _clip(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def render_resolved_body(
    store: Store, alert: dict[str, Any], findings: list[dict[str, Any]]
) -> str:
    session = alert.get("session_id")
    lines = [
        "Resolved: no new alert in this group within the resolve timeout.",
        f"Alert: {alert['alert_id']}   Session: {session or 'none'}",
        "Findings:",
        *[f"  - [{f['severity']}] {f['title']} ({f['rule_id']})" for f in findings],
    ]
    if session:
        lines += ["", f"Full timeline: agentaudit timeline --session {session}"]
    return scrub("\n".join(lines) + "\n")


def _destroyed(store: Store, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings' destructive evidence events, in time order: where each acted (`provider`,
    `scope`) and on what (`target`)."""
    ids = sorted({i for f in findings for i in f["event_ids"]})
    rows = rows_by_event_ids(
        store,
        """SELECT event_id, provider, scope, target, destructive FROM events
           WHERE event_id IN (SELECT unnest(?::VARCHAR[])) {span} ORDER BY time""",
        [ids],
        ids,
        findings,
    )
    return [r for r in rows if r["destructive"]]


def _timeline_lines(store: Store, findings: list[dict[str, Any]]) -> list[str]:
    ids = sorted({i for f in findings for i in f["event_ids"]})
    rows = rows_by_event_ids(
        store,
        """SELECT event_id, step_time AS time, source, coalesce(operation, kind) AS what,
                  coalesce(target, '') AS target, decided_by
           FROM event_sessions WHERE event_id IN (SELECT unnest(?::VARCHAR[])) {span}
           ORDER BY step_time, time, seq""",
        [ids],
        ids,
        findings,
    )
    if not rows:
        return []
    start = next((r["time"] for r in rows if r["time"] is not None), None)
    out = []
    for row in rows[:TIMELINE_LINES]:
        # Untimed sources (bash history without HISTTIMEFORMAT) keep their order, not a time.
        offset = (
            "     ?"
            if row["time"] is None or start is None
            else (f"{int((row['time'] - start).total_seconds() * 1000):>6}")
        )
        decided = row.get("decided_by")
        who = f" [decided by {decided}]" if decided and decided != "unknown" else ""
        line = f"  T+{offset} ms  {row['source']:<14} {row['what']} {row['target']}".rstrip()
        out.append(line + who)
    if len(rows) > TIMELINE_LINES:
        out.append(f"  ... {len(rows) - TIMELINE_LINES} more")
    return out
