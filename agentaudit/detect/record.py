"""The finding policy: how what the detectors found becomes stored findings.

Identity. A finding's id is `stable_id(detector id, session, anchor)`:
- the detector id is the rule's (`destructive-provider-http`, `sigma:<rule name>`);
- the session is the one the anchor belongs to, as `event_sessions` resolves it: the event's
  own session, else the session its link names (same command, same target, same credential,
  user agent, agent launch), else the inferred shell session (`shell:...`), else none;
- the anchor is what the finding is about within that session, named by the detector: a call
  (`call_key`: the agent's tool-call id, else the linked call's, else the event's own id), the
  session itself, a correlation's group, an anomaly run's first window.
It never names the set of events a pass happened to see, nor when they arrived: a later run
that sees more of the same finding computes the same id.

Merge. A run's finding whose id is stored is merged into the stored one: its events join
(in order, each once), the span and the severity widen, the latest evidence and title
replace the old (they describe everything seen so far). One-shot `detect` and `watch` record
through this one rule, so a correlation that gains an event counts it however it is run.

A link that arrives after its line was judged alone. A sessionless line (a shell line, a
provider record) whose agent call was not stored yet is judged in its shell session or with
no session; when the call arrives later, the line's session and call change, and so does its
finding's id. The finding recorded before is then *superseded*: a stored finding of the same
detector, whose session was provisional (none or `shell:...`) and whose events all belong to
a new finding of another session, is marked `resolved` with `superseded_by` in its evidence
(never deleted: an alert that paged it still renders).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agentaudit.schema import earliest, latest
from agentaudit.store import Store

# Severity order (the taxonomy module will own it: one place for every layer).
SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
_MERGED_COLUMNS = ("event_ids", "evidence", "title", "severity", "first_seen", "last_seen")


def provisional(session: str | None) -> bool:
    """A session a later link can still change: none, or one inferred from shell history."""
    return session is None or session.startswith("shell:")


@dataclass
class Recorded:
    new: list[dict[str, Any]] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # known findings given more evidence
    superseded: list[str] = field(default_factory=list)  # resolved: a new finding took them


def record_findings(store: Store, findings: list[dict[str, Any]]) -> Recorded:
    """Store new findings, merge known ones, supersede what a late link re-attributed."""
    if not findings:
        return Recorded()
    merged: dict[str, dict[str, Any]] = {}
    for finding in findings:
        same = merged.get(finding["finding_id"])
        merged[finding["finding_id"]] = merge(same, finding) if same else dict(finding)
    known = {
        row["finding_id"]: row
        for row in store.rows(
            f"""SELECT finding_id, {", ".join(_MERGED_COLUMNS)} FROM findings
                WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))""",
            [list(merged)],
        )
    }
    new = [f for fid, f in merged.items() if fid not in known]
    superseded = _supersede(store, new)
    if new:
        store.append_findings(new)
    updated = []
    for fid, finding in merged.items():
        if fid not in known:
            continue
        old = known[fid]
        combined = merge(old, finding)
        if {k: combined[k] for k in old} != old:
            _update(store, fid, combined)
            updated.append(fid)
    return Recorded(new, updated, superseded)


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`old` with `new`'s events added and `new`'s evidence; the span and severity widen."""
    severity = max((old["severity"], new["severity"]), key=lambda s: SEVERITY_RANK.get(s, 0))
    return {
        **old,
        "event_ids": list(dict.fromkeys([*old["event_ids"], *new["event_ids"]])),
        "evidence": new["evidence"],
        "title": new["title"],
        "severity": severity,
        "first_seen": earliest([old["first_seen"], new["first_seen"]]),
        "last_seen": latest([old["last_seen"], new["last_seen"]]),
    }


def _update(store: Store, finding_id: str, finding: dict[str, Any]) -> None:
    store.con.execute(
        f"""UPDATE findings SET {", ".join(f"{c} = ?" for c in _MERGED_COLUMNS)}
            WHERE finding_id = ?""",
        [finding[c] for c in _MERGED_COLUMNS] + [finding_id],
    )


def _supersede(store: Store, new: list[dict[str, Any]]) -> list[str]:
    """Stored findings judged before their line's link arrived, now part of a new finding:
    resolved, pointing at it. Returns their ids."""
    if not new:
        return []
    rules = sorted({f["rule_id"] for f in new})
    events = sorted({e for f in new for e in f["event_ids"]})
    candidates = store.rows(
        """SELECT finding_id, rule_id, session_id, event_ids, evidence FROM findings
           WHERE status <> 'resolved' AND rule_id IN (SELECT unnest(?::VARCHAR[]))
             AND (session_id IS NULL OR session_id LIKE 'shell:%')
             AND list_has_any(event_ids, ?::VARCHAR[])""",
        [rules, events],
    )
    superseded = []
    for old in candidates:
        successor = next(
            (
                f
                for f in new
                if f["rule_id"] == old["rule_id"]
                and f["finding_id"] != old["finding_id"]
                and f["session_id"] != old["session_id"]
                and set(old["event_ids"]) <= set(f["event_ids"])
            ),
            None,
        )
        if successor is None:
            continue
        evidence = {**json.loads(old["evidence"]), "superseded_by": successor["finding_id"]}
        store.con.execute(
            "UPDATE findings SET status = 'resolved', evidence = ? WHERE finding_id = ?",
            [json.dumps(evidence, default=str, sort_keys=True), old["finding_id"]],
        )
        superseded.append(old["finding_id"])
    return superseded
