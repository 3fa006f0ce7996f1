"""PowerShell PSReadLine history (`ConsoleHost_history.txt`).

One command a line, CRLF on Windows, an optional UTF-8 BOM, no time, cwd or exit code. A line
ending in a backtick continues on the next line (PSReadLine writes every line of a multi-line
command but the last with a trailing backtick): the backtick is dropped and the lines joined
with a newline, as atuin's importer does. No time: `time_precision` "none", order in `seq`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from agentaudit.collectors.base import (
    APPDATA,
    XDG_DATA,
    Collector,
    Line,
    Location,
    Output,
    SourceInput,
)
from agentaudit.schema import new_event, raw_json, text_column

_BOM = b"\xef\xbb\xbf"


class PSReadLineHistory(Collector):
    name = "shell.powershell"
    source = "shell.powershell"
    version = "1"
    description = "PowerShell PSReadLine history (ConsoleHost_history.txt)"
    origin = "shell"
    locations = (
        Location(
            "PowerShell history",
            (f"{XDG_DATA}/powershell/PSReadLine",),
            ("ConsoleHost_history.txt",),
            platforms=("linux", "darwin"),
        ),
        Location(
            "PowerShell history",
            (f"{APPDATA}/Microsoft/Windows/PowerShell/PSReadLine",),
            ("ConsoleHost_history.txt",),
            platforms=("win32",),
        ),
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        lowered = path.name.lower()
        other_shell = any(name in lowered for name in ("zsh", "bash", "fish"))
        return lowered.endswith("_history.txt") and not other_shell and not head.startswith(b": ")

    def collect(self, src: SourceInput) -> Iterator[Output]:
        # Whole file each run (small): the n-th copy of a command counts from the start.
        whole = SourceInput(src.path, src.stream, hold_partial_line=src.hold_partial_line)
        seen: dict[bytes, int] = {}
        for first, body in _entries(whole.lines()):
            nth = seen[body] = seen.get(body, 0) + 1
            if first.offset < src.start_offset:
                continue
            command = body.decode("utf-8", "surrogateescape")
            yield new_event(
                self.source,
                # No time: the same command is only the same record within its own file.
                record_key=src.path.encode("utf-8", "surrogateescape")
                + b"\x1f"
                + body
                + b"\x1f%d" % nth,
                source_path=src.path,
                source_offset=first.offset,
                seq=first.number,
                parser_version=self.parser_version,
                time=None,
                time_precision="none",
                agent="unknown",
                kind="process",
                tool_name="pwsh",
                command=text_column(command),
                status="unknown",
                raw=raw_json({"command": command}),
            )
        src.end_offset, src.end_line = whole.end_offset, whole.end_line


def _entries(lines: Iterator[Line]) -> Iterator[tuple[Line, bytes]]:
    first: Line | None = None
    parts: list[bytes] = []
    for line in lines:
        data = (
            line.data[len(_BOM) :] if line.offset == 0 and line.data.startswith(_BOM) else line.data
        )
        if first is None:
            if not data.strip():
                continue  # blank lines are not commands
            first = line
        if data.endswith(b"`"):
            parts.append(data[:-1])
            continue
        parts.append(data)
        yield first, b"\n".join(parts)
        first, parts = None, []
    if first is not None:
        yield first, b"\n".join(parts)
