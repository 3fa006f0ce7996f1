"""What every collector is: one input format in, canonical events (or quarantine records) out.

A collector knows its format and `agentaudit.schema`, nothing else: no DuckDB, no rules, no
alerting. It never raises on bad input; it yields `Quarantined` with the position and reason.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, NamedTuple

import msgspec

from agentaudit.schema import EventRow, Quarantined

Output = EventRow | Quarantined


class Line(NamedTuple):  # a named tuple: built per line, 3x cheaper than a frozen dataclass
    number: int  # 1-based line number in the file
    offset: int  # byte offset of the line's first byte
    data: bytes  # without the trailing newline


class SourceInput:
    """One file (or stream) handed to a collector, possibly from a checkpointed offset.

    `end_offset` is how far the collector has consumed: the ingest loop stores it as the
    checkpoint, so a final line without a newline can be held back until it is complete.
    """

    def __init__(
        self,
        path: str,
        stream: BinaryIO,
        *,
        start_offset: int = 0,
        start_line: int = 0,
        hold_partial_line: bool = False,
        max_bytes: int | None = None,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes  # stop at a line boundary past this many bytes (tailing)
        self.stream = stream
        self.start_offset = start_offset
        self.start_line = start_line
        self.hold_partial_line = hold_partial_line
        self.end_offset = start_offset
        self.end_line = start_line
        # the line being parsed and where it ends: `guarded_collect` resumes after it
        self.current: Line | None = None
        self.current_end = start_offset

    @classmethod
    def from_bytes(cls, path: str, data: bytes, **kwargs: Any) -> SourceInput:
        import io

        return cls(path, io.BytesIO(data), **kwargs)

    def lines(self, *, from_start: bool = False) -> Iterator[Line]:
        """Lines from start_offset (or the file's start); the last unterminated line is held
        back when asked to."""
        begin, number = (0, 0) if from_start else (self.start_offset, self.start_line)
        self.stream.seek(begin)
        offset = begin
        for data in self.stream:
            if self.max_bytes is not None and offset - self.start_offset >= self.max_bytes:
                break
            complete = data.endswith(b"\n")
            if not complete and self.hold_partial_line:
                break
            number += 1
            body = data[:-1] if complete else data
            if body.endswith(b"\r"):
                body = body[:-1]
            self.current, self.current_end = Line(number, offset, body), offset + len(data)
            yield self.current
            offset += len(data)
            self.end_offset, self.end_line = offset, number
        self.current = None

    def resume_after_current(self) -> None:
        """Start the next `lines()` after the line being parsed (a parser error skips it)."""
        assert self.current is not None
        if self.max_bytes is not None:
            self.max_bytes = max(0, self.max_bytes - (self.current_end - self.start_offset))
        self.start_offset = self.end_offset = self.current_end
        self.start_line = self.end_line = self.current.number
        self.current = None

    def read_all(self) -> bytes:
        """The whole remaining input (for formats that are one JSON document)."""
        self.stream.seek(self.start_offset)
        data = self.stream.read()
        self.end_offset = self.start_offset + len(data)
        self.end_line = self.start_line + data.count(b"\n")
        return data


class Location(NamedTuple):
    """Where a collector's files are by default (`ingest --discover` looks there).

    A root is a path with `~` (the home directory), `{cwd}`, `{hooks}` (agentaudit's hook
    logs), `{data}` (agentaudit's data directory), `$VAR` (each comma-separated entry of an
    environment variable; none when unset) or `${VAR:-default}` at its start. A root that
    names a file (a variable set to the log file itself) is that file.
    """

    label: str  # what the user sees: "Claude Code transcripts"
    roots: tuple[str, ...]
    patterns: tuple[str, ...]  # globs below each root
    skip: tuple[str, ...] = ()  # directory names whose files are not this format
    # `sys.platform` values it applies to (linux, darwin, win32); empty: every platform
    platforms: tuple[str, ...] = ()


# Roots the platforms' conventions name (a `Location` root starts with one of these)
XDG_DATA = "${XDG_DATA_HOME:-~/.local/share}"
XDG_CONFIG = "${XDG_CONFIG_HOME:-~/.config}"
XDG_CACHE = "${XDG_CACHE_HOME:-~/.cache}"
MAC_SUPPORT = "~/Library/Application Support"
MAC_CACHES = "~/Library/Caches"
APPDATA = "${APPDATA:-~/AppData/Roaming}"
LOCALAPPDATA = "${LOCALAPPDATA:-~/AppData/Local}"


class Collector(ABC):
    """One source format. Subclasses set the class attributes and implement `collect`.

    Every other layer asks the registry (`agentaudit.collectors`) what a source is, through
    these attributes: never by matching its name.
    """

    name: ClassVar[str]  # registry name, used by `ingest --source NAME`
    source: ClassVar[str]  # value of the canonical `source` column
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    # Tailing by offset is only safe for append-only line formats.
    incremental: ClassVar[bool] = True
    origin: ClassVar[str]  # agent, shell, provider or agentaudit (agentaudit.taxonomy.ORIGINS)
    agent: ClassVar[str | None] = None  # whose records: an id of agentaudit.taxonomy.AGENTS
    vendor: ClassVar[str | None] = None  # whose audit log: an id of agentaudit.taxonomy.PROVIDERS
    locations: ClassVar[tuple[Location, ...]] = ()  # default places of its files
    # `collect` yields one output per record of one `{"<key>": [...]}` document: a big file can
    # be cut into chunks of records read in parallel (agentaudit/ingest/parallel.py).
    splittable: ClassVar[bool] = False
    # Which OTLP records `agentaudit serve` hands this collector (see `OtlpInterest`).
    otlp: ClassVar[OtlpInterest | None] = None

    @property
    def parser_version(self) -> str:
        return f"{self.name}/{self.version}"

    @abstractmethod
    def sniff(self, path: Path, head: bytes) -> bool:
        """Whether this file looks like this collector's format (path and first bytes)."""

    @abstractmethod
    def collect(self, src: SourceInput) -> Iterator[Output]:
        """Yield canonical events and quarantine records; never raise on bad input."""

    def companion(self, path: Path) -> str | None:
        """Why a file that lives beside this format's files holds no events of its own
        (metadata read with them, bookkeeping), or None. Ingest reports such a file as a
        companion instead of quarantining it as unrecognised."""
        return None


def guarded_collect(collector: Collector, src: SourceInput) -> Iterator[Output]:
    """`collector.collect`, where an exception costs one record, not the file.

    A parser bug that escapes a collector becomes one quarantined record at the line being
    parsed, and a line reader resumes at the next line (a collector that joins lines loses
    what it held); a document reader stops there, its records before the error kept.
    """
    while True:
        src.current = None
        try:
            yield from collector.collect(src)
            return
        except Exception as exc:  # any parser bug: the run goes on
            reason = f"parser error ({type(exc).__name__}): {str(exc)[:300]}"
            bad = src.current
            if bad is None:
                yield Quarantined(f"{reason}; the rest of the document is not read", b"")
                return
            yield Quarantined(reason, bad.data, bad.number, bad.offset)
            src.resume_after_current()


class JSONTooDeep(ValueError):
    """Nesting beyond what the decoders recurse into: a reason to quarantine, not a crash."""


_DECODER = msgspec.json.Decoder()


def loads_json(data: bytes | str) -> Any:
    """`json.loads`, three times faster on the common case: msgspec's decoder (exact big
    integers, same objects), and for anything it refuses the standard library's, which
    accepts more (NaN, lone surrogate escapes, a BOM) and raises the errors we report.
    Nesting too deep for either is a ValueError like any other invalid JSON."""
    try:
        return _DECODER.decode(data)
    except (msgspec.MsgspecError, ValueError):
        pass
    except RecursionError:
        raise JSONTooDeep("JSON nested too deeply") from None
    try:
        return json.loads(data)
    except RecursionError:
        raise JSONTooDeep("JSON nested too deeply") from None


def decode_json_line(line: Line) -> tuple[list[Any], str | None]:
    """Decode one JSON line. Returns (objects, problem).

    Recovers what real agent logs damage: runs of NUL bytes, and two records spliced with no
    newline (`}{`). Never decodes with errors ignored: invalid UTF-8 is a reason to quarantine.
    """
    data = line.data.replace(b"\x00", b"").strip()
    if not data:
        return [], None if not line.data else "only NUL bytes"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], f"invalid UTF-8 at byte {exc.start}"
    try:
        return [loads_json(text)], None
    except JSONTooDeep as exc:
        return [], str(exc)
    except json.JSONDecodeError as exc:
        recovered = _split_spliced(text)
        if recovered:
            return recovered, None
        return [], f"invalid JSON: {exc.msg} at column {exc.colno}"
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        return [], f"invalid JSON: {str(exc)[:200]}"


_FIRST_KEY = re.compile(r'\{\s*"([^"\\]{1,64})"\s*:')
MAX_SPLICES = 16  # records tried per spliced line: bounded, so a damaged line costs linear time


def _split_spliced(text: str) -> list[Any]:
    """Objects from `{"k":...` + `{"k":...}` (a record cut short and the next one written on
    the same line, or two whole records with no newline): the line is cut where its first
    key opens a record again, each piece that parses whole is kept (a truncated head is
    lost), and a piece that does not parse is joined to the next (the key was nested)."""
    first = _FIRST_KEY.match(text)
    if first is None:
        return []
    opening = re.compile(r'\{\s*"' + re.escape(first.group(1)) + r'"\s*:')
    cuts = [m.start() for m in opening.finditer(text, 1)]
    if not cuts or len(cuts) > MAX_SPLICES:
        return []
    out: list[Any] = []
    start = 0
    for end in [*cuts, len(text)]:
        try:
            obj = loads_json(text[start:end])
        except ValueError:
            if start == 0:
                start = end  # the truncated head: dropped
            continue  # otherwise the cut was inside a record: joined with the next piece
        out.append(obj)
        start = end
    return out if out and all(isinstance(o, dict) for o in out) else []


@dataclass(frozen=True)
class OtlpInterest:
    """The OTLP records a collector reads, declared on the class (`otlp = OtlpInterest(...)`).

    `agentaudit serve` splits each request into records (a log record, a metric data point,
    a span) and hands each to the collector whose declaration matches it most specifically:
    a record `names` prefix (log `event.name` / event name / string body, metric name, span
    name; the longest wins), then an attribute key in `attributes`, then a `scopes` prefix
    (instrumentation scope name), then a `services` prefix (resource `service.name`). The
    collector receives the record as a one-record OTLP/JSON request line (`{"resourceLogs":
    ...}`, `{"resourceMetrics": ...}` or `{"resourceSpans": ...}`, ids in hex, enums as
    integers) and must yield an event or a `Quarantined` for it: a record it yields nothing
    for is reported to the client as rejected.
    """

    signals: tuple[str, ...] = ("logs",)  # logs, metrics, traces
    names: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
