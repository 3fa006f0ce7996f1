"""What an analyst narrows a list to: severity, time range, actor, credential, source,
environment, status; with a limit and an order. Shared by `incidents list`, `timeline` and the
dashboard, so the three agree on what "actor contains x" means.

Text filters (actor, credential) match a part of the value, case-insensitively (an ARN or a key
id is long; an analyst types a piece of it); source, environment, status and severity match
exactly. A listing says how many matched in all (`Page.total`), whatever the limit shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from agentaudit.taxonomy import severity_rank_sql

T = TypeVar("T")

# sort name -> ORDER BY over the incidents view (ties broken by id: a stable page)
INCIDENT_SORTS: dict[str, str] = {
    "newest": "started DESC NULLS LAST, incident_id",
    "oldest": "started ASC NULLS LAST, incident_id",
    "severity": f"{severity_rank_sql()} DESC, started DESC NULLS LAST, incident_id",
    "findings": "findings DESC, started DESC NULLS LAST, incident_id",
    "duration": "duration_ms DESC NULLS LAST, started DESC NULLS LAST, incident_id",
}
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Filters:
    severity: tuple[str, ...] = ()  # any of these; empty: all
    since: datetime | None = None  # overlaps [since, until]
    until: datetime | None = None
    actor: str | None = None  # a part of the actor (ARN, user), any case
    credential: str | None = None  # a part of the key id or fingerprint
    source: str | None = None
    environment: str | None = None
    status: str | None = None
    limit: int | None = DEFAULT_LIMIT  # None: every match
    sort: str = "newest"
    exact_actor: bool = False  # the actor equals the value (chosen from a list)

    def __post_init__(self) -> None:
        if self.sort not in INCIDENT_SORTS:
            raise ValueError(f"sort by one of {', '.join(INCIDENT_SORTS)}, not {self.sort!r}")
        if self.limit is not None and self.limit < 1:
            raise ValueError("the limit must be at least 1")

    def describe(self) -> str:
        """The filters in force, in one line ('' when none)."""
        parts = [
            f"severity {'/'.join(self.severity)}" if self.severity else "",
            f"from {self.since:%Y-%m-%d %H:%M}" if self.since else "",
            f"to {self.until:%Y-%m-%d %H:%M}" if self.until else "",
            *(
                f"{name} ~ {value!r}"
                if name == "credential" or (name == "actor" and not self.exact_actor)
                else f"{name} {value}"
                for name in ("actor", "credential", "source", "environment", "status")
                if (value := getattr(self, name))
            ),
        ]
        return ", ".join(p for p in parts if p)


@dataclass
class Page(Generic[T]):
    """What is shown and how many matched in all."""

    rows: list[T]
    total: int
    filters: Filters = field(default_factory=Filters)

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)

    def count_line(self, noun: str) -> str:
        """'312 incidents (first 50 shown)': the true count, always."""
        plural = noun if self.total == 1 else f"{noun}s"
        shown = f" (first {len(self.rows):,} shown)" if self.truncated else ""
        where = f"; {self.filters.describe()}" if self.filters.describe() else ""
        return f"{self.total:,} {plural}{shown}{where}"


def incident_where(filters: Filters) -> tuple[str, list[Any]]:
    """SQL conditions over the `incidents` view, and their parameters."""
    conditions: list[str] = []
    params: list[Any] = []
    if filters.severity:
        conditions.append("list_contains(?::VARCHAR[], severity)")
        params.append(list(filters.severity))
    if filters.status:
        conditions.append("status = ?")
        params.append(filters.status)
    if filters.since:  # an incident still going on at `since` counts
        conditions.append("coalesce(ended, started) >= ?")
        params.append(filters.since)
    if filters.until:
        conditions.append("started <= ?")
        params.append(filters.until)
    for column, value in (("actors", filters.actor), ("credentials", filters.credential)):
        if value and filters.exact_actor and column == "actors":
            conditions.append(f"list_contains({column}, ?)")
            params.append(value)
        elif value:
            conditions.append(f"contains(lower(array_to_string({column}, chr(10))), lower(?))")
            params.append(value)
    for column, value in (("sources", filters.source), ("environments", filters.environment)):
        if value:
            conditions.append(f"list_contains({column}, ?)")
            params.append(value)
    return (" AND ".join(conditions) or "TRUE"), params


def matches_text(
    values: list[str | None] | tuple[str | None, ...], part: str | None, exact: bool = False
) -> bool:
    """Whether any value contains `part`, any case (no `part`: yes); `exact`: equals it."""
    if not part:
        return True
    if exact:
        return part in values
    needle = part.lower()
    return any(v and needle in v.lower() for v in values)
