"""`source-silent`: a source that has reported before stops while its host keeps reporting.

The judgement is `agentaudit/health/sources.py` (quiet periods configured or learned, a
sleeping host told from a silent source); this detector turns each silent source into one
finding per silence (its key is the source, host and last report, so the same silence is
restated, never paged twice, and a new silence after it reported again is a new finding).
It reads the stored table, not a window: `watch` runs it on a clock (`on_clock`), since a
silence brings no event to detect on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from agentaudit.detect.base import Detector, DetectorInfo
from agentaudit.health.config import HealthConfig, load_health_config
from agentaudit.health.sources import SourceHealth, silent_sources
from agentaudit.schema import FindingRow
from agentaudit.store import Store, now


class SourceSilent(Detector):
    info = DetectorInfo(
        id="source-silent",
        title="An audit source went silent while its host kept reporting",
        severity="high",
        kind="rule",
        description="A source that reported before has been quiet for longer than its "
        "configured or learned quiet period while other sources of the same host reported "
        "after that deadline (a host whose sources all stop together is asleep, not silent).",
    )
    on_clock: ClassVar[bool] = True  # a silence brings no event: run on a timer

    def __init__(
        self, config: HealthConfig | None = None, clock: Callable[[], datetime] = now
    ) -> None:
        self.config = config  # None: the user's sources.yaml, read at each run
        self.clock = clock

    def query(self) -> str:
        return "SELECT NULL WHERE false"  # judged in Python over per-source aggregates: run()

    def title(self, evidence: dict[str, Any]) -> str:
        where = evidence["host"] or "this machine"
        return (
            f"{evidence['source']} silent for {evidence['silent_for']} while {where} kept reporting"
        )

    def run(self, store: Store) -> list[FindingRow]:
        config = self.config or load_health_config()
        silent = silent_sources(store, config, self.clock())
        return [self._finding(_row(health)) for health in silent]


def _row(health: SourceHealth) -> dict[str, Any]:
    evidence = {
        "source": health.source,
        "host": health.host,
        "last_report": health.last_seen.isoformat(),
        "silent_for": str(timedelta(seconds=round(health.silent_seconds))),
        "quiet_period": str(timedelta(seconds=round(health.quiet_seconds or 0))),
        "quiet_from": health.quiet_from,
        "usual_gap_seconds": health.usual_gap_seconds,
        "reports": health.reports,
    }
    return {
        "session_key": None,
        "finding_key": f"{health.source}@{health.host}@{health.last_seen.isoformat()}",
        "event_ids": [health.last_event_id],
        "first_seen": health.last_seen,
        "last_seen": health.last_seen,
        "evidence": json.dumps(evidence, sort_keys=True),
    }
