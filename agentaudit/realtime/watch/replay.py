"""Replay a built-in scenario into watched files in real time (tests and benchmarks).

Each source record becomes one write at its own time (scaled by `speed`, gaps capped at
`max_gap`), into the file its real source writes: Cursor hook lines, zsh history entries
(a multi-line entry in one write, as zsh writes it) and the provider's audit-log document
(written whole, as a pull would store it). `variant` renames the session, volume and record
ids and `shift_to` moves every timestamp, so the same incident can be replayed many times
as new incidents.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agentaudit.scenarios import scenario_path
from agentaudit.schema import parse_time

SESSION = "8f1d2c3b-5a6e-4f70-9b1c-2d3e4f5a6b7c"
VOLUME = "3d2c42fb-6c1e-4a55-9d5f-8b7e2f0a9c13"
RECORD_PREFIX = "7b1e9c40-0000-4000-8000-"
TRIGGER = "volumeDelete"  # the first record that can page: the curl, from any source
_ZSH_HEADER = re.compile(r"^: (\d+):(\d+);")
_CREATED = re.compile(r'"createdAt": "([^"]+)"')
_LAST_IN_SECOND = timedelta(milliseconds=999)
_ZERO = timedelta(0)


@dataclass(frozen=True)
class ReplayRecord:
    time: datetime
    file: str  # file name inside the replay directory
    data: str  # undecodable bytes kept as surrogate escapes
    mode: str  # "append" or "replace"

    @property
    def is_trigger(self) -> bool:
        return TRIGGER in self.data


def _rename(text: str, variant: int | None) -> str:
    if variant is None:
        return text
    tag = f"{variant:08x}"
    return (
        text.replace(SESSION, SESSION[:-8] + tag)
        .replace(VOLUME, VOLUME[:-8] + tag)
        .replace(RECORD_PREFIX, RECORD_PREFIX[:-5] + tag[-4:] + "-")
    )


def pocketos_records(variant: int | None = None, shift_to: datetime | None = None):
    """The PocketOS incident as timed writes, in time order."""
    base = scenario_path("pocketos")
    records: list[ReplayRecord] = []
    for line in (base / "cursor-hooks.jsonl").read_text().splitlines():
        when = parse_time(json.loads(line)["received_at"])
        records.append(ReplayRecord(when, "cursor-hooks.jsonl", _rename(line, variant), "append"))
    entry: list[str] = []
    for line in (base / "zsh_history").read_bytes().decode("utf-8", "surrogateescape").split("\n"):
        if not line:
            continue
        entry.append(line)
        if line.endswith("\\"):
            continue
        text = "\n".join(entry)
        entry = []
        start = datetime.fromtimestamp(int(_ZSH_HEADER.match(text).group(1)), UTC)
        records.append(ReplayRecord(start, "zsh_history", _rename(text, variant), "append"))
    railway = (base / "railway-auditlogs.json").read_text()
    last = max(parse_time(t) for t in _CREATED.findall(railway))
    records.append(
        ReplayRecord(last, "railway-auditlogs.json", _rename(railway, variant), "replace")
    )
    # zsh keeps whole seconds: the line was written somewhere in that second, and an agent's
    # pre-execution hook fires before its command starts, so it goes last within its second.
    records.sort(key=lambda r: r.time + (_LAST_IN_SECOND if r.file == "zsh_history" else _ZERO))
    if shift_to is not None:
        offset = shift_to - records[0].time
        records = [_shifted(r, offset) for r in records]
    return records


def _shifted(record: ReplayRecord, offset: timedelta) -> ReplayRecord:
    text = record.data
    if record.file == "cursor-hooks.jsonl":
        obj = json.loads(text)
        obj["received_at"] = _iso(parse_time(obj["received_at"]) + offset)
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    elif record.file == "zsh_history":
        text = _ZSH_HEADER.sub(
            lambda m: f": {int(m.group(1)) + round(offset.total_seconds())}:{m.group(2)};", text
        )
    else:
        text = _CREATED.sub(
            lambda m: f'"createdAt": "{_iso(parse_time(m.group(1)) + offset)}"', text
        )
    return ReplayRecord(record.time + offset, record.file, text, record.mode)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_record(directory: Path, record: ReplayRecord, name: str | None = None) -> float:
    """One write, as its source makes it; returns time.monotonic() right after it."""
    data = record.data.encode("utf-8", "surrogateescape")
    path = directory / (name or record.file)
    if record.mode == "replace":  # a new document replaces the old one atomically
        tmp = directory.parent / f".{path.name}.replay-tmp"  # outside the watched directory
        tmp.write_bytes(data)
        tmp.rename(path)
    else:
        with path.open("ab") as fh:
            fh.write(data + b"\n")
    return time.monotonic()


def replay(
    directory: Path,
    records: list[ReplayRecord],
    *,
    speed: float = 1.0,
    max_gap: float = 1.0,
    on_write: Callable[[ReplayRecord, float], None] | None = None,
    names: dict[str, str] | None = None,
) -> list[float]:
    """Write the records at their (scaled, capped) times; returns each write's monotonic time."""
    written: list[float] = []
    due = time.monotonic()
    for previous, record in zip([None, *records[:-1]], records, strict=True):
        if previous is not None:
            gap = (record.time - previous.time).total_seconds() / speed
            due += min(max(gap, 0.0), max_gap)
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        at = write_record(directory, record, (names or {}).get(record.file))
        written.append(at)
        if on_write:
            on_write(record, at)
    return written
