"""bash history (`~/.bash_history`), with or without HISTTIMEFORMAT timestamps.

With HISTTIMEFORMAT every entry is preceded by `#<epoch>`, and "history timestamps delimit
history entries, making multi-line entries possible" (bash manual): all lines up to the next
timestamp line are one command (`lithist` loops, heredocs, multi-line quoted arguments). A
`#<digits>` line is a timestamp only when the file uses timestamps; otherwise, like `#comment`,
it is a command. Without timestamps every line is one command, with no time
(`time_precision` "none") and its order kept in `seq`. Bytes that are not UTF-8 are kept
losslessly (surrogate escapes) in `raw`.

The whole file is re-read on every run (history files are small) so that grouping and the
n-th-copy count of a repeated command are the same whether a run starts at 0 or resumes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from agentaudit.collectors.base import Collector, Line, Location, Output, SourceInput
from agentaudit.schema import new_event, parse_time, raw_json, text_column

_TIMESTAMP = re.compile(rb"^#(\d{1,20})$")  # more digits: no time (int() refuses 4300)


class BashHistory(Collector):
    name = "shell.bash"
    source = "shell.bash"
    version = "1"
    description = "bash history file (with HISTTIMEFORMAT `#<epoch>` lines or plain)"
    origin = "shell"
    locations = (Location("bash history", ("~",), (".bash_history",)),)

    def sniff(self, path: Path, head: bytes) -> bool:
        lowered = path.name.lower()
        if "bash" in lowered and "history" in lowered:
            return True
        other_shell = any(name in lowered for name in ("zsh", "fish", "powershell", "consolehost"))
        return not other_shell and (
            lowered.endswith("sh_history") or bool(_TIMESTAMP.match(head.split(b"\n", 1)[0]))
        )

    def collect(self, src: SourceInput) -> Iterator[Output]:
        whole = SourceInput(src.path, src.stream, hold_partial_line=src.hold_partial_line)
        lines = list(whole.lines())
        src.end_offset, src.end_line = whole.end_offset, whole.end_line
        timestamped = any(_TIMESTAMP.match(line.data) for line in lines)
        entries = _timestamped_entries(lines) if timestamped else _plain_entries(lines)
        seen: dict[tuple[int | None, bytes], int] = {}
        for epoch, first, body in entries:
            if not body.strip():
                continue  # a timestamp with no command, or a blank line
            nth = seen[(epoch, body)] = seen.get((epoch, body), 0) + 1
            if first.offset < src.start_offset:
                continue  # already ingested by an earlier run; counted for the n-th copy
            command = body.decode("utf-8", "surrogateescape")
            when = parse_time(epoch) if epoch is not None else None
            yield new_event(
                self.source,
                record_key=_key(epoch, body, nth, src.path),
                source_path=src.path,
                source_offset=first.offset,
                seq=first.number,
                parser_version=self.parser_version,
                time=when,
                time_precision="s" if when else "none",
                agent="unknown",
                kind="process",
                tool_name="bash",
                command=text_column(command),
                status="unknown",
                raw=raw_json({"time": epoch, "command": command}),
            )


def _plain_entries(lines: list[Line]) -> Iterator[tuple[int | None, Line, bytes]]:
    """One command a line; blank lines are not commands."""
    for line in lines:
        if line.data.strip():
            yield None, line, line.data


def _timestamped_entries(lines: list[Line]) -> Iterator[tuple[int | None, Line, bytes]]:
    """Lines grouped from one `#<epoch>` line to the next; lines before the first stand alone."""
    epoch: int | None = None
    first: Line | None = None
    body: list[bytes] = []
    seen_timestamp = False
    for line in lines:
        stamp = _TIMESTAMP.match(line.data)
        if stamp:
            if first is not None:
                yield epoch, first, b"\n".join(body)
            epoch, first, body, seen_timestamp = int(stamp.group(1)), None, [], True
            continue
        if not seen_timestamp:  # a desynchronised head: no timestamp yet, one line each
            if line.data.strip():
                yield None, line, line.data
            continue
        if first is None:
            first = line
        body.append(line.data)
    if first is not None:
        yield epoch, first, b"\n".join(body)


def _key(epoch: int | None, body: bytes, nth: int, path: str) -> bytes:
    """A timed entry is the same command in any copy of the file; an untimed one is only
    the same within its own file (two machines' `ls` are two commands)."""
    where = b"" if epoch is not None else path.encode("utf-8", "surrogateescape")
    return b"%d\x1f%s\x1f%s\x1f%d" % (epoch if epoch is not None else -1, where, body, nth)
