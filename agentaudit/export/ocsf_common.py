"""What every OCSF record of agentaudit shares: the version, severities, epoch milliseconds,
no nulls, and the API owner's name (used by `ocsf.py` and `ocsf_activity.py`)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from agentaudit.collectors import collector_for_source
from agentaudit.taxonomy import SEVERITIES, severity_rank

OCSF_VERSION = "1.8.0"
# OCSF severity_id: 1 Informational .. 5 Critical, in the taxonomy's order
SEVERITY_IDS = {name: severity_rank(name) + 1 for name in SEVERITIES}


def ms(value: datetime | None) -> int | None:
    """Epoch milliseconds; None (dropped from the record) when the source had no time."""
    return None if value is None else int(value.timestamp() * 1000)


def drop_empty(value: Any) -> Any:
    """OCSF allows no nulls: drop None and empty containers, recursively (a container emptied
    by the drop is dropped from a dict too). Written for speed: it runs on every exported row."""
    kind = type(value)
    if kind is dict:
        cleaned = {}
        for key, item in value.items():
            if item is None:
                continue
            if type(item) is dict or type(item) is list:
                item = drop_empty(item)
                if not item:
                    continue
            cleaned[key] = item
        return cleaned
    if kind is list:
        return [drop_empty(item) for item in value if item is not None]
    return value


@lru_cache(maxsize=256)
def described(source: str) -> tuple[str | None, str | None, str | None]:
    """(origin, agent, vendor) as the source's collector describes itself (the registry is
    static, so one look-up per source)."""
    collector = collector_for_source(source)
    if collector is None:
        return None, None, None
    return collector.origin, collector.agent, collector.vendor


def service_name(event: dict[str, Any]) -> str:
    """The API's owner: the provider the call acts on, else the agent or kind of source that
    recorded it (its collector says), else the source itself."""
    origin, agent, vendor = described(event["source"])
    return event.get("provider") or vendor or agent or origin or event["source"]
