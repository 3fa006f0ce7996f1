"""Detectors turn stored events into findings. Each is a small class with its own tests.

A detector's SQL reads the `event_sessions` view (events with their session and call keys)
and returns one row per finding with the columns in `FINDING_ROW`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from agentaudit.enrich.secrets import scrub
from agentaudit.schema import FindingRow, stable_id
from agentaudit.store import Store, now

# Columns a detector's query returns (a `severity` column, when present, overrides the default).
FINDING_ROW = ("session_key", "finding_key", "event_ids", "first_seen", "last_seen", "evidence")


@dataclass(frozen=True, slots=True)
class DetectorInfo:
    id: str
    title: str
    severity: str
    kind: str  # rule, correlation, behaviour, model
    description: str


def scrubbed(findings: list[FindingRow]) -> list[FindingRow]:
    """Findings with title and evidence scrubbed before they are stored: evidence quotes
    stored (redacted) columns, and this is the second gate (`secrets.scrub`)."""
    # (`or ""`: scrub keeps a text a text; the None it allows is for None in)
    return [
        {**f, "title": scrub(f["title"]) or "", "evidence": scrub(f["evidence"]) or ""}
        for f in findings
    ]


class DetectorRefused(Exception):
    """The detector will not run as it is (a model that does not fit this code): the run
    reports it with this message, never uses it silently."""


class Detector(ABC):
    info: ClassVar[DetectorInfo]
    # A condition on one event (SQL over `events`) that every finding of this detector needs
    # somewhere in its input: the driver skips the detector when no event in scope meets it
    # (a `watch` window of benign lines runs none). None: always run.
    anchor: ClassVar[str | None] = None
    # Restates what the others find, at a cost: with a page waiting (`watch`), it runs after
    # the others' urgent findings are recorded and paged.
    runs_after_page: ClassVar[bool] = False

    @abstractmethod
    def query(self) -> str:
        """SQL over `event_sessions` returning the FINDING_ROW columns."""

    def prepare(self) -> None:
        """Load what the first run would otherwise load (a service calls it at start, so the
        first page does not pay for it). Nothing by default."""
        return None

    def title(self, evidence: dict[str, Any]) -> str:
        return self.info.title

    def problems(self) -> list[str]:
        """What went wrong in its last run without stopping it (a broken rule of a pack)."""
        return []

    def run(self, store: Store) -> list[FindingRow]:
        rows = store.rows(self.query())
        return [self._finding(row) for row in rows]

    def _finding(self, row: dict[str, Any]) -> FindingRow:
        evidence = (
            json.loads(row["evidence"]) if isinstance(row["evidence"], str) else row["evidence"]
        )
        session = row["session_key"]
        group_key = f"session:{session}" if session else f"orphan:{row['finding_key']}"
        return {
            "finding_id": stable_id(self.info.id, session, row["finding_key"]),
            "rule_id": self.info.id,
            "title": self.title(evidence),
            "severity": row.get("severity") or self.info.severity,
            "kind": self.info.kind,
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
            "event_ids": list(row["event_ids"]),
            "session_id": session,
            "group_key": group_key,
            "status": "open",
            "evidence": json.dumps(evidence, default=str, sort_keys=True),
            "created_at": now(),
        }
