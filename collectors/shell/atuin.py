"""atuin's history database (`~/.local/share/atuin/history.db`, SQLite), opened read-only.

Columns (atuin migrations): `id`, `timestamp` and `duration` in nanoseconds (duration -1 when
unknown), `exit` (-1 unknown), `command`, `cwd`, `session`, `hostname` ("host:user"),
`deleted_at` (soft delete, ns), and since 2026 `author`, `author_kind` (1 user, 2 agent) and
`intent` (the agent's stated reason). Rows an agent wrote (`author_kind` 2) get `agent` set to
the author; the intent goes to `text`. Older databases without those columns are read too.

Not line-based: every run reads the whole table and the row `id` keeps it exactly-once. The
nanosecond time is kept whole in `raw` (the `time` column holds microseconds).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import XDG_DATA, Collector, Location, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, raw_json, text_column

_SQLITE = b"SQLite format 3\x00"
_AGENT_KIND = 2
_USER_KIND = 1
_DAMAGED = {"damaged_file": True}
_MIN_NS, _MAX_NS = 0, 253_402_300_799 * 10**9  # 1970 to 9999-12-31: what a datetime holds
_COLUMNS = (
    "id",
    "timestamp",
    "duration",
    "exit",
    "command",
    "cwd",
    "session",
    "hostname",
    "deleted_at",
    "author",
    "author_kind",
    "intent",
    "shell",
)


class AtuinHistory(Collector):
    name = "shell.atuin"
    source = "shell.atuin"
    version = "1"
    description = "atuin history.db (SQLite; exit codes, cwd, session, agent author)"
    origin = "shell"
    locations = (Location("Atuin history", (f"{XDG_DATA}/atuin",), ("history.db",)),)
    incremental = False

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(_SQLITE) and (
            "atuin" in str(path).lower() or (b"CREATE TABLE history" in head and b"session" in head)
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        try:
            with _readonly(src) as con:
                present = {_text(row[1]) for row in con.execute("PRAGMA table_info(history)")}
                if "command" not in present:
                    yield Quarantined("no atuin history table", b"", None, 0)
                    return
                columns = [c for c in _COLUMNS if c in present]
                query = f"SELECT rowid, {', '.join(columns)} FROM history ORDER BY timestamp, rowid"
                for row in con.execute(query):
                    values = dict(zip(columns, map(_text_or_value, row[1:]), strict=True))
                    yield self._event(values, row[0], src.path)
        except (sqlite3.Error, UnicodeDecodeError) as exc:  # sqlite3 decodes its schema text
            # the whole file is damaged, not one row: ingest reports it (exit 1)
            yield Quarantined(f"unreadable SQLite database: {exc}", b"", None, 0, _DAMAGED)

    def _event(self, row: dict[str, Any], rowid: int, path: str) -> Output:
        if not row.get("id") or not isinstance(row.get("timestamp"), int):
            return Quarantined("row without id or timestamp", raw_json(row).encode(), rowid, None)
        if not _MIN_NS <= row["timestamp"] <= _MAX_NS:
            return Quarantined("timestamp out of range", raw_json(row).encode(), rowid, None)
        command = _text(row.get("command"))
        host, _, user = (_text(row.get("hostname")) or "").partition(":")
        exit_code = row.get("exit")
        known_exit = isinstance(exit_code, int) and exit_code != -1
        author, kind = _text(row.get("author")), row.get("author_kind")
        agent = "unknown"
        if kind == _AGENT_KIND:
            agent = author or "unknown"
        elif kind == _USER_KIND:
            agent = "human"
        return new_event(
            self.source,
            record_key=str(row["id"]),
            source_path=path,
            source_offset=None,
            seq=rowid,
            parser_version=self.parser_version,
            time=_from_ns(row["timestamp"]),
            time_precision="us",
            host=host or None,
            os_user=user or None,
            agent=agent,
            session_id=_text(row.get("session")),
            kind="process",
            tool_name=_text(row.get("shell")) or "atuin",
            command=text_column(command),
            cwd=text_column(_text(row.get("cwd"))),
            text=text_column(_text(row.get("intent"))),
            exit_code=exit_code if known_exit else None,
            status=("success" if exit_code == 0 else "failure") if known_exit else "unknown",
            raw=raw_json(row),
        )


def _from_ns(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1000 / 1_000_000, tz=UTC)


def _text_or_value(value: Any) -> Any:
    return _text(value) if isinstance(value, bytes) else value


def _text(value: Any) -> str | None:
    """TEXT columns may hold bytes that are not UTF-8 (atuin stores what the shell gave it)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


@contextmanager
def _readonly(src: SourceInput) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the file, or to a private copy when it is only a stream."""
    copy = None
    path = src.path
    if not os.path.isfile(path):
        src.stream.seek(0)
        fd, copy = tempfile.mkstemp(suffix=".db")
        with os.fdopen(fd, "wb") as out:
            out.write(src.stream.read())
        path = copy
    con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    con.text_factory = bytes  # decode ourselves: invalid UTF-8 must not raise
    try:
        yield con
    finally:
        con.close()
        src.stream.seek(0, os.SEEK_END)
        src.end_offset = src.stream.tell()
        if copy:
            os.unlink(copy)
