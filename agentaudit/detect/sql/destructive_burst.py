"""A burst of destructive calls: at least K in a W-second run, per session or per principal.

Calls, not rows: the hook's before/after records, the shell line and the provider's record
of one call share a call key and count once. A run continues while the gap between
consecutive destructive calls stays within W. Provider records no session claims are counted
per principal (actor, else credential fingerprint): the Terraform teardown in the Invictus
CloudTrail sample is 74 deletes a minute by one IAM user.

Defaults K=2, W=30 s: two destructive calls half a minute apart are rare in ordinary agent
work (the corpus has none) and every incident replay has them. Override with the environment
variables AGENTAUDIT_BURST_MIN_CALLS and AGENTAUDIT_BURST_WINDOW_SECONDS.

Calls the command analysis rates low severity do not count: deleting what a build regenerates
inside the project (`rm -rf node_modules`, `rm -rf build dist`, temp files) loses nothing,
and `make clean` style pairs of them made most bursts on generated ordinary work (2,638
findings over a million events counting them, 455 without: `git reset --hard` with
`git clean -fdx` and the like, which do lose work) while no incident replay needs them.
"""

from __future__ import annotations

import os
from typing import Any

from agentaudit.detect.base import Detector, DetectorInfo

MIN_CALLS = 2
WINDOW_SECONDS = 30


class DestructiveBurst(Detector):
    info = DetectorInfo(
        id="destructive-burst",
        title="Burst of destructive calls in one session or by one principal",
        severity="high",
        kind="correlation",
        description=f"At least {MIN_CALLS} destructive calls in one session (or by one "
        f"principal), each within {WINDOW_SECONDS} s of the previous one (configurable).",
    )
    anchor = "destructive"

    def __init__(self, min_calls: int | None = None, window_seconds: int | None = None) -> None:
        self.min_calls = min_calls or int(os.environ.get("AGENTAUDIT_BURST_MIN_CALLS", MIN_CALLS))
        self.window_seconds = window_seconds or int(
            os.environ.get("AGENTAUDIT_BURST_WINDOW_SECONDS", WINDOW_SECONDS)
        )

    def query(self) -> str:
        return f"""
        WITH calls AS (
            SELECT coalesce(session_key, 'principal:' || coalesce(actor, credential_fp)) AS owner,
                   any_value(session_key) AS session_key,
                   -- the principal the provider logged (a burst names who did it)
                   any_value(coalesce(actor, credential_id, credential_fp))
                       FILTER (WHERE kind = 'api' OR session_key IS NULL
                               OR starts_with(session_key, 'principal:')) AS principal, call_key, min(time) AS t,
                   list(event_id ORDER BY time) AS ids,
                   coalesce(any_value(operation) FILTER (WHERE kind = 'process'),
                            any_value(operation)) AS operation,
                   any_value(status = 'failure') AS failed,
                   -- one call the provider recorded as many destructive actions (a
                   -- `terraform destroy` linked to its records) counts each of them
                   greatest(count(*) FILTER (WHERE kind = 'api'), 1) AS actions
            FROM event_sessions
            WHERE destructive AND kind IN ('process', 'api')
              AND coalesce(severity, '') <> 'low'  -- regenerable, in-project: not a loss
              AND (session_key IS NOT NULL OR actor IS NOT NULL OR credential_fp IS NOT NULL)
            GROUP BY owner, call_key
        ), starts AS (
            SELECT *, CASE WHEN t - lag(t) OVER (PARTITION BY owner ORDER BY t)
                               <= INTERVAL {self.window_seconds} SECOND THEN 0 ELSE 1 END AS new_run
            FROM calls
        ), runs AS (
            SELECT *, sum(new_run) OVER (PARTITION BY owner ORDER BY t
                                         ROWS UNBOUNDED PRECEDING) AS run
            FROM starts
        )
        SELECT any_value(session_key) AS session_key, arg_min(call_key, t) AS finding_key,
               flatten(list(ids ORDER BY t)) AS event_ids,
               min(t) AS first_seen, max(t) AS last_seen,
               to_json({{calls: sum(actions), operations: list(operation ORDER BY t),
                         window_seconds: {self.window_seconds}, owner: owner,
                         principal: any_value(principal),
                         span_ms: epoch_ms(max(t)) - epoch_ms(min(t))}}) AS evidence
        FROM runs
        GROUP BY owner, run
        HAVING sum(actions) >= {self.min_calls}
        """

    def title(self, evidence: dict[str, Any]) -> str:
        seconds = (evidence.get("span_ms") or 0) / 1000
        principal = evidence.get("principal")
        who = f"by {principal}" if principal else "in one session"
        return f"{evidence.get('calls')} destructive calls within {seconds:.1f} s {who}"
