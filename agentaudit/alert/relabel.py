"""After `reclassify`, open alerts whose findings' labels changed end, and their findings are
posted again with the new labels.

An alert's labels are its identity (Alertmanager's, and ours: `membership`). When enrichment
is re-applied to stored events (`agentaudit reclassify`: a new `environments.yaml`, catalog or
pack), a finding already posted may now carry other labels, e.g. `environment=production`.
As Prometheus does when a rule's labels change, the old alert ends and the finding fires as a
new alert, so the routes on the new labels match on the next run. Only alerts posted before
the latest reclassify run that changed rows are looked at, and only while they are open.
"""

from __future__ import annotations

from datetime import datetime

from agentaudit.alert.config import AlertingConfig
from agentaudit.alert.labels import fingerprint, open_finding_events
from agentaudit.alert.membership import Changes, continued_sessions, labels_of
from agentaudit.store import Store


def end_relabelled(
    store: Store, config: AlertingConfig, now: datetime, changes: Changes
) -> tuple[set[str], list[str]]:
    """End the open alerts posted before the last reclassify whose findings now have other
    labels (their findings stay open, to be posted again); returns their incidents and
    those findings."""
    last = store.con.execute(
        "SELECT max(ran_at) FROM reclassify_runs WHERE changed_rows > 0"
    ).fetchall()[0][0]
    if last is None:
        return set(), []
    members = store.rows(
        """SELECT alert_id, fingerprint, finding_ids FROM alert_members
           WHERE state <> 'resolved' AND starts_at <= ?""",
        [last],
    )
    if not members:
        return set(), []
    finding_ids = sorted({f for m in members for f in m["finding_ids"] or []})
    findings = {
        f["finding_id"]: f
        for f in store.rows(
            "SELECT * FROM findings WHERE finding_id IN (SELECT unnest(?::VARCHAR[]))",
            [finding_ids],
        )
    }
    events_of = open_finding_events(store, finding_ids, list(findings.values()))
    continued = continued_sessions(store)
    ended: set[str] = set()
    reposted: list[str] = []
    for member in members:
        now_labels = [
            fingerprint(labels_of(findings[f], events_of.get(f, []), config, continued))
            for f in member["finding_ids"] or []
            if f in findings
        ]
        if now_labels and any(fp != member["fingerprint"] for fp in now_labels):
            store.con.execute(
                """UPDATE alert_members SET state = 'resolved', ends_at = ?, updated_at = ?
                   WHERE alert_id = ? AND fingerprint = ?""",
                [now, now, member["alert_id"], member["fingerprint"]],
            )
            changes.setdefault(member["alert_id"], []).append(("resolved", member["fingerprint"]))
            ended.add(member["alert_id"])
            reposted += member["finding_ids"]
    return ended, reposted
