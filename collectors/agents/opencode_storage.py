"""opencode's older JSON tree: `~/.local/share/opencode/storage/{session,message,part}/...`.

One file per record: `session/<projectID>/<ses>.json`, `message/<ses>/<msg>.json`,
`part/<msg>/<prt>.json`, each with its ids inside. A part file is read with its message file
(`message/<sessionID>/<messageID>.json`, for the role, model and cwd) and becomes the same row
the SQLite store gives (`_opencode.py`); a session file is one `session` row (title,
directory, version). Message files hold no event of their own: they are companions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.agents._opencode import (
    message_columns,
    millis,
    part_columns,
    session_columns,
)
from agentaudit.collectors.base import (
    XDG_DATA,
    Collector,
    Location,
    Output,
    SourceInput,
    loads_json,
)
from agentaudit.schema import Quarantined, new_event, raw_json


def _kind(path: Path) -> str | None:
    """`session`, `message` or `part` for a file of the tree, else None."""
    parts = path.parts
    if len(parts) >= 4 and parts[-4] == "storage" and path.suffix == ".json":
        return parts[-3] if parts[-3] in ("session", "message", "part") else None
    return None


class OpencodeStorage(Collector):
    name = "opencode.storage"
    source = "opencode.storage"
    version = "1"
    description = "opencode's JSON tree (~/.local/share/opencode/storage/{session,part}/...)"
    origin = "agent"
    agent = "opencode"
    locations = (
        Location(
            "OpenCode session files",
            (f"{XDG_DATA}/opencode/storage",),
            ("session/*/*.json", "part/*/*.json"),
        ),
    )
    incremental = False

    def sniff(self, path: Path, head: bytes) -> bool:
        kind = _kind(path)
        return kind in ("session", "part") and (b'"ses_' in head or b'"prt_' in head)

    def companion(self, path: Path) -> str | None:
        if _kind(path) == "message" and path.name.startswith("msg_"):
            return "an opencode message: read with its parts"
        return None

    def collect(self, src: SourceInput) -> Iterator[Output]:
        data = src.read_all()
        try:
            record = loads_json(data)
        except ValueError as exc:
            yield Quarantined(f"invalid JSON document: {exc}", data[:4096], None, 0)
            return
        if not isinstance(record, dict) or not record.get("id"):
            yield Quarantined("not an opencode record", data[:4096], None, 0)
            return
        path = Path(src.path)
        base = {
            "source_path": src.path,
            "seq": 0,
            "parser_version": self.parser_version,
            "raw": raw_json(record),
        }
        if _kind(path) == "session":
            time = millis((record.get("time") or {}).get("created"))
            row = {
                **base,
                **session_columns(record),
                "time": time,
                "time_precision": "ms" if time else "none",
            }
            row.update(
                kind="other", operation="session", status="unknown", text=record.get("title")
            )
            yield new_event(self.source, f"{record['id']}:session", **row)
            return
        message = _message(path, record)
        columns = part_columns(record, message.get("role"))
        if columns is None:
            return
        created = (message.get("time") or {}).get("created")
        time = millis(created)
        row = {
            **base,
            "time": time,
            "time_precision": "ms" if time else "none",
            **session_columns(_session(path, record.get("sessionID"))),
            **message_columns(message),
            **columns,
        }
        yield new_event(self.source, f"{record.get('sessionID')}:{record['id']}", **row)


def _message(part_path: Path, part: dict[str, Any]) -> dict[str, Any]:
    storage = part_path.parents[2]
    found = storage / "message" / str(part.get("sessionID")) / f"{part.get('messageID')}.json"
    return _load(found)


def _session(part_path: Path, session_id: Any) -> dict[str, Any]:
    for found in (part_path.parents[2] / "session").glob(f"*/{session_id}.json"):
        return _load(found)
    return {"id": session_id}


def _load(path: Path) -> dict[str, Any]:
    try:
        value = loads_json(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
