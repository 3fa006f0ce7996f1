"""Records out of a damaged JSON document: cut at each record's start, keep every piece that
parses, quarantine the others with their byte offset.

Not a collector (the registry skips `_` modules). Used once a document failed to decode whole
(or its stream stopped at the damage): a changed byte, a cut line or a truncated file then costs
the record it is in, not every record after it. Records of one export begin with the same key
(CloudTrail's `{"eventVersion"`); the most common `{"<key>"` after `[` or `,` in the head is
taken as that marker. A piece that does not parse is joined with the next ones (the marker was
inside a record), at most `MAX_JOIN` times, so the work stays linear in the input.
Hand-written: no JSON library resumes after an error.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, BinaryIO

from agentaudit.collectors.base import loads_json
from agentaudit.schema import Quarantined

BLOCK_BYTES = 8_000_000
MAX_JOIN = 8  # pieces joined to one failing piece before it is quarantined
MAX_KEPT_BYTES = 1_000_000  # of one unreadable piece, kept in quarantine
_FIRST_KEYS = re.compile(rb'[\[,]\s*\{\s*"([^"\\]{1,64})"\s*:')
_TRAILER = re.compile(rb"[\s,\]}]*$")


def record_marker(head: bytes) -> bytes | None:
    """The first key of the records in this document (`{"eventVersion"`), or None."""
    keys = Counter(_FIRST_KEYS.findall(head))
    if not keys:
        return None
    return keys.most_common(1)[0][0]


def resync_records(stream: BinaryIO, marker_key: bytes) -> Iterator[tuple[Any, int] | Quarantined]:
    """(record, byte offset) for every piece that parses, in order; a Quarantined for each
    piece that does not. The stream is read from its start, `BLOCK_BYTES` at a time."""
    stream.seek(0)
    marker = re.compile(rb'\{\s*"' + re.escape(marker_key) + rb'"\s*:')
    carry, carry_offset, opened, pending = b"", 0, False, _Pending()
    while True:
        block = stream.read(BLOCK_BYTES)
        data = carry + block
        starts = [m.start() for m in marker.finditer(data)]
        if not opened:
            if not starts and block:
                carry = data
                continue
            head = data[: starts[0]] if starts else data
            opening = _OPENING.match(head)
            if opening is None or opening.end() < len(head):  # bytes before the first record
                yield from pending.add(head, 0)
            if not starts:
                yield from pending.flush()
                return
            data, carry_offset, opened = data[starts[0] :], starts[0], True
            starts = [s - starts[0] for s in starts]
        bounds = starts if block else [*starts, len(data)]
        for begin, end in itertools.pairwise(bounds):
            yield from pending.add(data[begin:end], carry_offset + begin)
        if not block:
            yield from pending.flush()
            return
        carry, carry_offset = data[bounds[-1] :], carry_offset + bounds[-1]


_OPENING = re.compile(rb'\s*(?:\xef\xbb\xbf)?\s*(?:\{\s*"[^"\\]{1,64}"\s*:\s*)?\[?\s*')
_CLOSING = re.compile(rb"\]\s*\}?\s*$")
_JUNK = b" \t\r\n,]}"


class _Pending:
    """Pieces that did not parse, waiting: joined with the next ones (the marker was inside
    a record), or quarantined together once a piece parses alone or `MAX_JOIN` is reached."""

    def __init__(self) -> None:
        self.pieces: list[tuple[bytes, int]] = []

    def add(self, piece: bytes, offset: int) -> Iterator[tuple[Any, int] | Quarantined]:
        record = _parse(piece)
        if record is not _BAD:
            yield from self.flush()
            yield record, offset
            return
        leading, end = _leading_record(piece)
        if leading is not _BAD:  # an intact record, then the damage (the next one's marker)
            yield from self.flush()
            yield leading, offset
            piece, offset = piece[end:], offset + end
        self.pieces.append((piece, offset))
        if len(self.pieces) == 1:
            return
        joined = _parse(b"".join(p for p, _ in self.pieces))
        if joined is not _BAD:
            yield joined, self.pieces[0][1]
            self.pieces = []
        elif len(self.pieces) > MAX_JOIN:
            yield from self.flush()

    def flush(self) -> Iterator[Quarantined]:
        if self.pieces:
            yield _quarantined(b"".join(p for p, _ in self.pieces), self.pieces[0][1])
            self.pieces = []


_BAD = object()


def _parse(piece: bytes) -> Any:
    """The record a piece holds (its trailing `,`, or the document's `]}` , dropped)."""
    trimmed = piece.rstrip()
    for candidate in (trimmed.rstrip(b","), _CLOSING.sub(b"", trimmed)):
        try:
            value = loads_json(candidate)
        except ValueError:
            continue
        return value if isinstance(value, dict) else _BAD
    try:  # a whole record followed by a few stray bytes (its comma changed): intact
        text = trimmed.decode("utf-8")
        value, end = json.JSONDecoder().raw_decode(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _BAD
    stray = text[end:].encode().strip(_JUNK)
    return value if isinstance(value, dict) and len(stray) <= 4 else _BAD


def _leading_record(piece: bytes) -> tuple[Any, int]:
    """The whole record a piece starts with and the byte where it ends, or (_BAD, 0)."""
    try:
        text = piece.decode("utf-8", "surrogateescape")  # damage after the record may be any
        value, end = json.JSONDecoder().raw_decode(text)
    except (ValueError, RecursionError):
        return _BAD, 0
    size = len(text[:end].encode("utf-8", "surrogateescape"))
    return (value, size) if isinstance(value, dict) else (_BAD, 0)


def _quarantined(piece: bytes, offset: int) -> Quarantined:
    kept = piece[:MAX_KEPT_BYTES]
    reason = "invalid JSON: unreadable record in a damaged document"
    if len(piece) > len(kept):
        reason += f" (first {len(kept)} of {len(piece)} bytes kept)"
    return Quarantined(reason, kept, None, offset)
