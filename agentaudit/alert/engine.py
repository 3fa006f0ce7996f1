"""The alert engine: one tick of Alertmanager's dispatcher at `clock.now()`.

`evaluate` runs, in one transaction:
1. alerts whose end has passed resolve, and incidents whose alerts all have (`membership`);
   after `reclassify`, open alerts whose findings' labels changed end (`relabel`);
2. open findings not yet in an alert are posted as alerts (labels, fingerprint; end = now +
   resolve_timeout), join their incident and the group of every route they match (`grouping`);
3. silences and inhibition mark alerts suppressed (`suppression`);
4. every change of an incident appends an OCSF Detection Finding record (`lifecycle`);
5. groups whose tick is due are flushed through Alertmanager's pipeline (`dispatch`) and what
   a receiver is to be told is queued in the outbox, one row per target (`notify`).
Delivery itself is `delivery.outbox.deliver_due`. `scope` (what `watch` passes: the findings
its pass recorded) limits step 2 to those findings. `next_wakeup` says when the next tick is
due, for a daemon or a replay that moves the clock itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentaudit.alert import notify
from agentaudit.alert.clock import Clock, SystemClock
from agentaudit.alert.config import AlertingConfig
from agentaudit.alert.dispatch import Notification, flush_due
from agentaudit.alert.grouping import join_groups
from agentaudit.alert.lifecycle import record_changes
from agentaudit.alert.membership import Changes, close_emptied, post_findings, resolve_ended
from agentaudit.alert.relabel import end_relabelled
from agentaudit.alert.suppression import update_states
from agentaudit.store import Store
from agentaudit.taxonomy import severity_rank

acknowledge = notify.acknowledge  # (its home is notify; callers import it from here)


@dataclass
class EvalReport:
    changed: list[dict[str, Any]] = field(default_factory=list)  # incidents created or changed
    notifications: list[dict[str, Any]] = field(default_factory=list)  # outbox rows enqueued
    records: int = 0  # OCSF finding lifecycle records written
    dispatched: list[Notification] = field(default_factory=list)  # to receivers with targets
    unsent: list[Notification] = field(default_factory=list)  # firing; receiver has no target

    def unsent_summary(self) -> str:
        """One loud line when firing alerts reached nobody, else ''."""
        if not self.unsent:
            return ""
        alerts = [a for n in self.unsent for a in n.firing()]
        receivers = sorted({n.receiver for n in self.unsent})
        worst = sorted({a["severity"] for a in alerts}, key=lambda s: -severity_rank(s))
        return (
            f"{len(alerts)} firing alert(s) ({', '.join(worst)}) went to receiver "
            f"{', '.join(receivers)}, which has no target: NOBODY WAS NOTIFIED. Configure "
            "alerting.yml (README, Alerting) or pass --notify URL."
        )


def evaluate(
    store: Store,
    config: AlertingConfig,
    clock: Clock | None = None,
    *,
    scope: list[str] | None = None,
) -> EvalReport:
    """One tick; `scope`: only these findings are new (None: every open finding)."""
    now = (clock or SystemClock()).now()
    report = EvalReport()
    changes: Changes = {}
    store.con.execute("BEGIN TRANSACTION")
    try:
        resolve_ended(store, now, changes)
        relabelled, reposted = end_relabelled(store, config, now, changes)
        if scope is not None and reposted:
            scope = [*scope, *reposted]
        posted = post_findings(store, config, now, changes, scope)
        for alert_id in sorted(close_emptied(store, relabelled, now)):
            changes.setdefault(alert_id, []).append(("closed", ""))
        join_groups(store, config, posted, now)
        muter = update_states(store, config.inhibit_rules, now, changes)
        report.records, report.changed = record_changes(store, now, changes)
        flushed = flush_due(store, config, muter, now)
        for note in flushed.sent:
            report.notifications += notify.enqueue(store, config, note, now)
        report.dispatched, report.unsent = flushed.sent, flushed.unsent
        store.con.execute("COMMIT")
    except BaseException:
        store.con.execute("ROLLBACK")
        raise
    return report


def next_wakeup(store: Store, after: datetime, *, ticks_only: bool = False) -> datetime | None:
    """When something is next due after `after`: a group's tick, an alert's end, a silence
    starting or ending (with `ticks_only`, a group's tick: the only moment anyone is told).
    None when nothing is waiting."""
    if ticks_only:
        return store.con.execute("SELECT min(next_flush_at) FROM alert_groups").fetchall()[0][0]
    row = store.con.execute(
        """SELECT least((SELECT min(next_flush_at) FROM alert_groups),
                        (SELECT min(ends_at) FROM alert_members WHERE state <> 'resolved'),
                        (SELECT min(t) FROM (SELECT starts_at AS t FROM silences
                                             UNION ALL SELECT ends_at FROM silences)
                         WHERE t > ?))""",
        [after],
    ).fetchall()
    return row[0][0]
