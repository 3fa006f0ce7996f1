"""Who did it and what the burst was: the evidence a page and an incident name, from the store.

Read from stored (already redacted) columns of the findings' events and, for an agent's
session, of the session's own events: actors, credential ids (an AWS access key id is an
identifier, not a secret) and fingerprints, source IPs, user agents, hosts, agents and models,
each with how many of the events carry it; and the destructive operations with their counts
and targets, so a 141-delete burst reads as one summary instead of 141 lines.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from agentaudit.alert.evidence import rows_by_event_ids
from agentaudit.store import Store

WHO_COLUMNS = (
    "actor",
    "credential_id",
    "credential_fp",
    "source_ip",
    "user_agent",
    "host",
    "agent",
    "model",
    "os_user",
    "cwd",
)
SESSION_WHO = ("agent", "model", "actor", "host", "os_user", "cwd")
_UNKNOWN = (None, "", "unknown")


@dataclass
class Burst:
    """What an incident's events say about who acted and what they destroyed."""

    who: dict[str, Counter[str]] = field(default_factory=dict)  # column -> value -> events
    operations: Counter[str] = field(default_factory=Counter)  # destructive operation -> calls
    targets: Counter[str] = field(default_factory=Counter)  # destroyed target -> calls
    environments: Counter[str] = field(default_factory=Counter)
    events: int = 0
    destructive: int = 0
    first: Any = None
    last: Any = None

    def top(self, column: str) -> str | None:
        values = self.who.get(column)
        return values.most_common(1)[0][0] if values else None

    def named(self, column: str, limit: int = 3) -> str:
        """The column's values, most frequent first ('a (12), b (3)'), '' when none."""
        values = self.who.get(column) or Counter()
        shown = [f"{v} ({n})" if len(values) > 1 else v for v, n in values.most_common(limit)]
        more = len(values) - limit
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def incident_burst(store: Store, findings: list[dict[str, Any]], session: str | None) -> Burst:
    """The events the findings rest on, plus an agent session's own events for who ran it."""
    ids = sorted({i for f in findings for i in f["event_ids"]})
    columns = ", ".join(WHO_COLUMNS)
    rows = rows_by_event_ids(
        store,
        f"""SELECT event_id, time, {columns}, operation, target, target_env, destructive
            FROM events WHERE event_id IN (SELECT unnest(?::VARCHAR[])) {{span}}""",
        [ids],
        ids,
        findings,
    )
    burst = Burst()
    for row in rows:
        burst.events += 1
        for column in WHO_COLUMNS:
            if row[column] not in _UNKNOWN:
                burst.who.setdefault(column, Counter())[row[column]] += 1
        if row["destructive"]:
            burst.destructive += 1
            burst.operations[row["operation"] or "?"] += 1
            if row["target"]:
                burst.targets[row["target"]] += 1
            if row["target_env"] not in _UNKNOWN:
                burst.environments[row["target_env"]] += 1
        if row["time"] is not None:
            burst.first = row["time"] if burst.first is None else min(burst.first, row["time"])
            burst.last = row["time"] if burst.last is None else max(burst.last, row["time"])
    if session and not session.startswith(("shell:", "principal:")):
        # an agent session names its agent, model, user and host on its own events
        picks = ", ".join(
            f"any_value({c}) FILTER (WHERE {c} IS NOT NULL AND {c} NOT IN ('', 'unknown')) AS {c}"
            for c in SESSION_WHO
        )
        [own] = store.rows(f"SELECT {picks} FROM events WHERE session_id = ?", [session])
        for column in SESSION_WHO:
            if own[column] and column not in burst.who:
                burst.who[column] = Counter({own[column]: 0})
    return burst


def burst_lines(burst: Burst, limit: int = 6) -> list[str]:
    """'What' in a few lines: operations with counts, targets, the span."""
    if burst.destructive <= 1:
        return []
    span = ""
    if burst.first is not None and burst.last is not None and burst.last > burst.first:
        span = f" over {_duration((burst.last - burst.first).total_seconds())}"
    ops = ", ".join(f"{op} x{n}" for op, n in burst.operations.most_common(limit))
    more_ops = len(burst.operations) - limit
    lines = [
        f"Burst: {burst.destructive} destructive calls on {len(burst.targets)} targets{span}",
        f"  operations: {ops}" + (f" and {more_ops} more" if more_ops > 0 else ""),
    ]
    if burst.targets:
        shown = ", ".join(t for t, _ in burst.targets.most_common(limit))
        more = len(burst.targets) - limit
        lines.append(f"  targets: {shown}" + (f" and {more} more" if more > 0 else ""))
    return lines


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
