"""zsh history, with or without EXTENDED_HISTORY (`: <start>:<elapsed>;<command>`).

Follows zsh 5.9 `Src/hist.c`: a line ending in a backslash continues on the next line (the
backslash becomes a newline), the writer's extra space after trailing backslashes is dropped,
and bytes are unmetafied (0x83 then byte ^ 0x20) before UTF-8 decoding. Invalid UTF-8 is
kept losslessly with surrogate escapes in `raw`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentaudit.collectors.base import Collector, Line, Location, Output, SourceInput
from agentaudit.schema import Quarantined, new_event, parse_time, raw_json, text_column

_HEADER = re.compile(rb"^:\s*(-?\d{1,20}):(-?\d{1,20});")  # bounded: int() refuses 4300 digits
_META = 0x83


def unmetafy(data: bytes) -> bytes:
    if _META not in data:
        return data
    out = bytearray()
    it = iter(data)
    for byte in it:
        if byte == _META:
            nxt = next(it, None)
            if nxt is not None:
                out.append(nxt ^ 0x20)
        else:
            out.append(byte)
    return bytes(out)


class ZshHistory(Collector):
    name = "shell.zsh"
    source = "shell.zsh"
    version = "1"
    description = "zsh history file (EXTENDED_HISTORY or plain)"
    origin = "shell"
    locations = (Location("zsh history", ("${ZDOTDIR:-~}",), (".zsh_history", ".zhistory")),)

    def sniff(self, path: Path, head: bytes) -> bool:
        return bool(_HEADER.match(head)) or "zsh" in path.name.lower() or path.name == ".zhistory"

    def collect(self, src: SourceInput) -> Iterator[Output]:
        # Whole file each run (history files are small): a resumed run counts the n-th copy
        # of a repeated command from the start, so its id is the same as in a full read.
        seen: dict[bytes, int] = {}
        for first, body in _entries(src.lines(from_start=True)):
            nth = seen[body] = seen.get(body, 0) + 1
            if first.offset < src.start_offset:
                continue
            header = _HEADER.match(body)
            if header and not body[header.end() :]:
                yield Quarantined(
                    "history header with no command", body, first.number, first.offset
                )
                continue
            yield self._event(first, body, src.path, nth)

    def _event(self, first: Line, entry: bytes, path: str, nth: int) -> dict[str, Any]:
        header = _HEADER.match(entry)
        start = elapsed = None
        body = entry
        if header:
            start, elapsed = int(header.group(1)), int(header.group(2))
            body = entry[header.end() :]
        elif body.startswith(b"\\:"):
            body = body[1:]  # without EXTENDED_HISTORY zsh writes a leading `:` as `\:`
        command = unmetafy(body).decode("utf-8", "surrogateescape")
        when = parse_time(start) if start is not None and start >= 0 else None
        record = {"start": start, "elapsed": elapsed, "command": command}
        return new_event(
            self.source,
            # Identical entries are distinct commands: the n-th copy gets its own id.
            # Untimed entries are only the same command within their own file.
            record_key=entry
            + b"\x1f%d" % nth
            + (b"" if header else path.encode("utf-8", "surrogateescape")),
            source_path=path,
            source_offset=first.offset,
            seq=first.number,
            parser_version=self.parser_version,
            time=when,
            time_precision="s" if when else "none",
            agent="unknown",
            kind="process",
            tool_name="zsh",
            command=text_column(command),
            status="unknown",
            raw=raw_json(record),
        )


def _entries(lines: Iterator[Line]) -> Iterator[tuple[Line, bytes]]:
    """Join continuation lines into entries, as zsh's readhistline does."""
    first: Line | None = None
    parts: list[bytes] = []
    for line in lines:
        if first is None:
            first = line
        data = line.data
        if data.endswith(b"\\"):
            parts.append(data[:-1] + b"\n")
            continue
        parts.append(data)
        entry = b"".join(parts)
        stripped = entry.rstrip(b" ")
        if stripped.endswith(b"\\") and len(stripped) < len(entry):
            entry = entry[:-1]  # the writer added one space after trailing backslashes
        if entry:
            yield first, entry
        first, parts = None, []
    if first is not None and parts:
        yield first, b"".join(parts)
