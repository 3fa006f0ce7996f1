"""A burst of destructive calls: at least K in a W-second run, per session.

Calls, not rows: the hook's before/after records, the shell line and the provider's record
of one call share a call key and count once. A run continues while the gap between
consecutive destructive calls stays within W.
"""

from __future__ import annotations

from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo

MIN_CALLS = 2
WINDOW_SECONDS = 30


class DestructiveBurst(Detector):
    info = DetectorInfo(
        id="destructive-burst",
        title="Burst of destructive calls in one session",
        severity="high",
        kind="correlation",
        description=f"At least {MIN_CALLS} destructive calls in one session, each within "
        f"{WINDOW_SECONDS} s of the previous one.",
    )

    def __init__(self, min_calls: int = MIN_CALLS, window_seconds: int = WINDOW_SECONDS) -> None:
        self.min_calls = min_calls
        self.window_seconds = window_seconds

    def query(self) -> str:
        return f"""
        WITH calls AS (
            SELECT session_key, call_key, min(time) AS t, list(event_id ORDER BY time) AS ids,
                   any_value(operation) FILTER (WHERE kind = 'process') AS operation,
                   any_value(status = 'failure') AS failed
            FROM event_sessions
            WHERE destructive AND kind IN ('process', 'api') AND session_key IS NOT NULL
            GROUP BY session_key, call_key
        ), starts AS (
            SELECT *, CASE WHEN t - lag(t) OVER (PARTITION BY session_key ORDER BY t)
                               <= INTERVAL {self.window_seconds} SECOND THEN 0 ELSE 1 END AS new_run
            FROM calls
        ), runs AS (
            SELECT *, sum(new_run) OVER (PARTITION BY session_key ORDER BY t
                                         ROWS UNBOUNDED PRECEDING) AS run
            FROM starts
        )
        SELECT session_key, arg_min(call_key, t) AS finding_key,
               flatten(list(ids ORDER BY t)) AS event_ids,
               min(t) AS first_seen, max(t) AS last_seen,
               to_json({{calls: count(*), operations: list(operation ORDER BY t),
                         window_seconds: {self.window_seconds},
                         span_ms: epoch_ms(max(t)) - epoch_ms(min(t))}}) AS evidence
        FROM runs
        GROUP BY session_key, run
        HAVING count(*) >= {self.min_calls}
        """

    def title(self, evidence: dict[str, Any]) -> str:
        seconds = (evidence.get("span_ms") or 0) / 1000
        return f"{evidence.get('calls')} destructive calls within {seconds:.1f} s in one session"
