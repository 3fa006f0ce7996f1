"""A timeline as steps: the rows of one action across sources merged, and the provider's lag.

The agent's tool call (before and after), the shell line it produced and the provider's audit
record of it share a `call_key` in `event_sessions`; here they become one step. The report also
measures how long after the first destructive call the provider recorded a destructive action.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from agentaudit.analyst.filters import Filters, matches_text
from agentaudit.analyst.incidents import resolve_id
from agentaudit.analyst.timeline import (
    TimelineRow,
    incident_timeline,
    session_timeline,
    window_timeline,
)
from agentaudit.store import Store
from agentaudit.taxonomy import max_severity, severity_rank

PROVIDER_KIND = "api"


@dataclass(frozen=True, slots=True)
class Step:
    offset_ms: int
    end_ms: int
    call_key: str
    what: str
    detail: str
    sources: tuple[str, ...]
    target: str | None
    target_env: str | None
    status: str | None
    destructive: bool
    fired: tuple[str, ...]
    rows: tuple[TimelineRow, ...]
    decided_by: str | None = None  # a human when any row says so, else the first one known
    actor: str | None = None  # the first row's that names one (provider principal, user)
    severity: str | None = None  # the highest of its rows'

    @property
    def time(self) -> datetime | None:
        return next((r.time for r in self.rows if r.time is not None), None)

    @property
    def provider_rows(self) -> tuple[TimelineRow, ...]:
        return tuple(r for r in self.rows if r.kind == PROVIDER_KIND)

    @property
    def call_rows(self) -> tuple[TimelineRow, ...]:
        return tuple(r for r in self.rows if r.kind != PROVIDER_KIND)

    def as_dict(self) -> dict[str, Any]:
        return {
            "offset_ms": self.offset_ms,
            "end_ms": self.end_ms,
            "call_key": self.call_key,
            "what": self.what,
            "detail": self.detail,
            "sources": list(self.sources),
            "target": self.target,
            "target_env": self.target_env,
            "status": self.status,
            "destructive": self.destructive,
            "fired": list(self.fired),
            "rows": [r.as_dict() for r in self.rows],
            "decided_by": self.decided_by,
            "actor": self.actor,
            "severity": self.severity,
        }


@dataclass(frozen=True, slots=True)
class ProviderGap:
    """The first destructive call, and the first provider record of a destructive action."""

    first_destructive_ms: int
    first_destructive_what: str
    first_destructive_status: str | None
    record_ms: int | None = None
    record_what: str | None = None
    record_env: str | None = None
    confirmed_call_ms: int | None = None  # the call the record is of (same step)
    confirmed_call_what: str | None = None

    @property
    def gap_ms(self) -> int | None:
        """From the first destructive call to the provider's first destructive record."""
        return None if self.record_ms is None else self.record_ms - self.first_destructive_ms

    @property
    def call_to_record_ms(self) -> int | None:
        """From the call the provider recorded to its record."""
        if self.record_ms is None or self.confirmed_call_ms is None:
            return None
        return self.record_ms - self.confirmed_call_ms

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_destructive_ms": self.first_destructive_ms,
            "first_destructive_what": self.first_destructive_what,
            "first_destructive_status": self.first_destructive_status,
            "provider_record_ms": self.record_ms,
            "provider_record_what": self.record_what,
            "provider_record_env": self.record_env,
            "confirmed_call_ms": self.confirmed_call_ms,
            "confirmed_call_what": self.confirmed_call_what,
            "gap_ms": self.gap_ms,
            "call_to_record_ms": self.call_to_record_ms,
        }


@dataclass
class TimelineReport:
    title: str
    scope: dict[str, Any]
    rows: list[TimelineRow]
    steps: list[Step] = field(default_factory=list)  # the steps shown (after any filters)
    gap: ProviderGap | None = None  # of the whole timeline, whatever is shown
    total_steps: int = 0  # every step of the timeline
    matched: int | None = None  # steps the filters kept (before the limit); None: no filters
    filters: Filters | None = None

    unfiltered: list[Step] | None = None  # every step, when `steps` is filtered

    @property
    def every_step(self) -> list[Step]:
        return self.steps if self.unfiltered is None else self.unfiltered

    @property
    def count_line(self) -> str | None:
        """'18 of 1,904 steps match severity critical, actor ~ 'bert' (first 3 shown)'."""
        if self.matched is None or self.filters is None:
            return None
        what = self.filters.describe() or "the filters"
        shown = f" (first {len(self.steps):,} shown)" if len(self.steps) < self.matched else ""
        return f"{self.matched:,} of {self.total_steps:,} steps match {what}{shown}"

    @property
    def start(self) -> datetime | None:
        return self.rows[0].time if self.rows else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "scope": self.scope,
            "start": self.start.isoformat(timespec="milliseconds") if self.start else None,
            "gap": self.gap.as_dict() if self.gap else None,
            "total_steps": self.total_steps,
            "matched_steps": self.matched,
            "steps": [s.as_dict() for s in self.steps],
        }


def build_report(title: str, scope: dict[str, Any], rows: list[TimelineRow]) -> TimelineReport:
    steps = group_steps(rows)
    return TimelineReport(title, scope, rows, steps, provider_gap(steps), total_steps=len(steps))


# sort name -> key over steps (T+ order breaks ties)
_STEP_SORTS = {
    "oldest": lambda s: (s.offset_ms, s.end_ms),
    "newest": lambda s: (-s.offset_ms, -s.end_ms),
    "severity": lambda s: (-severity_rank(s.severity or "info"), s.offset_ms),
    "findings": lambda s: (-len(s.fired), s.offset_ms),
    "duration": lambda s: (s.offset_ms - s.end_ms, s.offset_ms),
}


def filter_steps(report: TimelineReport, filters: Filters) -> TimelineReport:
    """The report with only the steps the filters keep, in their order, up to their limit.
    T+ offsets and the provider gap stay those of the whole timeline."""
    kept = [s for s in report.steps if step_matches(s, filters)]
    kept.sort(key=_STEP_SORTS.get(filters.sort, _STEP_SORTS["oldest"]))
    shown = kept if filters.limit is None else kept[: filters.limit]
    return replace(
        report, steps=shown, matched=len(kept), filters=filters, unfiltered=report.every_step
    )


def step_matches(step: Step, filters: Filters) -> bool:
    """Whether a step passes every filter (a row of it naming the actor, credential... will do)."""
    if filters.severity and (step.severity or "info") not in filters.severity:
        return False
    if filters.status and step.status != filters.status:
        return False
    if filters.since or filters.until:
        if step.time is None:  # an untimed step is in no time range
            return False
        if (filters.since and step.time < filters.since) or (
            filters.until and step.time > filters.until
        ):
            return False
    if filters.source and filters.source not in step.sources:
        return False
    if filters.environment and filters.environment not in {r.target_env for r in step.rows}:
        return False
    actors = [r.actor for r in step.rows]
    return matches_text(actors, filters.actor, filters.exact_actor) and matches_text(
        [r.credential for r in step.rows], filters.credential
    )


def group_steps(rows: list[TimelineRow]) -> list[Step]:
    """Rows sharing a call_key become one step, placed at its first row."""
    grouped: dict[str, list[TimelineRow]] = {}
    for row in rows:
        grouped.setdefault(row.call_key, []).append(row)
    steps = [_step(members) for members in grouped.values()]
    steps.sort(key=lambda s: (s.offset_ms, s.end_ms))
    return steps


def _step(members: list[TimelineRow]) -> Step:
    lead = _lead(members)
    envs = [r.target_env for r in members if r.target_env not in (None, "unknown")]
    statuses = {r.status for r in members}
    status = "failure" if "failure" in statuses else "denied" if "denied" in statuses else None
    status = status or next((s for s in (r.status for r in members) if s != "unknown"), None)
    ordered = (lead, *(r for r in members if r is not lead))
    fired: list[str] = []
    for row in members:
        fired.extend(rule for rule in row.fired if rule not in fired)
    return Step(
        offset_ms=members[0].offset_ms,
        end_ms=members[-1].offset_ms,
        call_key=members[0].call_key,
        what=lead.what,
        detail=lead.detail,
        sources=tuple(dict.fromkeys(r.source for r in ordered)),
        target=next((r.target for r in members if r.target), None),
        target_env=envs[0] if envs else lead.target_env,
        status=status,
        destructive=any(r.destructive for r in members),
        fired=tuple(fired),
        rows=ordered,
        decided_by=_decider(members),
        actor=next((r.actor for r in ordered if r.actor), None),
        severity=max_severity(*(r.severity for r in members if r.severity)),
    )


def _decider(members: list[TimelineRow]) -> str | None:
    known = [r.decided_by for r in members if r.decided_by not in (None, "unknown")]
    return "human" if "human" in known else known[0] if known else None


def _lead(members: list[TimelineRow]) -> TimelineRow:
    """The row that names the step: the agent's own record, else the shell's, else the first."""
    for wanted in (
        lambda r: r.kind != PROVIDER_KIND and r.origin != "shell",
        lambda r: r.kind != PROVIDER_KIND,
    ):
        found = next((r for r in members if wanted(r)), None)
        if found:
            return found
    return members[0]


def row_note(row: TimelineRow) -> str:
    """One linked row of a step, as a short line: T+, source, what, outcome, environment."""
    text = f"T+{row.offset_ms:,} {row.source}: {row.what}"
    if row.status in ("failure", "denied"):
        text += f" ({'refused' if row.status == 'failure' else 'denied'})"
    if row.target_env not in (None, "unknown"):
        text += f" [{row.target_env}]"
    return text


def provider_gap(steps: list[Step]) -> ProviderGap | None:
    calls = [s for s in steps if s.destructive and s.call_rows]
    if not calls:
        return None
    first = calls[0]
    records = sorted(
        ((r, s) for s in steps for r in s.provider_rows if r.destructive),
        key=lambda pair: pair[0].offset_ms,
    )
    gap = ProviderGap(first.offset_ms, first.what, first.status)
    if not records:
        return gap
    record, step = records[0]
    confirmed = step.call_rows[0] if step.call_rows else None
    return ProviderGap(
        first.offset_ms,
        first.what,
        first.status,
        record_ms=record.offset_ms,
        record_what=record.what,
        record_env=record.target_env,
        confirmed_call_ms=confirmed.offset_ms if confirmed else None,
        confirmed_call_what=confirmed.what if confirmed else None,
    )


def report_for(
    store: Store,
    *,
    incident: str | None = None,
    session: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    host: str | None = None,
) -> TimelineReport:
    """The timeline of an incident, a session (optionally a window of it) or a time window."""
    if incident:
        full = resolve_id(store, incident)
        head = store.rows(
            "SELECT title, sessions, started, ended FROM incidents WHERE incident_id = ?", [full]
        )[0]
        rows = incident_timeline(store, full)
        if not rows and not head["sessions"]:  # no session at all: every row in its window
            rows = window_timeline(store, head["started"], head["ended"])
        return build_report(f"Incident {full[:12]}: {head['title']}", {"incident": full}, rows)
    if session:
        rows = session_timeline(store, session, start, end)
        return build_report(f"Session {session}", {"session": session}, rows)
    if start is None or end is None:
        raise ValueError("give an incident, a session, or both ends of a time window")
    rows = window_timeline(store, start, end, host)
    scope = {"from": start.isoformat(), "to": end.isoformat(), "host": host}
    where = f" on {host}" if host else ""
    title = f"{start.isoformat(timespec='seconds')} to {end.isoformat(timespec='seconds')}{where}"
    return build_report(title, scope, rows)
