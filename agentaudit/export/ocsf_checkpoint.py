"""A signed chain checkpoint as an OCSF 1.8.0 Event Log Activity record (1008, activity Other:
"Checkpoint"), so the export stream carries each one off the host (docs/ARCHITECTURE.md,
"Tamper-evident store"). The statement and signature are in `unmapped.agentaudit.checkpoint`:
with the published public key, a SIEM copy is enough to check a later `verify`."""

from __future__ import annotations

from typing import Any

from agentaudit.export.ocsf import OCSF_VERSION, ms

EVENT_LOG_ACTIVITY, OTHER = 1008, 99


def checkpoint_to_ocsf(statement: dict[str, Any], signature: str | None, at: Any) -> dict:
    number, size = statement["checkpoint"], statement["tree_size"]
    return {
        "class_uid": EVENT_LOG_ACTIVITY,
        "class_name": "Event Log Activity",
        "category_uid": 1,
        "category_name": "System Activity",
        "activity_id": OTHER,
        "activity_name": "Checkpoint",
        "type_uid": EVENT_LOG_ACTIVITY * 100 + OTHER,
        "type_name": "Event Log Activity: Other",
        "severity_id": 1,
        "severity": "Informational",
        "status_id": 1,
        "status": "Success",
        "time": ms(at),
        "message": f"agentaudit chain checkpoint {number}: {size} links, root "
        f"{statement['root_hash']}, signed by key {statement['key_id']}",
        "log_name": "agentaudit store",
        "log_provider": "agentaudit",
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "agentaudit", "vendor_name": "agentaudit"},
            "log_name": "agentaudit.chain",
            "log_provider": "agentaudit",
            "uid": f"chain-checkpoint-{statement['key_id']}-{number}",
            "profiles": [],
        },
        "unmapped": {"agentaudit": {"checkpoint": {**statement, "signature": signature}}},
    }
