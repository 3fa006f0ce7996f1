"""PowerShell Start-Transcript files: a header, then `PS <cwd>> <command>` lines and output.

The header names the user, machine and start time. The start time (`yyyyMMddHHmmss`) is local
time with no zone, so it is kept in `raw` and the events carry no time (`time_precision`
"none", order in `seq`). Output lines are not commands and are not stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from agentaudit.collectors.base import Collector, Location, Output, SourceInput
from agentaudit.schema import new_event, raw_json, text_column

_BOM = b"\xef\xbb\xbf"
_PROMPT = re.compile(rb"^PS (?P<cwd>[^>]*)> (?P<command>.+)$")
_HEADER = re.compile(rb"^(?P<key>[A-Za-z ]+): ?(?P<value>.*)$")
_START = b"transcript start"


class PowerShellTranscript(Collector):
    name = "shell.powershell_transcript"
    source = "shell.powershell_transcript"
    version = "1"
    description = "PowerShell Start-Transcript text file (header and `PS <cwd>> command` lines)"
    origin = "shell"
    locations = (
        Location("PowerShell transcripts", ("~/Documents",), ("PowerShell_transcript.*.txt",)),
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        return _START in head[:200].lower()

    def collect(self, src: SourceInput) -> Iterator[Output]:
        whole = SourceInput(src.path, src.stream, hold_partial_line=src.hold_partial_line)
        header: dict[str, str] = {}
        in_header = False
        for line in whole.lines():
            data = line.data.removeprefix(_BOM) if line.offset == 0 else line.data
            if _START in data.lower():
                in_header, header = True, {}
                continue
            if in_header and _PROMPT.match(data):
                in_header = False  # a damaged closing row of stars must not hide the commands
            if in_header:
                if data.startswith(b"*****"):
                    in_header = not header  # the first row of stars opens, the next closes
                    continue
                field = _HEADER.match(data)
                if field:
                    key = field.group("key").decode().strip()
                    header[key] = field.group("value").decode("utf-8", "surrogateescape")
                continue
            prompt = _PROMPT.match(data)
            if not prompt or line.offset < src.start_offset:
                continue
            command = prompt.group("command").decode("utf-8", "surrogateescape")
            cwd = prompt.group("cwd").decode("utf-8", "surrogateescape")
            user = header.get("Username")
            yield new_event(
                self.source,
                record_key=b"%s\x1f%d\x1f%s"
                % (
                    header.get("Start time", "").encode("utf-8", "surrogateescape"),
                    line.offset,
                    data,
                ),
                source_path=src.path,
                source_offset=line.offset,
                seq=line.number,
                parser_version=self.parser_version,
                time=None,
                time_precision="none",
                host=(header.get("Machine") or "").split(" (")[0] or None,
                os_user=user,
                agent="unknown",
                kind="process",
                tool_name="powershell",
                command=text_column(command),
                cwd=text_column(cwd),
                status="unknown",
                raw=raw_json({"command": command, "cwd": cwd, "transcript": header}),
            )
        src.end_offset, src.end_line = whole.end_offset, whole.end_line
