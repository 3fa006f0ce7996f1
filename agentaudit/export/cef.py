"""One ArcSight CEF:0 line per Detection Finding record, derived from the OCSF object.

Hand-written (ten lines of escaping) rather than a dependency: header fields escape `\\` and
`|`; extension values escape `\\`, `=` and newlines.
"""

from __future__ import annotations

from typing import Any

from agentaudit import __version__

CEF_SEVERITY = {0: 0, 1: 1, 2: 3, 3: 5, 4: 8, 5: 10, 6: 10, 99: 5}


def escape_header(value: str) -> str:
    return (
        str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    )


def escape_extension(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("=", "\\=")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def finding_to_cef(record: dict[str, Any]) -> str | None:
    if record.get("class_uid") != 2004:
        return None
    info = record["finding_info"]
    analytic = info.get("analytic") or {}
    users = [o["value"] for o in record.get("observables") or [] if o["type_id"] == 4]
    hosts = [o["value"] for o in record.get("observables") or [] if o["type_id"] == 1]
    session = next((t["value"] for t in info.get("tags") or [] if t["name"] == "session.id"), None)
    resources = [r.get("uid") for r in record.get("resources") or [] if r.get("uid")]
    extension = [
        ("rt", record["time"]),
        ("start", record.get("start_time")),
        ("end", record.get("end_time")),
        ("cnt", record.get("count")),
        ("suser", users[0] if users else None),
        ("shost", hosts[0] if hosts else None),
        ("msg", record.get("message")),
        ("externalId", info["uid"]),
        ("cat", record.get("type_name")),
        ("outcome", record.get("status")),
        ("reason", record.get("status_detail")),
        ("cs1Label", "sessionId" if session else None),
        ("cs1", session),
        ("cs2Label", "findingStatus"),
        ("cs2", record.get("status")),
        ("cs3Label", "ocsfTypeUid"),
        ("cs3", record["type_uid"]),
        ("cs4Label", "target" if resources else None),
        ("cs4", resources[0] if resources else None),
        ("cn1Label", "severityId"),
        ("cn1", record["severity_id"]),
    ]
    header = [
        "CEF:0",
        "agentaudit",
        "agentaudit",
        __version__,
        (analytic.get("uid") or "finding")[:1023],
        info.get("title") or record.get("message") or "finding",
        str(CEF_SEVERITY.get(record["severity_id"], 5)),
    ]
    ext = " ".join(f"{k}={escape_extension(v)}" for k, v in extension if v not in (None, ""))
    return "|".join([header[0], *(escape_header(h) for h in header[1:])]) + "|" + ext
