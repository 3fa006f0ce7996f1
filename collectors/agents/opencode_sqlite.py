"""opencode's SQLite store: `~/.local/share/opencode/opencode.db` (`$XDG_DATA_HOME`, `$OPENCODE_DB`).

Tables `session`, `message` and `part`, each row's `data` a JSON object without the ids (they
are the row's columns). Opened read-only (the store is in WAL mode and opencode may be
writing): a SQLite file is read whole each time, and stable ids make re-reads free. Parts are
mapped in `_opencode.py`: one row per prompt, reply and tool call, with the call's result.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
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

_SQLITE = b"SQLite format 3\x00"


class OpencodeSqlite(Collector):
    name = "opencode.db"
    source = "opencode.db"
    version = "1"
    description = "opencode's SQLite store (~/.local/share/opencode/opencode*.db)"
    origin = "agent"
    agent = "opencode"
    locations = (Location("OpenCode database", (f"{XDG_DATA}/opencode",), ("opencode*.db",)),)
    incremental = False

    def sniff(self, path: Path, head: bytes) -> bool:
        return (
            head.startswith(_SQLITE) and path.name.startswith("opencode") and path.suffix == ".db"
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        # New rows sit in the -wal file until opencode checkpoints, so the .db itself may not
        # change: no checkpoint is kept (offset 0) and the store is read again every time.
        src.end_offset = 0
        try:
            rows = _read(src.path)
        except sqlite3.Error as exc:
            yield Quarantined(f"not a readable opencode store: {exc}", b"", None, 0)
            return
        sessions, messages, parts = rows
        for number, (part_id, message_id, session_id, created, data) in enumerate(parts, 1):
            try:
                part = loads_json(data)
            except ValueError as exc:
                yield Quarantined(
                    f"part {part_id}: invalid JSON: {exc}", str(data).encode()[:4096], number
                )
                continue
            message = messages.get(message_id, {})
            columns = part_columns(part, message.get("role")) if isinstance(part, dict) else None
            if columns is None:
                continue
            time = millis(created)
            row = {
                "source_path": src.path,
                "seq": number,
                "parser_version": self.parser_version,
                "time": time,
                "time_precision": "ms" if time else "none",
                **session_columns(sessions.get(session_id, {"id": session_id})),
                **message_columns(message),
                **columns,
                "raw": raw_json(
                    {"id": part_id, "messageID": message_id, "sessionID": session_id, **part}
                ),
            }
            yield new_event(self.source, f"{session_id}:{part_id}", **row)


def _read(path: str) -> tuple[dict[str, Any], dict[str, Any], list[tuple[Any, ...]]]:
    for uri in (f"file:{path}?mode=ro", f"file:{path}?immutable=1"):
        try:
            with closing(sqlite3.connect(uri, uri=True)) as con:
                sessions = {
                    row[0]: {
                        "id": row[0],
                        "parent_id": row[1],
                        "directory": row[2],
                        "version": row[3],
                    }
                    for row in con.execute("SELECT id, parent_id, directory, version FROM session")
                }
                messages = {}
                for message_id, data in con.execute("SELECT id, data FROM message"):
                    try:
                        messages[message_id] = loads_json(data)
                    except ValueError:
                        messages[message_id] = {}
                parts = con.execute(
                    "SELECT id, message_id, session_id, time_created, data FROM part "
                    "ORDER BY time_created, id"
                ).fetchall()
                return sessions, messages, parts
        except sqlite3.OperationalError:
            if uri.endswith("immutable=1"):
                raise
    raise sqlite3.OperationalError("unreachable")
