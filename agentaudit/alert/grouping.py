"""Alert identity: the alert (group) id is a hash of the group key.

The same incident keeps the same id (= PagerDuty dedup_key = OCSF `finding_info.uid`)
however often detection runs. The grouping itself lives in `agentaudit.alert.engine`.
"""

from __future__ import annotations

from agentaudit.schema import stable_id


def alert_id_for(group_key: str) -> str:
    return stable_id("alert", group_key)
