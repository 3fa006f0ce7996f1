"""Reading provider audit exports: the JSON containers they come in, streamed.

Not a collector (the registry skips `_` modules): the provider collectors share it. A file is
one of: gzip of any of these; a JSON document whose first key holds the list of records
(`{"Records": [...]}`, `{"Events": [...]}`, `{"value": [...]}`), streamed with ijson so memory
does not grow with the file; a JSON array (streamed too); one record a line (NDJSON, read from
the checkpointed offset); or one pretty-printed record. Panther's rule-test wrapper
(`{"log": {...}, "expected_alert": ...}`) is unwrapped to the record it carries.
"""

from __future__ import annotations

import re
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import ijson
from ijson.backends import python as ijson_python

from agentaudit.collectors.base import SourceInput, decode_json_line, loads_json
from agentaudit.collectors.providers._resync import record_marker, resync_records
from agentaudit.schema import Quarantined, raw_json

PEEK = 65536
WHOLE_DOCUMENT_BYTES = 16_000_000  # smaller documents are decoded whole, larger ones streamed
_GZIP = b"\x1f\x8b"


def env_hints(ids: list[tuple[str, str | None]] = (), names: list[str | None] = ()) -> list[str]:
    """The `env_hints` column: `kind=value` per id (looked up in the user's environments file
    at enrichment), `name=value` per resource name or tag (read for environment words)."""
    return [f"{kind}={value}" for kind, value in ids if value] + [f"name={n}" for n in names if n]


@dataclass(frozen=True, slots=True)
class Record:
    value: Any
    index: int  # order in the file
    line: int | None = None
    offset: int | None = None

    def quarantined(self, reason: str) -> Quarantined:
        """This record kept aside, with its position and why."""
        return Quarantined(reason, raw_json(self.value).encode(), self.line, self.offset)


def head_text(head: bytes) -> bytes:
    """The first bytes of a file as JSON text: gzip heads are inflated (as far as they go)."""
    if head.startswith(_GZIP):
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
        except zlib.error:
            return b""
    return head


def json_records(src: SourceInput, list_keys: tuple[str, ...]) -> Iterator[Record | Quarantined]:
    """Every record in the file, in order; what cannot be read is quarantined, never raised.
    A damaged gzip gives the records it still inflates to, then one quarantined record saying
    where the compressed data broke (with the compressed bytes from there)."""
    src.stream.seek(0)
    if src.stream.read(2) == _GZIP:
        with tempfile.SpooledTemporaryFile(max_size=INFLATED_IN_MEMORY) as inflated:
            problem = _inflate(src.stream, inflated)
            yield from _document_or_lines(inflated, list_keys, src, compressed=True)
        if problem is not None:
            reason, at = problem
            src.stream.seek(at)
            kept = src.stream.read(DAMAGED_TAIL_BYTES)
            yield Quarantined(reason, kept, None, at, {"damaged_file": True})
        _consumed_all(src)
        return
    yield from _document_or_lines(src.stream, list_keys, src, compressed=False)


INFLATED_IN_MEMORY = 64_000_000  # inflated bytes kept in memory; more go to a temporary file
DAMAGED_TAIL_BYTES = 4096


def _inflate(compressed: BinaryIO, out: BinaryIO) -> tuple[str, int] | None:
    """Inflate every gzip member into `out`; (reason, compressed offset) where it broke.
    Output is taken `INFLATE_STEP` bytes at a time, so corruption costs at most that much of
    what came before it. Zero padding after the last member is ignored, as gzip does."""
    compressed.seek(0)
    position, member_done = 0, False
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = b""
    while True:
        if not data:
            data = compressed.read(1 << 20)
            if not data:
                break
        if member_done and not data.strip(b"\x00"):
            position += len(data)
            data = b""
            continue
        before = len(data)
        try:
            out.write(inflater.decompress(data, INFLATE_STEP))
        except zlib.error as exc:
            return f"corrupt gzip data ({exc}); the records before it are kept", position
        data = inflater.unconsumed_tail
        member_done = inflater.eof
        if member_done:
            data = inflater.unused_data  # a next member (concatenated gzip) or padding
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        position += before - len(data)
    if not member_done:
        out.write(inflater.flush())
        return "truncated gzip file: the records before the cut are kept", position
    return None


INFLATE_STEP = 4096


def _document_or_lines(
    stream: BinaryIO, list_keys: tuple[str, ...], src: SourceInput, compressed: bool
) -> Iterator[Record | Quarantined]:
    stream.seek(0)
    peek = stream.read(PEEK).lstrip(b"\xef\xbb\xbf \t\r\n")
    keys = "|".join(re.escape(k) for k in list_keys)
    listed = re.match(rb'\{\s*"(' + keys.encode() + rb')"\s*:\s*\[', peek)
    if peek.startswith(b"[") or listed:
        prefix = f"{listed.group(1).decode()}.item" if listed else "item"
        key = listed.group(1).decode() if listed else None
        yield from _array_records(stream, key, prefix)
        if not compressed:
            _consumed_all(src)
        return
    if compressed:
        stream.seek(0)
        text = stream.read()
        yield from _lines(SourceInput.from_bytes(src.path, text), list_keys)
        return
    stream.seek(0)
    first_line = stream.readline()
    try:
        loads_json(first_line)
    except ValueError:
        if peek.startswith(b"{"):  # one pretty-printed document
            yield from _whole(src, list_keys)
            return
    yield from _lines(src, list_keys)


def _array_records(
    stream: BinaryIO, key: str | None, prefix: str
) -> Iterator[Record | Quarantined]:
    """The records of a `[...]` or `{"<key>": [...]}` document: decoded whole when small,
    streamed when big; past damage, resynchronised at the next record (`_resync`)."""
    whole = _small_document(stream, key)
    if whole is _DAMAGED:  # small: straight to resynchronisation (ijson's item builder has
        # no depth limit: deep nesting took gigabytes). Its records carry no offset, as those
        # of a whole or streamed document (the parallel path's chunks store the same rows).
        for found in _resynced(stream, skip=0):
            yield found if isinstance(found, Quarantined) else Record(found.value, found.index)
        return
    if whole is not None:
        yield from whole
        return
    for given, item in enumerate(_stream_items(stream, prefix)):
        if isinstance(item, Quarantined):
            yield from _resynced(stream, skip=given)
            return
        yield item


_DAMAGED = object()


def _resynced(stream: BinaryIO, skip: int) -> Iterator[Record | Quarantined]:
    """Records of a damaged document after the first `skip` (already given)."""
    stream.seek(0)
    marker = record_marker(stream.read(PEEK))
    if marker is None:
        stream.seek(0)
        head = stream.read(DAMAGED_TAIL_BYTES)
        yield Quarantined(f"invalid JSON document after record {skip}", head, None, 0)
        return
    index = 0
    for found in resync_records(stream, marker):
        if isinstance(found, Quarantined):
            yield found
            continue
        if index >= skip:
            yield Record(unwrap(found[0]), index, None, found[1])
        index += 1


def _small_document(stream: BinaryIO, key: str | None) -> list[Record] | object | None:
    """A document of at most `WHOLE_DOCUMENT_BYTES` decoded in one call (msgspec: about 8x
    faster than ijson's item stream, e.g. the parallel ingest's 8 MB chunks); `_DAMAGED` for
    a small one that does not decode (resynchronised); None for a bigger one (streamed)."""
    stream.seek(0)
    data = stream.read(WHOLE_DOCUMENT_BYTES + 1)
    if len(data) > WHOLE_DOCUMENT_BYTES:
        return None
    try:
        document = loads_json(data)
    except ValueError:
        return _DAMAGED
    items = document.get(key) if key and isinstance(document, dict) else document
    if not isinstance(items, list):
        return _DAMAGED
    return [Record(unwrap(item), index) for index, item in enumerate(items)]


def _stream_items(
    stream: BinaryIO, prefix: str, parser: Any = ijson
) -> Iterator[Record | Quarantined]:
    stream.seek(0)
    index = -1
    try:
        for index, item in enumerate(parser.items(stream, prefix, use_float=True)):
            yield Record(unwrap(item), index)
    except (ijson.JSONError, ValueError, EOFError, OSError) as exc:
        if parser is ijson and "integer overflow" in str(exc):
            # yajl's C parser stops at integers beyond 64 bits; ijson's Python one reads them:
            # the rest of the document from there, the records already given skipped
            for record in _stream_items(stream, prefix, ijson_python):
                if isinstance(record, Quarantined) or record.index > index:
                    yield record
            return
        # ijson stops at the damage: the records before it are kept, the rest is reported.
        yield Quarantined(f"invalid JSON after record {index + 1}: {exc}", b"", None, None)


def _whole(src: SourceInput, list_keys: tuple[str, ...]) -> Iterator[Record | Quarantined]:
    data = src.read_all()
    try:
        document = loads_json(data)
    except (ValueError, UnicodeDecodeError) as exc:
        if _later_lines_are_json(data):  # one record a line, the first one damaged
            yield from _lines(src, list_keys)
            return
        if record_marker(data[:PEEK]) is not None:
            yield from _resynced(src.stream, skip=0)
            return
        yield Quarantined(f"invalid JSON document: {exc}", data[:4096], 1, 0)
        return
    for index, item in enumerate(_expand(document, list_keys)):
        yield Record(item, index)


def _later_lines_are_json(data: bytes, looked_at: int = 20) -> bool:
    """Whether a line after the first of these bytes is a whole JSON object."""
    for line in data[:PEEK].split(b"\n")[1 : looked_at + 1]:
        if line.strip().startswith(b"{"):
            try:
                if isinstance(loads_json(line), dict):
                    return True
            except ValueError:
                continue
    return False


def _lines(src: SourceInput, list_keys: tuple[str, ...]) -> Iterator[Record | Quarantined]:
    index = 0
    for line in src.lines():
        if not line.data.strip():
            continue
        objects, problem = decode_json_line(line)
        if problem:
            yield Quarantined(problem, line.data, line.number, line.offset)
            continue
        for document in objects:
            for item in _expand(document, list_keys):
                yield Record(item, index, line.number, line.offset)
                index += 1


def _expand(document: Any, list_keys: tuple[str, ...]) -> Iterator[Any]:
    if isinstance(document, list):
        for item in document:
            yield unwrap(item)
        return
    if isinstance(document, dict):
        for key in list_keys:
            if isinstance(document.get(key), list):
                for item in document[key]:
                    yield unwrap(item)
                return
    yield unwrap(document)


def unwrap(item: Any) -> Any:
    """Panther's rule tests carry the record under `log`."""
    if isinstance(item, dict) and "panther_rule_id" in item and isinstance(item.get("log"), dict):
        return item["log"]
    return item


def _consumed_all(src: SourceInput) -> None:
    src.stream.seek(0, 2)
    src.end_offset = src.stream.tell()


def dig(record: Any, *path: str) -> Any:
    """record[a][b]... or None when any step is missing or not a mapping."""
    for key in path:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def first_text(*values: Any) -> str | None:
    """The first value that is a non-empty string (numbers are turned into text)."""
    for value in values:
        if isinstance(value, str):
            if value:
                return value
        elif isinstance(value, _NUMBERS) and not isinstance(value, bool):
            return str(value)
    return None


_NUMBERS = (int, float)  # a tuple: `int | float` would build a union object on every call


def normalize_keys(value: Any) -> Any:
    """Keys lower-cased without `_`, `@` or `-`, recursively: camelCase == snake_case here."""
    if isinstance(value, dict):
        return {re.sub(r"[_@\-]", "", str(k)).lower(): normalize_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize_keys(v) for v in value]
    return value
