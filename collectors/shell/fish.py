"""fish history (`~/.local/share/fish/fish_history`), parsed line by line.

The file looks like YAML but is not (fish-shell #2759, #4675, #5936: colons, backticks and `[`
break YAML parsers), so it is read the way fish reads it: `- cmd: <escaped>` starts an entry,
an indented `when: <epoch>` and `paths:` with indented `- <path>` items follow. fish escapes
only `\\n` (newline) and `\\\\` (backslash). Indentation is not fixed (fish 2.0 used three
spaces). Undecodable bytes are kept losslessly (surrogate escapes) in `raw`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from agentaudit.collectors.base import XDG_DATA, Collector, Line, Location, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json, text_column

_CMD = re.compile(rb"^- cmd: ?(.*)$")
_KEY = re.compile(rb"^\s+([A-Za-z_]+):\s*(.*)$")
_ITEM = re.compile(rb"^\s+- (.*)$")
_ESCAPE = re.compile(rb"\\(.)")


def unescape(value: bytes) -> bytes:
    """fish's history escaping: `\\n` is a newline, `\\\\` a backslash; others stay as written."""
    return _ESCAPE.sub(
        lambda m: b"\n" if m.group(1) == b"n" else b"\\" if m.group(1) == b"\\" else m.group(0),
        value,
    )


@dataclass
class _Entry:
    first: Line
    command: bytes
    when: bytes | None = None
    paths: list[bytes] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    in_paths: bool = False


class FishHistory(Collector):
    name = "shell.fish"
    source = "shell.fish"
    version = "1"
    description = "fish history file (`- cmd:` / `when:` / `paths:`)"
    origin = "shell"
    locations = (Location("fish history", (f"{XDG_DATA}/fish",), ("fish_history",)),)

    def sniff(self, path: Path, head: bytes) -> bool:
        lowered = path.name.lower()
        return ("fish" in lowered and "history" in lowered) or head.startswith(b"- cmd: ")

    def collect(self, src: SourceInput) -> Iterator[Output]:
        # Whole file each run (small): the n-th copy of a command counts from the start.
        whole = SourceInput(src.path, src.stream, hold_partial_line=src.hold_partial_line)
        seen: dict[tuple[bytes | None, bytes], int] = {}
        for item in _entries(whole.lines()):
            if isinstance(item, Quarantined):
                if (item.byte_offset or 0) >= src.start_offset:
                    yield item
                continue
            key = (item.when, item.command)
            nth = seen[key] = seen.get(key, 0) + 1
            if item.first.offset >= src.start_offset:
                yield self._event(item, nth, src.path)
        src.end_offset, src.end_line = whole.end_offset, whole.end_line

    def _event(self, entry: _Entry, nth: int, path: str) -> Output:
        command = unescape(entry.command).decode("utf-8", "surrogateescape")
        paths = [unescape(p).decode("utf-8", "surrogateescape") for p in entry.paths]
        digits = entry.when and entry.when.isdigit() and len(entry.when) <= 20
        epoch = int(entry.when) if digits else None
        when = parse_time(epoch) if epoch is not None else None
        record = {"cmd": command, "when": epoch, "paths": paths or None, **entry.extra}
        return new_event(
            self.source,
            # Without `when` the same command is only the same record within its own file.
            record_key=b"%s\x1f%s\x1f%s\x1f%d"
            % (
                entry.when or path.encode("utf-8", "surrogateescape"),
                b"" if entry.when else b"-",
                entry.command,
                nth,
            ),
            source_path=path,
            source_offset=entry.first.offset,
            seq=entry.first.number,
            parser_version=self.parser_version,
            time=when,
            time_precision="s" if when else "none",
            agent="unknown",
            kind="process",
            tool_name="fish",
            command=text_column(command),
            paths=[text_column(p) for p in paths] or None,
            status="unknown",
            raw=raw_json({k: v for k, v in record.items() if v is not None}),
        )


def _entries(lines: Iterator[Line]) -> Iterator[_Entry | Quarantined]:
    entry: _Entry | None = None
    for line in lines:
        data = line.data
        if not data.strip():
            continue
        cmd = _CMD.match(data)
        if cmd:
            if entry is not None:
                yield entry
            entry = _Entry(line, cmd.group(1))
            continue
        item = _ITEM.match(data)
        key = _KEY.match(data)
        if entry is not None and item and entry.in_paths:
            entry.paths.append(item.group(1))
        elif entry is not None and key:
            name, value = key.group(1).decode(), key.group(2)
            entry.in_paths = name == "paths"
            if name == "when":
                entry.when = value.strip()
            elif name != "paths":
                entry.extra[name] = value.decode("utf-8", "surrogateescape")
        else:
            yield Quarantined("not a fish history line", data, line.number, line.offset)
    if entry is not None:
        yield entry
