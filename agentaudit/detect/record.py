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

Merge. A run's finding whose id is stored replaces what the stored one says about the
events the run could see: its events, span, severity, evidence and title are the run's.
Stored events the run could not see (older than a `watch` window) stay, and then the span
and the severity only widen. One-shot `detect` sees everything; `watch` sees its window. So
a correlation that gains an event counts it however it is run, and a call that looked done
and was refused a moment later no longer counts in a finding that names the call that did
it instead: what is stored is what a one-shot `detect` of the same events states.

A link that arrives after its line was judged alone. A sessionless line (a shell line, a
provider record) whose agent call was not stored yet is judged in its shell session or with
no session; when the call arrives later, the line's session and call change, and so does the
id of a finding about it. The finding recorded before is then *superseded*: a stored finding
whose session was provisional (none or `shell:...`) and none of whose events is in that
session any more, or whose events a finding of the same detector now names under the call
a later link gave them, is marked `resolved`, with `superseded_by` (the findings of its
detector that now name its events) in its evidence; never deleted: an alert that paged it
still renders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentaudit.detect.link import PROVISIONAL_REASONS
from agentaudit.schema import FindingRow, earliest, latest
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank

PROVISIONAL = ("shell:", "principal:")  # inferred sessions a later link may re-home
_MERGED_COLUMNS = ("event_ids", "evidence", "title", "severity", "first_seen", "last_seen")


@dataclass
class Recorded:
    new: list[FindingRow] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # known findings the run restated


# Which of these event ids the run could see (None: all of them, a one-shot run).
InScope = Callable[[Collection[str]], set[str]] | None


def record_findings(
    store: Store, findings: Sequence[FindingRow], in_scope: InScope = None
) -> Recorded:
    """Store new findings; restate known ones as this run sees them (see module doc)."""
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
    if new:
        store.append_findings(new)
    stored_events = {e for old in known.values() for e in old["event_ids"]}
    seen = set(stored_events) if in_scope is None else in_scope(stored_events)
    updated = []
    for fid, old in known.items():
        restated = restate(old, merged[fid], unseen=[e for e in old["event_ids"] if e not in seen])
        if {k: restated[k] for k in old} != old:
            _update(store, fid, restated)
            updated.append(fid)
    return Recorded(new, updated)


def restate(old: dict[str, Any], new: dict[str, Any], unseen: list[str]) -> dict[str, Any]:
    """A stored finding as a run states it; the stored events it could not see stay."""
    if unseen:
        widened = merge(old, new)
        return {**widened, "event_ids": list(dict.fromkeys([*new["event_ids"], *unseen]))}
    return {**old, **{k: new[k] for k in _MERGED_COLUMNS}}


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Two statements of one finding together: every event, the wider span and severity,
    the latter's evidence and title."""
    severity = max((old["severity"], new["severity"]), key=severity_rank)
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


def supersede_relinked(store: Store, since: datetime) -> list[str]:
    """Findings a link added since `since` re-attributed (see the module doc): resolved,
    naming their successors. Returns their ids."""
    candidates = store.rows(
        f"""SELECT finding_id, rule_id, session_id, event_ids, evidence FROM findings
           WHERE status <> 'resolved'
             AND list_has_any(event_ids, (SELECT list(event_id) FROM links
                                          WHERE created_at >= ? AND reason NOT IN {PROVISIONAL_REASONS}))""",
        [since],
    )
    if not candidates:
        return []
    events = sorted({e for f in candidates for e in f["event_ids"]})
    session_of = {
        r["event_id"]: r["session_key"]
        for r in store.rows(
            """SELECT event_id, session_key FROM event_sessions
               WHERE event_id IN (SELECT unnest(?::VARCHAR[]))""",
            [events],
        )
    }
    superseded = []
    for old in candidates:
        others = store.rows(
            """SELECT finding_id, session_id, event_ids FROM findings
               WHERE rule_id = ? AND finding_id <> ? AND status <> 'resolved'
                 AND list_has_any(event_ids, ?::VARCHAR[]) ORDER BY finding_id""",
            [old["rule_id"], old["finding_id"], old["event_ids"]],
        )
        moved = (
            old["session_id"] is None or old["session_id"].startswith(PROVISIONAL)
        ) and not any(session_of.get(e) == old["session_id"] for e in old["event_ids"])
        # (a provider record first linked to the refused CLI delete, then to the curl that
        # did it: the finding about it, keyed by its call, is now stated under the curl's)
        restated = any(
            o["session_id"] == old["session_id"] and set(old["event_ids"]) <= set(o["event_ids"])
            for o in others
        )
        if not (moved or restated):
            continue
        evidence = {
            **json.loads(old["evidence"]),
            "superseded_by": [o["finding_id"] for o in others],
        }
        store.con.execute(
            "UPDATE findings SET status = 'resolved', evidence = ? WHERE finding_id = ?",
            [json.dumps(evidence, default=str, sort_keys=True), old["finding_id"]],
        )
        superseded.append(old["finding_id"])
    return superseded
